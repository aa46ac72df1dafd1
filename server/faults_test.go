package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // admin connections to PostgreSQL

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
)

// faultDB is a PostgreSQL database of its own, so that killing its
// connections touches no other test.
type faultDB struct {
	name  string
	admin *sql.DB
	repo  *repository.Repository
	b     *repotest.Backend
}

// newFaultDB creates and migrates a database for fault injection; it skips
// the test without PostgreSQL.
func newFaultDB(t *testing.T) *faultDB {
	t.Helper()
	repotest.Postgres(t, "fault injection needs PostgreSQL")
	ctx := context.Background()
	admin, err := sql.Open("pgx", repotest.PostgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("policyresults_fault_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	u, _ := url.Parse(repotest.PostgresAdminURL())
	u.Path = "/" + name
	repo, err := repository.Open(ctx, u.String(), repository.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	if err := repo.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return &faultDB{name: name, admin: admin, repo: repo, b: &repotest.Backend{Dialect: repository.Postgres, Repo: repo, URL: u.String()}}
}

// kill terminates every connection to the database and returns how many.
func (f *faultDB) kill(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.admin.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, f.name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// allowConnections opens or closes the database to new connections.
func (f *faultDB) allowConnections(t *testing.T, allow bool) {
	t.Helper()
	if _, err := f.admin.Exec(fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", f.name, allow)); err != nil {
		t.Fatal(err)
	}
}

// outcome tallies responses by status.
type outcome struct {
	mu       sync.Mutex
	statuses map[int]int
	slowest  time.Duration
	bad      []string
}

func (o *outcome) add(op string, status int, elapsed time.Duration, body []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.statuses == nil {
		o.statuses = map[int]int{}
	}
	o.statuses[status]++
	if status == http.StatusServiceUnavailable && elapsed > o.slowest {
		o.slowest = elapsed
	}
	if status >= 500 {
		var eb server.ErrorBody
		err := json.Unmarshal(body, &eb)
		switch {
		case status != http.StatusServiceUnavailable:
			o.bad = append(o.bad, fmt.Sprintf("%s: %d %s", op, status, body))
		case err != nil || eb.Code != status || !strings.HasPrefix(eb.Message, "Service unavailable"):
			o.bad = append(o.bad, fmt.Sprintf("%s: 503 not in Pulumi's error body: %s", op, body))
		case strings.Contains(eb.Message, "SQLSTATE") || strings.Contains(eb.Message, "pgx") || strings.Contains(eb.Message, "127.0.0.1"):
			o.bad = append(o.bad, fmt.Sprintf("%s: 503 shows internals: %s", op, body))
		}
	}
}

func (o *outcome) count(status int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.statuses[status]
}

// loadClient sends a mix of reads, triage and ingest as fast as it can
// until stop is closed, tallying every response.
func loadClient(t *testing.T, env *servertest.Env, org *servertest.Org, worker int, stop <-chan struct{}, out *outcome) {
	hc := &http.Client{Timeout: 30 * time.Second}
	send := func(op, token, method, path, body string, header ...string) (int, http.Header, []byte) {
		req, _ := http.NewRequest(method, env.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "token "+token)
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			out.add(op, 599, time.Since(start), []byte(err.Error()))
			return 599, nil, nil
		}
		defer resp.Body.Close()
		var raw []byte
		raw, _ = io.ReadAll(resp.Body)
		out.add(op, resp.StatusCode, time.Since(start), raw)
		return resp.StatusCode, resp.Header, raw
	}
	base := "/api/orgs/" + org.Name + "/policyresults"
	version := 1
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		switch i % 5 {
		case 0:
			send("list", org.Viewer, http.MethodPost, base+"/issues", `{"startRow":0,"endRow":20}`)
		case 1:
			send("metadata", org.Viewer, http.MethodGet, base+"/metadata", "")
		case 2:
			status, _, raw := send("list", org.Member, http.MethodPost, base+"/issues", `{"startRow":0,"endRow":5}`)
			var page struct {
				PolicyIssues []struct{ ID string } `json:"policyIssues"`
			}
			if status == http.StatusOK && json.Unmarshal(raw, &page) == nil && len(page.PolicyIssues) > 0 {
				id := page.PolicyIssues[rand.IntN(len(page.PolicyIssues))].ID
				statuses := []string{"open", "in_progress", "ignored"}
				send("triage", org.Member, http.MethodPatch, base+"/issues/"+id, `{"status":"`+statuses[rand.IntN(3)]+`"}`)
			}
		case 3:
			fails := map[string][]int{"encrypted": {version % 4}, "no-public-read": {0, 1}}
			body, _ := json.Marshal(evaluation{project: "load", stack: fmt.Sprintf("w%d", worker), version: version, pack: "baseline",
				tag: "1.0.0", policies: testPolicies(), resources: 4, fails: fails}.request())
			if status, _, _ := send("ingest", org.OrgToken, http.MethodPost, base+"/evaluations", string(body)); status == http.StatusOK {
				version++
			}
		case 4:
			send("compliance", org.Viewer, http.MethodPost, base+"/compliance", `{"entity":"stack"}`)
		}
	}
}

// TestDatabaseFaults kills the database connections of a loaded server,
// then refuses connections for a while: requests fail fast with 503 in
// Pulumi's error body (never a 500 or internals), /readyz reports not
// ready, and the server recovers by itself.
func TestDatabaseFaults(t *testing.T) {
	f := newFaultDB(t)
	var logs logBuffer
	env := servertest.StartWith(t, f.b, server.Config{Repo: f.repo, Logger: jsonLogger(&logs), RequestTimeout: 5 * time.Second})
	org := env.NewOrg(t)
	seedStacks(t, env, org, 2, 6)

	var out outcome
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loadClient(t, env, org, w, stop, &out)
		}()
	}
	readyz := func() int {
		resp, err := http.Get(env.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// Connections killed in the middle of requests, five times.
	time.Sleep(300 * time.Millisecond)
	killed := 0
	for i := 0; i < 5; i++ {
		killed += f.kill(t)
		time.Sleep(300 * time.Millisecond)
	}
	if killed == 0 {
		t.Fatal("no connection was killed")
	}

	// An outage: no connection is accepted.
	f.allowConnections(t, false)
	f.kill(t)
	time.Sleep(200 * time.Millisecond)
	outageStart := out.count(http.StatusServiceUnavailable)
	deadline := time.Now().Add(5 * time.Second)
	for readyz() != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still ready during the outage")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if readyz() != http.StatusServiceUnavailable {
		t.Fatal("/readyz ready during the outage")
	}
	status, _, raw := call(t, env, "token "+org.Viewer, http.MethodGet, "/api/orgs/"+org.Name+"/policyresults/metadata", "")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("request during the outage: %d %s", status, raw)
	}
	errorBodyOf(t, status, raw)
	if out.count(http.StatusServiceUnavailable) == outageStart {
		t.Fatal("no 503 during the outage")
	}

	// The database is back: the server recovers without a restart.
	f.allowConnections(t, true)
	deadline = time.Now().Add(10 * time.Second)
	for readyz() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not ready 10s after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	okBefore := out.count(http.StatusOK)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if out.count(http.StatusOK) <= okBefore {
		t.Fatal("no successful request after the database came back")
	}
	if status, _, raw := call(t, env, "token "+org.Viewer, http.MethodGet, "/api/orgs/"+org.Name+"/policyresults/metadata", ""); status != http.StatusOK {
		t.Fatalf("after recovery: %d %s", status, raw)
	}

	t.Logf("responses by status: %v; slowest 503: %s; connections killed: %d", out.statuses, out.slowest, killed)
	if len(out.bad) > 0 {
		t.Fatalf("%d bad responses, first: %s", len(out.bad), strings.Join(out.bad[:min(5, len(out.bad))], "\n"))
	}
	if out.count(599) > 0 {
		t.Fatalf("%d requests failed without an answer", out.count(599))
	}
	// Well under the 5 s request timeout: failures are detected, not timed
	// out.
	if out.slowest > 4*time.Second {
		t.Fatalf("a 503 took %s: requests during an outage must fail fast", out.slowest)
	}
	// Every failure is logged with its request id.
	seen := map[string]bool{}
	for _, line := range logs.lines(t) {
		if e, ok := line["error"].(string); ok && !seen[e] && os.Getenv("FAULT_DEBUG") != "" {
			seen[e] = true
			t.Log("ERR:", e)
		}
		if line["msg"] == "request failed" && (line["request_id"] == "" || line["request_id"] == nil) {
			t.Fatalf("failure logged without request id: %v", line)
		}
	}
}

