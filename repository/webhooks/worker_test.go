package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/repository/webhooks"
)

// clock is a settable clock for backoffs and windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hit is one request a receiver got.
type hit struct {
	path   string
	header http.Header
	body   []byte
}

// receiver records requests and answers what respond says (200 when nil).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	hits    []hit
	respond func(r *http.Request, n int) (status int, header map[string]string)
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{path: r.URL.Path, header: r.Header.Clone(), body: body})
		n, respond := len(rc.hits), rc.respond
		rc.mu.Unlock()
		status := http.StatusOK
		if respond != nil {
			var header map[string]string
			status, header = respond(r, n)
			if status < 0 {
				// Drop the connection without an answer.
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return
			}
			for k, v := range header {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received(path string) []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hit
	for _, h := range rc.hits {
		if path == "" || h.path == path {
			out = append(out, h)
		}
	}
	return out
}

// fixture is an organisation on one backend with a store and a worker
// driven by a fake clock, delivering to loopback.
type fixture struct {
	t      *testing.T
	b      *repotest.Backend
	store  *webhooks.Store
	worker *webhooks.Worker
	clock  *clock
	orgID  int64
}

func newFixture(t *testing.T, b *repotest.Backend) *fixture {
	t.Helper()
	org, err := b.Repo.Accounts.CreateOrganization(context.Background(), fmt.Sprintf("hooks%d", time.Now().UnixNano()%1e9))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, b: b, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, orgID: org.ID}
	f.restart()
	t.Cleanup(func() {
		// Deliveries still pending would be retried by later tests' workers.
		_ = b.Repo.DB().Exec("DELETE FROM webhooks WHERE org_id = ?", org.ID).Error
	})
	return f
}

// restart replaces the store and worker, as a server restart does.
func (f *fixture) restart() {
	f.store = webhooks.New(f.b.Repo.DB(), f.b.Dialect.ConcurrentWrites(), "test key")
	f.worker = webhooks.NewWorker(webhooks.WorkerConfig{Store: f.store, Client: webhooks.NewHTTPClient(true), Now: f.clock.Now,
		ConsoleURL: "https://policyresults.example.com"})
}

