package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// soakDuration is how long each backend is soaked: POLICYRESULTS_SOAK
// (e.g. 60s) or 5 s.
func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("POLICYRESULTS_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("POLICYRESULTS_SOAK: %v", err)
		}
		return d
	}
	if testing.Short() {
		return 2 * time.Second
	}
	return 5 * time.Second
}

// soakStats is what the soak clients saw.
type soakStats struct {
	mu       sync.Mutex
	requests int
	byStatus map[int]int
	byOp     map[string]int
	errors   []string
	// acked lists the status each acknowledged PATCH set, by issue.
	acked map[string][]string
}

func (s *soakStats) record(op string, status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.byStatus[status]++
	s.byOp[op]++
	if status >= 500 && len(s.errors) < 10 {
		s.errors = append(s.errors, fmt.Sprintf("%s: %d %.300s", op, status, body))
	}
}

// TestSoak runs 8 clients on loopback mixing reads (grid, issue, history,
// filters, compliance, metadata), triage (GET then PATCH with If-Match) and
// ingest for soakDuration per backend, and checks: no 5xx, every
// acknowledged PATCH is in the issue's history (no lost update), and
// goroutines and heap return to their level before the run.
func TestSoak(t *testing.T) {
	d := soakDuration(t)
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 4, 8)
		transport := &http.Transport{MaxIdleConnsPerHost: 16}
		hc := &http.Client{Transport: transport, Timeout: time.Minute}
		stats := &soakStats{byStatus: map[int]int{}, byOp: map[string]int{}, acked: map[string][]string{}}
		send := func(op, token, method, path, body string, header ...string) (int, http.Header, []byte) {
			req, _ := http.NewRequest(method, env.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "token "+token)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := hc.Do(req)
			if err != nil {
				stats.record(op, 599, []byte(err.Error()))
				return 599, nil, nil
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			stats.record(op, resp.StatusCode, raw)
			return resp.StatusCode, resp.Header, raw
		}
		base := "/api/orgs/" + org.Name + "/policyresults"
		statuses := []string{"open", "in_progress", "by_design", "ignored"}

		client := func(w int, stop <-chan struct{}) {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			token := org.Member
			if w%2 == 1 {
				token = org.Admin
			}
			version := 1
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch op := rng.IntN(10); {
				case op < 2:
					send("list", org.Viewer, http.MethodPost, base+"/issues",
						`{"startRow":0,"endRow":50,"sortModel":[{"colId":"severity","sort":"desc"}],"filterModel":{"colId":"status","filterType":"set","values":["open","in_progress"]}}`)
				case op == 2:
					send("filters", org.Viewer, http.MethodPost, base+"/issues/filters", `{"field":"policyName"}`)
				case op == 3:
					send("compliance", org.Viewer, http.MethodPost, base+"/compliance", `{"entity":"stack"}`)
				case op == 4:
					send("metadata", org.Viewer, http.MethodGet, base+"/metadata", "")
				case op < 8:
					// Triage: read an issue, change its status with If-Match.
					status, _, raw := send("list", token, http.MethodPost, base+"/issues", `{"startRow":0,"endRow":40}`)
					var page struct {
						PolicyIssues []struct {
							ID     string `json:"id"`
							Status string `json:"status"`
						} `json:"policyIssues"`
					}
					if status != http.StatusOK || json.Unmarshal(raw, &page) != nil || len(page.PolicyIssues) == 0 {
						continue
					}
					id := page.PolicyIssues[rng.IntN(len(page.PolicyIssues))].ID
					status, h, raw := send("get", token, http.MethodGet, base+"/issues/"+id, "")
					var got struct {
						PolicyIssue struct {
							Status string `json:"status"`
						} `json:"policyIssue"`
					}
					if status != http.StatusOK || json.Unmarshal(raw, &got) != nil || got.PolicyIssue.Status == "" {
						t.Errorf("get issue: %d %.200s", status, raw)
						continue
					}
					next := statuses[rng.IntN(len(statuses))]
					for next == got.PolicyIssue.Status {
						next = statuses[rng.IntN(len(statuses))]
					}
					if status, _, _ := send("triage", token, http.MethodPatch, base+"/issues/"+id, `{"status":"`+next+`"}`, "If-Match", h.Get("ETag")); status == http.StatusOK {
						stats.mu.Lock()
						stats.acked[id] = append(stats.acked[id], next)
						stats.mu.Unlock()
					}
					if rng.IntN(4) == 0 {
						send("history", org.Viewer, http.MethodGet, base+"/issues/"+id+"/history", "")
					}
				default:
					// Ingest: each client its own stack; failures move so
					// that issues open, get fixed and reopen.
					fails := map[string][]int{"no-public-read": {version % 6, (version + 2) % 6}, "encrypted": {0, 1}, "versioned": {version % 3}}
					body, _ := json.Marshal(evaluation{project: "soak", stack: fmt.Sprintf("c%d", w), version: version, pack: "baseline",
						tag: "1.0.0", policies: testPolicies(), resources: 6, fails: fails}.request())
					if status, _, _ := send("ingest", org.OrgToken, http.MethodPost, base+"/evaluations", string(body)); status == http.StatusOK {
						version++
					}
				}
			}
		}

		runtime.GC()
		goroutinesBefore := runtime.NumGoroutine()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heapBefore := ms.HeapAlloc

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client(w, stop)
			}()
		}
		start := time.Now()
		peakGoroutines := 0
		for time.Since(start) < d {
			time.Sleep(250 * time.Millisecond)
			peakGoroutines = max(peakGoroutines, runtime.NumGoroutine())
		}
		close(stop)
		wg.Wait()
		elapsed := time.Since(start)
		transport.CloseIdleConnections()

		// Goroutines of closed connections end shortly after.
		var goroutinesAfter int
		for i := 0; i < 50; i++ {
			runtime.GC()
			goroutinesAfter = runtime.NumGoroutine()
			if goroutinesAfter <= goroutinesBefore+5 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		runtime.ReadMemStats(&ms)
		heapAfter := ms.HeapAlloc
		t.Logf("soak %s on %s: %d requests (%.0f/s) %v by op %v; goroutines %d before, %d peak, %d after; heap %.1f MiB before, %.1f MiB after",
			elapsed.Round(time.Millisecond), b.Dialect, stats.requests, float64(stats.requests)/elapsed.Seconds(), stats.byStatus, stats.byOp,
			goroutinesBefore, peakGoroutines, goroutinesAfter, float64(heapBefore)/(1<<20), float64(heapAfter)/(1<<20))

		for status, n := range stats.byStatus {
			if status >= 500 {
				t.Errorf("%d responses with status %d; first: %v", n, status, stats.errors)
			}
		}
		if stats.byStatus[http.StatusOK] < 20 {
			t.Errorf("only %d successful requests", stats.byStatus[http.StatusOK])
		}
		if goroutinesAfter > goroutinesBefore+5 {
			t.Errorf("goroutines grew from %d to %d", goroutinesBefore, goroutinesAfter)
		}
		if heapAfter > heapBefore+64<<20 {
			t.Errorf("heap grew from %d to %d bytes", heapBefore, heapAfter)
		}

		// No lost update: every acknowledged PATCH is one status change by a
		// user in the issue's history, and nothing else is.
		var rows []struct {
			IssueID  string
			NewValue string
		}
		if err := b.Repo.DB().WithContext(context.Background()).Raw(`SELECT issue_id, new_value FROM issue_history
			WHERE org_id = ? AND field = 'status' AND actor_type = 'user'`, org.ID).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		inHistory := map[string]map[string]int{}
		for _, r := range rows {
			if inHistory[r.IssueID] == nil {
				inHistory[r.IssueID] = map[string]int{}
			}
			inHistory[r.IssueID][r.NewValue]++
		}
		patches := 0
		for id, values := range stats.acked {
			want := map[string]int{}
			for _, v := range values {
				want[v]++
				patches++
			}
			if fmt.Sprint(want) != fmt.Sprint(inHistory[id]) {
				t.Errorf("issue %s: acknowledged PATCHes %v, history %v", id, want, inHistory[id])
			}
			delete(inHistory, id)
		}
		if len(inHistory) > 0 {
			t.Errorf("history has user changes no client made: %v", inHistory)
		}
		if patches == 0 {
			t.Error("no PATCH was acknowledged")
		}
		t.Logf("%d acknowledged PATCHes checked against the history", patches)
	})
}