// TestIngestCutOffMidway kills the database connection while a large
// evaluation is being applied: the request answers 503 and nothing of the
// evaluation is written; the same evaluation then applies normally.
func TestIngestCutOffMidway(t *testing.T) {
	f := newFaultDB(t)
	env := servertest.StartWith(t, f.b, server.Config{Repo: f.repo, BodyLimit: "64M"})
	org := env.NewOrg(t)
	ci := env.Client(t, org.OrgToken)
	small := evaluation{project: "shop", stack: "big", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(),
		resources: 10, fails: map[string][]int{"encrypted": {1, 2}, "versioned": {3}}}
	ingest(t, ci, org.Name, small.request())
	before := orgSnapshot(t, f.repo, org.ID)

	for n := 5000; ; n *= 2 {
		fails := map[string][]int{}
		for i := 0; i < n; i++ {
			fails["no-public-read"] = append(fails["no-public-read"], i)
			if i%2 == 0 {
				fails["encrypted"] = append(fails["encrypted"], i)
			}
		}
		big := evaluation{project: "shop", stack: "big", version: 2, pack: "baseline", tag: "1.0.0", policies: testPolicies(), resources: n, fails: fails}
		body, _ := json.Marshal(big.request())
		result := make(chan [2]any, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/orgs/"+org.Name+"/policyresults/evaluations", strings.NewReader(string(body)))
			req.Header.Set("Authorization", "token "+org.OrgToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				result <- [2]any{0, err.Error()}
				return
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			result <- [2]any{resp.StatusCode, string(raw)}
		}()
		// Wait until the ingest's transaction has been writing for a while,
		// then kill it.
		killedAt := time.Time{}
		for killedAt.IsZero() {
			select {
			case r := <-result:
				if r[0] == http.StatusOK && n < 400000 {
					t.Logf("%d resources applied before the kill; trying twice as many", n)
					goto next
				}
				t.Fatalf("ingest finished before it could be cut off: %v %.300s", r[0], r[1])
			case <-time.After(10 * time.Millisecond):
			}
			var busy bool
			if err := f.admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
				AND xact_start < now() - interval '150 milliseconds' AND state <> 'idle')`, f.name).Scan(&busy); err != nil {
				t.Fatal(err)
			}
			if busy {
				f.kill(t)
				killedAt = time.Now()
			}
		}
		{
			r := <-result
			if r[0] != http.StatusServiceUnavailable {
				t.Fatalf("ingest cut off: %v %.300s, want 503", r[0], r[1])
			}
			var eb server.ErrorBody
			if err := json.Unmarshal([]byte(r[1].(string)), &eb); err != nil || eb.Code != 503 {
				t.Fatalf("503 body %.300s", r[1])
			}
			if after := orgSnapshot(t, f.repo, org.ID); after != before {
				t.Fatalf("the cut-off ingest left rows behind:\nbefore %.2000s\nafter %.2000s", before, after)
			}
			t.Logf("cut off an ingest of %d resources: 503 %s after the kill; nothing written that an answer can see", n, time.Since(killedAt).Round(time.Millisecond))
			// Version 2 now applies: no lock or half state is left.
			v2 := small
			v2.version, v2.fails = 2, map[string][]int{"encrypted": {1}}
			if sum := ingest(t, ci, org.Name, v2.request()); sum.IssuesFixed != 2 {
				t.Fatalf("version 2 after the cut-off: %+v", sum)
			}
			return
		}
	next:
	}
}

// TestSQLiteConcurrentReadersAndWriters runs 8 clients mixing ingest,
// triage and reads against SQLite for a few seconds: no request fails and
// "database is locked" never reaches a client.
func TestSQLiteConcurrentReadersAndWriters(t *testing.T) {
	b := repotest.Backends(t)[0]
	if b.Dialect != repository.SQLite {
		t.Fatal("the first backend is not SQLite")
	}
	env := servertest.Start(t, b)
	org := env.NewOrg(t)
	seedStacks(t, env, org, 2, 6)
	var out outcome
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loadClient(t, env, org, w, stop, &out)
		}()
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	t.Logf("responses by status: %v", out.statuses)
	for status, n := range out.statuses {
		if status >= 500 {
			t.Errorf("%d responses with status %d: %v", n, status, out.bad[:min(3, len(out.bad))])
		}
	}
	if out.count(http.StatusOK) < 20 {
		t.Fatalf("only %d successful requests", out.count(http.StatusOK))
	}
}

// TestConcurrentIngestsOfOneEntity sends the same evaluation, and two
// versions of one, at the same time: both succeed (or the older version is
// refused 409) and no issue is duplicated.
func TestConcurrentIngestsOfOneEntity(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ci := env.Client(t, org.OrgToken)
		for round := 0; round < 6; round++ {
			stack := fmt.Sprintf("race%d", round)
			evals := [2]evaluation{}
			// Even rounds: one evaluation twice. Odd rounds: versions 1 and 2,
			// which fail encrypted on different resources.
			twoVersions := round%2 == 1
			for i := range evals {
				v, shift := 1, 0
				if twoVersions {
					v, shift = 1+i, i
				}
				evals[i] = evaluation{project: "shop", stack: stack, version: v, pack: "baseline", tag: "1.0.0", policies: testPolicies(),
					resources: 8, fails: map[string][]int{"no-public-read": {0, 1, 2, 3}, "encrypted": {shift, 4 + shift}}}
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			statuses := [2]int{}
			for i := range evals {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					resp, err := ci.CreatePolicyEvaluationWithResponse(context.Background(), org.Name, evals[i].request())
					if err != nil {
						t.Error(err)
						return
					}
					statuses[i] = resp.StatusCode()
				}()
			}
			close(start)
			wg.Wait()
			for i, s := range statuses {
				if s != http.StatusOK && !(s == http.StatusConflict && evals[i].version < evals[1-i].version) {
					t.Fatalf("round %d ingest %d: %d", round, i, s)
				}
			}
			var dups int64
			if err := b.Repo.DB().Raw(`SELECT COUNT(*) FROM (SELECT 1 FROM policy_issues WHERE org_id = ?
				GROUP BY entity_ref, scope, policy_pack, policy_name, resource_urn HAVING COUNT(*) > 1) d`, org.ID).Scan(&dups).Error; err != nil {
				t.Fatal(err)
			}
			if dups > 0 {
				t.Fatalf("round %d: %d duplicated issues", round, dups)
			}
			// 4 no-public-read and 2 encrypted issues; when version 2 applies
			// after version 1, version 1's 2 encrypted issues are kept, fixed.
			want := int64(6)
			if twoVersions && statuses == [2]int{http.StatusOK, http.StatusOK} {
				want = 8
			}
			var n, active int64
			b.Repo.DB().Raw(`SELECT COUNT(*) FROM policy_issues WHERE org_id = ? AND entity_project = 'shop' AND entity_id = ?`, org.ID, stack).Scan(&n)
			b.Repo.DB().Raw(`SELECT COUNT(*) FROM policy_issues WHERE org_id = ? AND entity_project = 'shop' AND entity_id = ? AND active`, org.ID, stack).Scan(&active)
			if n != want || active != 6 {
				t.Fatalf("round %d (statuses %v): %d issues, %d active; want %d and 6", round, statuses, n, active, want)
			}
		}
	})
}

// TestConcurrentPatchesWithOneETag sends two PATCHes with the same If-Match
// at once, ten times: exactly one succeeds and the other is 412, and the
// history holds exactly the successful change.
func TestConcurrentPatchesWithOneETag(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 1, 2)
		member := env.Client(t, org.Member)
		admin := env.Client(t, org.Admin)
		ctx := context.Background()
		id := issuesOf(t, member, org.Name)[0].Id.String()
		for round := 0; round < 10; round++ {
			got, err := member.GetPolicyIssueWithResponse(ctx, org.Name, id)
			if err != nil || got.JSON200 == nil {
				t.Fatal(err)
			}
			etag := got.HTTPResponse.Header.Get("ETag")
			wantStatus := [2]client.PolicyIssueStatus{client.PolicyIssueStatusIgnored, client.PolicyIssueStatusByDesign}
			if round%2 == 1 {
				wantStatus = [2]client.PolicyIssueStatus{client.PolicyIssueStatusOpen, client.PolicyIssueStatusInProgress}
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			codes := [2]int{}
			for i, c := range []*client.ClientWithResponses{member, admin} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r, err := c.UpdatePolicyIssueWithResponse(ctx, org.Name, id, &client.UpdatePolicyIssueParams{IfMatch: &etag},
						client.UpdatePolicyIssueRequest{Status: &wantStatus[i]})
					if err != nil {
						t.Error(err)
						return
					}
					codes[i] = r.StatusCode()
				}()
			}
			close(start)
			wg.Wait()
			ok, stale := 0, 0
			for _, c := range codes {
				switch c {
				case http.StatusOK:
					ok++
				case http.StatusPreconditionFailed:
					stale++
				}
			}
			if ok != 1 || stale != 1 {
				t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, codes)
			}
		}
		var changes int
		for _, e := range history(t, member, org.Name, id) {
			if e.Field == "status" && e.ActorType == client.PolicyIssueHistoryEntryActorTypeUser {
				changes++
			}
		}
		if changes != 10 {
			t.Fatalf("%d status changes in the history, want 10", changes)
		}
	})
}