func (f *fixture) hook(sc webhooks.Scope, name, url string, spec webhooks.Spec) *webhooks.Hook {
	f.t.Helper()
	spec.Name, spec.DisplayName, spec.PayloadURL = &name, &name, &url
	if sc.OrgID == 0 {
		sc.OrgID = f.orgID
	}
	h, err := f.store.Create(context.Background(), sc, spec)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func (f *fixture) event(e *webhooks.Event) {
	f.t.Helper()
	e.OrgID = f.orgID
	if err := f.b.Repo.DB().Transaction(func(tx *gorm.DB) error { return webhooks.WriteEvent(tx, e) }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) drain() {
	f.t.Helper()
	if err := f.worker.Drain(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) attempts(h *webhooks.Hook) []webhooks.Attempt {
	f.t.Helper()
	a, err := f.store.Attempts(context.Background(), h, f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func ptr[T any](v T) *T { return &v }

// evaluationEvent opens 500 mandatory issues (100 critical, 400 low),
// reopens 3 advisory medium ones and fixes 2 high ones on shop/prod.
func evaluationEvent() *webhooks.Event {
	e := &webhooks.Event{Cause: webhooks.CauseEvaluation, EntityType: "stack", Project: "shop", Stack: "prod", EvaluationID: 42, Actor: "policyresults"}
	for i := range 500 {
		sev := "low"
		if i < 100 {
			sev = "critical"
		}
		e.Add(webhooks.IssueRef{Change: webhooks.ChangeOpened, ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Policy: "no-public-read",
			PolicyPack: "baseline", Resource: fmt.Sprintf("urn:pulumi:prod::shop::aws:s3/bucket:Bucket::b%d", i), Severity: sev, Level: "mandatory"})
	}
	for i := range 3 {
		e.Add(webhooks.IssueRef{Change: webhooks.ChangeReopened, ID: fmt.Sprintf("10000000-0000-4000-8000-%012d", i), Policy: "tags",
			PolicyPack: "baseline", Resource: "urn:x", Severity: "medium", Level: "advisory"})
	}
	for i := range 2 {
		e.Add(webhooks.IssueRef{Change: webhooks.ChangeFixed, ID: fmt.Sprintf("20000000-0000-4000-8000-%012d", i), Policy: "encryption",
			PolicyPack: "baseline", Resource: "urn:y", Severity: "high", Level: "mandatory"})
	}
	return e
}

// TestDeliveryFiltersAndFormats sends one evaluation that opens 500
// issues and one person's triage to hooks with each kind of filter: each
// hook is sent one message per event it wants, counting only what its
// filters and severity threshold let through, signed with its secret,
// in its format; a stack hook is sent only its stack's events and an
// inactive hook nothing.
func TestDeliveryFiltersAndFormats(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := newFixture(t, b)
		rc := newReceiver(t)
		org := webhooks.Scope{}
		hooks := map[string]*webhooks.Hook{
			"all":       f.hook(org, "all", rc.URL+"/all", webhooks.Spec{Secret: ptr("k-all")}),
			"mandatory": f.hook(org, "mandatory", rc.URL+"/mandatory", webhooks.Spec{Filters: &[]string{"policy_violation_mandatory"}}),
			"advisory":  f.hook(org, "advisory", rc.URL+"/advisory", webhooks.Spec{Filters: &[]string{"policy_violation_advisory", "stack_created"}}),
			"policies":  f.hook(org, "policies", rc.URL+"/policies", webhooks.Spec{Groups: &[]string{"policies"}}),
			"fixed":     f.hook(org, "fixed", rc.URL+"/fixed", webhooks.Spec{Filters: &[]string{"policy_issue_fixed"}}),
			"triaged":   f.hook(org, "triaged", rc.URL+"/triaged", webhooks.Spec{Filters: &[]string{"policy_issue_triaged"}}),
			"high":      f.hook(org, "high", rc.URL+"/high", webhooks.Spec{MinSeverity: ptr("high")}),
			"slack":     f.hook(org, "slack", rc.URL+"/slack", webhooks.Spec{Format: ptr("slack"), Filters: &[]string{"policy_issue_opened"}}),
			"teams":     f.hook(org, "teams", rc.URL+"/teams", webhooks.Spec{Format: ptr("ms_teams"), Filters: &[]string{"policy_issue_reopened"}}),
			"prod":      f.hook(webhooks.Scope{Project: "shop", Stack: "prod"}, "prod", rc.URL+"/prod", webhooks.Spec{}),
			"dev":       f.hook(webhooks.Scope{Project: "shop", Stack: "dev"}, "dev", rc.URL+"/dev", webhooks.Spec{}),
			"inactive":  f.hook(org, "inactive", rc.URL+"/inactive", webhooks.Spec{Active: ptr(false)}),
		}
		f.event(evaluationEvent())
		triage := &webhooks.Event{Cause: webhooks.CausePerson, EntityType: "stack", Project: "shop", Stack: "dev", Actor: "alice"}
		triage.Add(webhooks.IssueRef{Change: webhooks.ChangeTriaged, ID: "30000000-0000-4000-8000-000000000000", Policy: "p", PolicyPack: "baseline",
			Resource: "urn:z", Severity: "low", Level: "advisory", Status: "in_progress", Assignee: "alice"})
		f.event(triage)
		f.drain()

		// want: the totals of the raw messages each hook gets (deliveries
		// are not ordered).
		want := map[string][]int{
			"all": {505, 1}, "mandatory": {500}, "advisory": {3}, "policies": {503}, "fixed": {2}, "triaged": {1},
			"high": {102}, "prod": {505}, "dev": {1}, "inactive": nil,
		}
		for name, totals := range want {
			got := rc.received("/" + name)
			if len(got) != len(totals) {
				t.Errorf("%s: %d messages, want %d", name, len(got), len(totals))
				continue
			}
			var gotTotals []int
			for i, h := range got {
				var p webhooks.RawPayload
				if err := json.Unmarshal(h.body, &p); err != nil {
					t.Fatalf("%s: %v: %s", name, err, h.body)
				}
				gotTotals = append(gotTotals, p.Total)
				if len(p.Issues) > 20 || len(p.Issues) == 0 || len(p.Issues) > p.Total {
					t.Errorf("%s message %d: total %d with %d issues", name, i, p.Total, len(p.Issues))
				}
				if p.Organization.Name == "" || p.Entity.Type != "stack" || p.Issues[0].URL == "" || !strings.Contains(p.Issues[0].URL, "/issues/") {
					t.Errorf("%s message %d: %s", name, i, h.body)
				}
				if h.header.Get("Pulumi-Webhook-Id") == "" || h.header.Get("Pulumi-Webhook-Kind") == "" {
					t.Errorf("%s: headers %v", name, h.header)
				}
			}
			slices.Sort(gotTotals)
			slices.Sort(totals)
			if !slices.Equal(gotTotals, totals) {
				t.Errorf("%s: messages of totals %v, want %v", name, gotTotals, totals)
			}
		}
		all := rc.received("/all")
		if len(all) == 2 && strings.Contains(string(all[0].body), `"cause":"person"`) {
			all[0], all[1] = all[1], all[0]
		}
		if sig := all[0].header.Get("Pulumi-Webhook-Signature"); sig != webhooks.Signature(all[0].body, "k-all") {
			t.Errorf("signature %q does not verify", sig)
		}
		if rc.received("/mandatory")[0].header.Get("Pulumi-Webhook-Signature") != "" {
			t.Error("a hook without a secret is sent a signature")
		}
		if k := all[0].header.Get("Pulumi-Webhook-Kind"); k != "policy_evaluation" {
			t.Errorf("evaluation kind %q", k)
		}
		if k := all[1].header.Get("Pulumi-Webhook-Kind"); k != "policy_issue_triaged" {
			t.Errorf("triage kind %q", k)
		}
		var high webhooks.RawPayload
		_ = json.Unmarshal(rc.received("/high")[0].body, &high)
		for _, i := range high.Issues {
			if i.Severity != "critical" && i.Severity != "high" {
				t.Errorf("the high threshold lists a %s issue", i.Severity)
			}
		}
		var slack struct {
			Text   string           `json:"text"`
			Blocks []map[string]any `json:"blocks"`
		}
		if err := json.Unmarshal(rc.received("/slack")[0].body, &slack); err != nil || !strings.Contains(slack.Text, "500 issues opened") || len(slack.Blocks) < 2 {
			t.Errorf("slack message: %v %s", err, rc.received("/slack")[0].body)
		}
		var teams map[string]any
		if err := json.Unmarshal(rc.received("/teams")[0].body, &teams); err != nil || teams["@type"] != "MessageCard" || !strings.Contains(fmt.Sprint(teams["title"]), "3 issues reopened") {
			t.Errorf("teams message: %v %s", err, rc.received("/teams")[0].body)
		}
		if a := f.attempts(hooks["all"]); len(a) != 2 || a[0].ResponseCode != 200 || a[0].State != "delivered" {
			t.Errorf("attempts of all: %+v", a)
		}
	})
}

// TestDeliveryRetries: 5xx and no answer are retried with backoff until
// they succeed, keeping the delivery id; 429 waits for its Retry-After;
// other 4xx is not retried; a hook failing for 24 hours has its
// delivery failed and is deactivated, with the reason shown.
func TestDeliveryRetries(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := newFixture(t, b)
		rc := newReceiver(t)
		rc.respond = func(r *http.Request, n int) (int, map[string]string) {
			switch r.URL.Path {
			case "/flaky":
				if len(rc.received("/flaky")) <= 2 {
					return http.StatusServiceUnavailable, nil
				}
			case "/dropped":
				if len(rc.received("/dropped")) <= 1 {
					return -1, nil
				}
			case "/gone":
				return http.StatusGone, nil
			case "/busy":
				if len(rc.received("/busy")) <= 1 {
					return http.StatusTooManyRequests, map[string]string{"Retry-After": "600"}
				}
			case "/down":
				return http.StatusInternalServerError, nil
			}
			return http.StatusOK, nil
		}
		flaky := f.hook(webhooks.Scope{}, "flaky", rc.URL+"/flaky", webhooks.Spec{})
		dropped := f.hook(webhooks.Scope{}, "dropped", rc.URL+"/dropped", webhooks.Spec{})
		gone := f.hook(webhooks.Scope{}, "gone", rc.URL+"/gone", webhooks.Spec{})
		busy := f.hook(webhooks.Scope{}, "busy", rc.URL+"/busy", webhooks.Spec{})
		down := f.hook(webhooks.Scope{}, "down", rc.URL+"/down", webhooks.Spec{})
		f.event(evaluationEvent())
		f.drain()
		f.drain() // nothing is due again at once
		for path, n := range map[string]int{"/flaky": 1, "/dropped": 1, "/gone": 1, "/busy": 1, "/down": 1} {
			if got := len(rc.received(path)); got != n {
				t.Errorf("%s: %d requests before any backoff, want %d", path, got, n)
			}
		}
		// The first backoff is about 10 s; Retry-After asks for 600 s.
		f.clock.Advance(time.Minute)
		f.drain()
		if got := len(rc.received("/busy")); got != 1 {
			t.Errorf("429 retried after a minute despite Retry-After 600: %d requests", got)
		}
		if got := len(rc.received("/dropped")); got != 2 {
			t.Errorf("a dropped connection: %d requests after a minute, want 2", got)
		}
		for range 3 {
			f.clock.Advance(10 * time.Minute)
			f.drain()
		}
		for path, n := range map[string]int{"/flaky": 3, "/dropped": 2, "/gone": 1, "/busy": 2} {
			if got := len(rc.received(path)); got != n {
				t.Errorf("%s: %d requests, want %d", path, got, n)
			}
		}
		ids := map[string]bool{}
		for _, h := range rc.received("/flaky") {
			ids[h.header.Get("Pulumi-Webhook-Id")] = true
		}
		if len(ids) != 1 {
			t.Errorf("the retries of one delivery carry %d ids", len(ids))
		}
		a := f.attempts(flaky)
		if len(a) != 3 || a[0].State != "delivered" || a[1].State != "retrying" || a[0].Attempt != 3 || a[2].ResponseCode != 503 {
			t.Errorf("flaky attempts: %+v", a)
		}
		if a := f.attempts(gone); len(a) != 1 || a[0].State != "failed" || a[0].ResponseCode != 410 {
			t.Errorf("gone attempts: %+v", a)
		}
		if a := f.attempts(dropped); len(a) != 2 || a[1].ResponseCode != 0 || a[1].Error == "" {
			t.Errorf("dropped attempts: %+v", a)
		}
		_ = busy

		// Down for 24 hours: its delivery fails and the hook is deactivated.
		for range 30 {
			f.clock.Advance(time.Hour)
			f.drain()
		}
		h, err := f.store.Get(context.Background(), webhooks.Scope{OrgID: f.orgID}, "down")
		if err != nil {
			t.Fatal(err)
		}
		if h.Active || !strings.Contains(h.DeactivatedReason, "HTTP 500") {
			t.Errorf("a hook failing for a day: active %v, reason %q", h.Active, h.DeactivatedReason)
		}
		a = f.attempts(down)
		if a[0].State != "failed" || len(a) < 10 || len(a) > 40 {
			t.Errorf("down: %d attempts, the last %+v", len(a), a[0])
		}
		n := len(rc.received("/down"))
		f.event(evaluationEvent())
		f.clock.Advance(time.Hour)
		f.drain()
		if got := len(rc.received("/down")); got != n {
			t.Errorf("a deactivated hook was sent %d more requests", got-n)
		}
		// Reactivating clears the reason.
		h, err = f.store.Update(context.Background(), webhooks.Scope{OrgID: f.orgID}, "down", webhooks.Spec{Active: ptr(true)})
		if err != nil || !h.Active || h.DeactivatedReason != "" {
			t.Errorf("reactivated: %v %+v", err, h)
		}
	})
}

// TestDeliveryAcrossOutageAndRestart: the receiver is down while events
// are written and the server restarts; once it is up, every event reaches
// it at least once, none lost, each delivery under one id.
func TestDeliveryAcrossOutageAndRestart(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := newFixture(t, b)
		rc := newReceiver(t)
		var up bool
		var mu sync.Mutex
		rc.respond = func(*http.Request, int) (int, map[string]string) {
			mu.Lock()
			defer mu.Unlock()
			if !up {
				return -1, nil
			}
			return http.StatusOK, nil
		}
		f.hook(webhooks.Scope{}, "a", rc.URL+"/a", webhooks.Spec{})
		f.hook(webhooks.Scope{}, "b", rc.URL+"/b", webhooks.Spec{Filters: &[]string{"policy_issue_fixed"}})
		for range 10 {
			f.event(evaluationEvent())
		}
		f.drain()
		f.restart()
		for range 5 {
			f.event(evaluationEvent())
		}
		f.clock.Advance(time.Minute)
		f.drain()
		mu.Lock()
		up = true
		mu.Unlock()
		f.restart()
		for range 4 {
			f.clock.Advance(10 * time.Minute)
			f.drain()
		}
		for _, path := range []string{"/a", "/b"} {
			ids := map[string]bool{}
			var delivered int
			for _, h := range rc.received(path) {
				ids[h.header.Get("Pulumi-Webhook-Id")] = true
			}
			var states []string
			if err := b.Repo.DB().Raw(`SELECT d.state FROM webhook_deliveries d JOIN webhooks h ON h.org_id = d.org_id AND h.id = d.hook_id
				WHERE h.org_id = ? AND h.name = ?`, f.orgID, strings.TrimPrefix(path, "/")).Scan(&states).Error; err != nil {
				t.Fatal(err)
			}
			for _, s := range states {
				if s == "delivered" {
					delivered++
				}
			}
			if len(ids) != 15 || delivered != 15 || len(states) != 15 {
				t.Errorf("%s: %d distinct deliveries received, %d of %d delivered, want 15", path, len(ids), delivered, len(states))
			}
		}
	})
}

