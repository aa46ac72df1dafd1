package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policyresults/policyresults/repository/repotest"
)

// drillReceiver counts the deliveries it accepts by Pulumi-Webhook-Id;
// while down it drops every connection without an answer.
type drillReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	up       bool
	accepted map[string]int
	refused  int
}

func newDrillReceiver(t *testing.T) *drillReceiver {
	r := &drillReceiver{accepted: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		up := r.up
		if up {
			r.accepted[req.Header.Get("Pulumi-Webhook-Id")]++
		} else {
			r.refused++
		}
		r.mu.Unlock()
		if !up {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *drillReceiver) counts() (distinct, total, refused int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.accepted {
		distinct++
		total += n
	}
	return distinct, total, r.refused
}

// drillEvaluations is how many evaluations the drill sends:
// POLICYRESULTS_WEBHOOK_DRILL (scripts/webhook-drill.sh) or 6.
func drillEvaluations(t *testing.T) int {
	if v := os.Getenv("POLICYRESULTS_WEBHOOK_DRILL"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("POLICYRESULTS_WEBHOOK_DRILL=%q: want a number of evaluations, 2 or more", v)
		}
		return n
	}
	return 6
}

// TestWebhookDrill is the delivery drill (RELIABILITY.md) on the real
// binary, on SQLite and PostgreSQL: with three webhooks and the receiver
// down, half the evaluations are sent and attempted, the server is killed
// (SIGKILL) and started again, the other half are sent, then the receiver
// comes up. Every evaluation's event must reach it for every hook, at
// least once, under one delivery id each; the test logs how long that took
// after the receiver came up and how many duplicates it saw.
func TestWebhookDrill(t *testing.T) {
	bin := buildBinary(t, t.TempDir())
	n := drillEvaluations(t)
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		org := fmt.Sprintf("drill%d", time.Now().UnixNano()%1e9)
		if _, err := run(t, b.URL, "org", "create", org); err != nil {
			t.Fatal(err)
		}
		tok, err := run(t, b.URL, "token", "create", "--org", org, "--name", "drill", "--role", "admin")
		if err != nil {
			t.Fatal(err)
		}
		token := strings.TrimSpace(tok)
		recv := newDrillReceiver(t)
		flags := []string{"--webhook-allow-private", "--rate-limit", "0", "--no-migrate"}
		p := launchServe(t, bin, b.URL, flags...)
		post := func(path string, body any) {
			t.Helper()
			js, _ := json.Marshal(body)
			req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+path, bytes.NewReader(js))
			req.Header.Set("Authorization", "token "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 300 {
				t.Fatalf("POST %s: %d", path, resp.StatusCode)
			}
		}
		for i := range 3 {
			post("/api/orgs/"+org+"/hooks", map[string]any{"name": fmt.Sprintf("hook%d", i), "displayName": "drill", "payloadUrl": recv.URL + "/hook", "secret": "drill"})
		}
		evaluate := func(i int) {
			post("/api/orgs/"+org+"/policyresults/evaluations", map[string]any{
				"stack": map[string]any{"project": "drill", "name": fmt.Sprintf("s%d", i), "version": 1},
				"policyPacks": []any{map[string]any{"name": "drill", "versionTag": "1.0.0", "policies": []any{map[string]any{
					"name": "p", "displayName": "P", "description": "d", "enforcementLevel": "mandatory", "message": "m", "severity": "high"}}}},
				"violations": []any{map[string]any{"policyPack": "drill", "policyName": "p",
					"resourceURN": fmt.Sprintf("urn:pulumi:s%d::drill::aws:s3/bucket:Bucket::b", i), "message": "m"}},
			})
		}
		repo := b.Repo.DB()
		attempted := func() (deliveries, tried int64) {
			t.Helper()
			if err := repo.Raw(`SELECT count(*), count(*) FILTER (WHERE attempts > 0) FROM webhook_deliveries d
				JOIN organizations o ON o.id = d.org_id WHERE o.name = ?`, org).Row().Scan(&deliveries, &tried); err != nil {
				// SQLite has FILTER too; any error is the test's.
				t.Fatal(err)
			}
			return deliveries, tried
		}
		start := time.Now()
		for i := 0; i < n/2; i++ {
			evaluate(i)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			d, tried := attempted()
			if d == int64(3*(n/2)) && tried == d {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("before the restart: %d of %d deliveries made, %d attempted", d, 3*(n/2), tried)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-p.done
		p = launchServe(t, bin, b.URL, flags...)
		for i := n / 2; i < n; i++ {
			evaluate(i)
		}
		recv.mu.Lock()
		recv.up = true
		recv.mu.Unlock()
		up := time.Now()
		deadline = time.Now().Add(3 * time.Minute)
		for {
			if distinct, _, _ := recv.counts(); distinct == 3*n {
				break
			}
			if time.Now().After(deadline) {
				distinct, total, _ := recv.counts()
				t.Fatalf("after the receiver came up: %d of %d deliveries arrived (%d requests)", distinct, 3*n, total)
			}
			time.Sleep(50 * time.Millisecond)
		}
		after := time.Since(up)
		distinct, total, refused := recv.counts()
		// The server records a delivery after its receiver answered.
		var delivered int64
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if err := repo.Raw(`SELECT count(*) FROM webhook_deliveries d JOIN organizations o ON o.id = d.org_id
				WHERE o.name = ? AND d.state = 'delivered'`, org).Scan(&delivered).Error; err != nil {
				t.Fatal(err)
			}
			if delivered == int64(3*n) || time.Now().After(deadline) {
				break
			}
		}
		if delivered != int64(3*n) {
			t.Errorf("%d of %d deliveries recorded delivered", delivered, 3*n)
		}
		t.Logf("webhook drill on %s: %d evaluations, 3 hooks, %d deliveries; %d attempts refused while down, one SIGKILL and restart; "+
			"all %d arrived %.1f s after the receiver came up (%.1f s after the first evaluation), %d duplicates, %d lost, %d recorded delivered",
			b.Dialect, n, 3*n, refused, distinct, after.Seconds(), time.Since(start).Seconds(), total-distinct, 3*n-distinct, delivered)
	})
}