// TestHangingReceiver: a receiver that never answers holds only its own
// deliveries; another hook's arrive meanwhile.
func TestHangingReceiver(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := newFixture(t, b)
		release := make(chan struct{})
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(hang.Close)
		t.Cleanup(func() { close(release) })
		rc := newReceiver(t)
		f.hook(webhooks.Scope{}, "hang", hang.URL, webhooks.Spec{})
		f.hook(webhooks.Scope{}, "fine", rc.URL+"/fine", webhooks.Spec{})
		for range 6 {
			f.event(evaluationEvent())
		}
		client := webhooks.NewHTTPClient(true)
		client.Timeout = 30 * time.Second
		w := webhooks.NewWorker(webhooks.WorkerConfig{Store: f.store, Client: client, Now: f.clock.Now, Poll: 20 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for len(rc.received("/fine")) < 6 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := len(rc.received("/fine")); got != 6 {
			t.Errorf("with a hanging receiver, the other hook got %d of 6 messages within 10 s", got)
		}
		cancel()
		hang.CloseClientConnections()
		<-done
	})
}

// TestRefusedAddresses: without --webhook-allow-private, deliveries and
// pings never connect to loopback, link-local (cloud metadata), private
// addresses, or a name resolving to loopback, and redirects are never
// followed.
func TestRefusedAddresses(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := newFixture(t, b)
		rc := newReceiver(t)
		port := rc.Listener.Addr().(interface{ String() string }).String()
		port = port[strings.LastIndex(port, ":")+1:]
		strict := webhooks.NewHTTPClient(false)
		for i, url := range []string{
			rc.URL + "/loopback",
			"http://localhost:" + port + "/name",
			"http://169.254.169.254/latest/meta-data/",
			"http://10.0.0.1/private",
			"http://[::1]:" + port + "/v6",
			"http://0.0.0.0:" + port + "/unspecified",
		} {
			h := f.hook(webhooks.Scope{}, fmt.Sprintf("refused%d", i), url, webhooks.Spec{})
			a, err := f.store.Ping(context.Background(), strict, h, f.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if a.ResponseCode != 0 || !strings.Contains(a.Error, "not a public address") {
				t.Errorf("%s: answered %d, error %q; want refused", url, a.ResponseCode, a.Error)
			}
		}
		if got := rc.received(""); len(got) != 0 {
			t.Errorf("the loopback receiver got %d requests", len(got))
		}

		rc.respond = func(r *http.Request, _ int) (int, map[string]string) {
			if r.URL.Path == "/redirect" {
				return http.StatusFound, map[string]string{"Location": "/elsewhere"}
			}
			return http.StatusOK, nil
		}
		h := f.hook(webhooks.Scope{}, "redirect", rc.URL+"/redirect", webhooks.Spec{})
		a, err := f.store.Ping(context.Background(), webhooks.NewHTTPClient(true), h, f.clock.Now())
		if err != nil || a.ResponseCode != http.StatusFound || len(rc.received("/elsewhere")) != 0 {
			t.Errorf("redirect: %v %+v, %d requests to its target", err, a, len(rc.received("/elsewhere")))
		}
	})
}

// TestRetention: attempts and finished deliveries older than 30 days are
// deleted; newer ones stay.
func TestRetention(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := newFixture(t, b)
		rc := newReceiver(t)
		h := f.hook(webhooks.Scope{}, "kept", rc.URL, webhooks.Spec{})
		f.event(evaluationEvent())
		f.drain()
		f.clock.Advance(20 * 24 * time.Hour)
		f.event(evaluationEvent())
		f.drain()
		if got := len(f.attempts(h)); got != 2 {
			t.Fatalf("%d attempts, want 2", got)
		}
		f.clock.Advance(11 * 24 * time.Hour)
		if err := f.store.Cleanup(context.Background(), f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := b.Repo.DB().Raw("SELECT count(*) FROM webhook_attempts WHERE org_id = ?", f.orgID).Scan(&n).Error; err != nil || n != 1 {
			t.Errorf("attempts after cleanup: %d %v, want 1", n, err)
		}
	})
}

// TestReplicasDeliverOnce: two servers' workers draining the same outbox
// at once send each delivery once between them.
func TestReplicasDeliverOnce(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := newFixture(t, b)
		rc := newReceiver(t)
		for i := range 3 {
			f.hook(webhooks.Scope{}, fmt.Sprintf("r%d", i), rc.URL+"/r", webhooks.Spec{})
		}
		for range 20 {
			f.event(evaluationEvent())
		}
		var wg sync.WaitGroup
		for range 2 {
			store := webhooks.New(b.Repo.DB(), b.Dialect.ConcurrentWrites(), "test key")
			w := webhooks.NewWorker(webhooks.WorkerConfig{Store: store, Client: webhooks.NewHTTPClient(true), Now: f.clock.Now, PerHook: 4})
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.Drain(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		ids := map[string]int{}
		for _, h := range rc.received("/r") {
			ids[h.header.Get("Pulumi-Webhook-Id")]++
		}
		if len(ids) != 60 {
			t.Errorf("%d distinct deliveries, want 60", len(ids))
		}
		for id, n := range ids {
			if n != 1 {
				t.Errorf("delivery %s sent %d times", id, n)
			}
		}
	})
}
