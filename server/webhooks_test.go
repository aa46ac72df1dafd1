package server_test

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

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/repository/webhooks"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
)

// receiver is a webhook receiver on loopback that records what it is sent.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []receivedRequest
	status   int
}

type receivedRequest struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, receivedRequest{path: req.URL.Path, header: req.Header.Clone(), body: body})
		status := r.status
		r.mu.Unlock()
		w.Header().Set("X-Receiver", "yes")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("thanks"))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedRequest(nil), r.requests...)
}

// TestWebhookManagement creates, reads, changes, pings and deletes
// organisation and stack webhooks as an admin: the secret is never
// answered nor logged, the receiver can verify the ping's signature, the
// ping is listed among the deliveries, names collide only within a scope,
// bad input is answered 400 naming the field, and members may not manage
// webhooks.
func TestWebhookManagement(t *testing.T) {
	const secret = "s3cr3t-Webhook-Key"
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env, logs := startLogged(t, b, server.Config{WebhookClient: webhooks.NewHTTPClient(true)})
		org := env.NewOrg(t)
		ctx := context.Background()
		admin := env.Client(t, org.Admin)
		recv := newReceiver(t)

		created, err := admin.CreateOrganizationWebhookWithResponse(ctx, org.Name, client.Webhook{
			OrganizationName: ptr(org.Name), Name: ptr("oncall"), DisplayName: "On call", PayloadUrl: recv.URL + "/hook",
			Secret: ptr(secret), Filters: &[]client.WebhookFilter{client.WebhookFilterPolicyViolationMandatory},
			MinimumSeverity: ptr(client.WebhookMinimumSeverityHigh),
		})
		if err != nil || created.StatusCode() != http.StatusCreated {
			t.Fatalf("create: %v %s", err, created.Body)
		}
		h := created.JSON201
		if deref(h.Name) != "oncall" || !deref(h.Active) || deref(h.Format) != client.WebhookFormatRaw || !deref(h.HasSecret) ||
			h.Secret != nil || deref(h.MinimumSeverity) != client.WebhookMinimumSeverityHigh {
			t.Errorf("created webhook: %s", created.Body)
		}

		// A stack webhook of the same name is another webhook; a second
		// organisation webhook of that name conflicts.
		stackHook, err := admin.CreateStackWebhookWithResponse(ctx, org.Name, "shop", "prod", client.Webhook{
			Name: ptr("oncall"), DisplayName: "Prod", PayloadUrl: recv.URL, Format: ptr(client.WebhookFormatSlack)})
		if err != nil || stackHook.StatusCode() != http.StatusCreated || deref(stackHook.JSON201.StackName) != "prod" {
			t.Fatalf("create stack webhook: %v %s", err, stackHook.Body)
		}
		dup, _ := admin.CreateOrganizationWebhookWithResponse(ctx, org.Name, client.Webhook{Name: ptr("oncall"), DisplayName: "x", PayloadUrl: recv.URL})
		if dup.StatusCode() != http.StatusConflict {
			t.Errorf("duplicate name: %d %s, want 409", dup.StatusCode(), dup.Body)
		}
		generated, _ := admin.CreateOrganizationWebhookWithResponse(ctx, org.Name, client.Webhook{DisplayName: "no name", PayloadUrl: recv.URL})
		if generated.StatusCode() != http.StatusCreated || deref(generated.JSON201.Name) == "" {
			t.Errorf("create without a name: %d %s", generated.StatusCode(), generated.Body)
		}

		for _, bad := range []struct {
			body  client.Webhook
			field string
		}{
			{client.Webhook{DisplayName: "x", PayloadUrl: "ftp://example.com/hook"}, "payloadUrl"},
			{client.Webhook{DisplayName: "x", PayloadUrl: "https://user:pw@example.com/hook"}, "payloadUrl"},
			{client.Webhook{DisplayName: "x", PayloadUrl: "/relative"}, "payloadUrl"},
			{client.Webhook{DisplayName: "x", PayloadUrl: recv.URL, OrganizationName: ptr("another-org")}, "organizationName"},
			{client.Webhook{DisplayName: "x", PayloadUrl: recv.URL, Name: ptr("no spaces")}, "name"},
		} {
			r, err := admin.CreateOrganizationWebhookWithResponse(ctx, org.Name, bad.body)
			if err != nil || r.StatusCode() != http.StatusBadRequest || !strings.Contains(string(r.Body), bad.field) {
				t.Errorf("create %+v: %d %s, want 400 naming %s", bad.body, r.StatusCode(), r.Body, bad.field)
			}
		}

		// Members and viewers neither see nor manage webhooks.
		for _, token := range []string{org.Member, org.Viewer, org.OrgToken} {
			c := env.Client(t, token)
			if r, _ := c.ListOrganizationWebhooksWithResponse(ctx, org.Name, nil); r.StatusCode() != http.StatusForbidden {
				t.Errorf("list as a non-admin: %d, want 403", r.StatusCode())
			}
			if r, _ := c.PingOrganizationWebhookWithResponse(ctx, org.Name, "oncall"); r.StatusCode() != http.StatusForbidden {
				t.Errorf("ping as a non-admin: %d, want 403", r.StatusCode())
			}
		}

		ping, err := admin.PingOrganizationWebhookWithResponse(ctx, org.Name, "oncall")
		if err != nil || ping.StatusCode() != http.StatusOK || ping.JSON200.ResponseCode != http.StatusOK || ping.JSON200.Kind != "ping" ||
			ping.JSON200.ResponseBody != "thanks" {
			t.Fatalf("ping: %v %s", err, ping.Body)
		}
		got := recv.received()
		if len(got) != 1 {
			t.Fatalf("receiver got %d requests, want the ping", len(got))
		}
		if sig := got[0].header.Get("Pulumi-Webhook-Signature"); sig != webhooks.Signature(got[0].body, secret) || sig == "" {
			t.Errorf("signature %q does not verify with the secret", sig)
		}
		if got[0].header.Get("Pulumi-Webhook-Id") != ping.JSON200.Id || got[0].header.Get("Pulumi-Webhook-Kind") != "ping" {
			t.Errorf("headers %v, delivery %s", got[0].header, ping.Body)
		}
		if strings.Contains(ping.JSON200.RequestHeaders, "Signature") {
			t.Errorf("recorded request headers carry the signature: %q", ping.JSON200.RequestHeaders)
		}

		// An update changes what it sends; removing the secret stops the signature.
		upd, err := admin.UpdateOrganizationWebhookWithResponse(ctx, org.Name, "oncall", client.WebhookUpdate{
			DisplayName: ptr("Renamed"), Secret: ptr(""), Active: ptr(false)})
		if err != nil || upd.StatusCode() != http.StatusOK || upd.JSON200.DisplayName != "Renamed" || deref(upd.JSON200.HasSecret) ||
			deref(upd.JSON200.Active) || upd.JSON200.PayloadUrl != recv.URL+"/hook" {
			t.Fatalf("update: %v %s", err, upd.Body)
		}
		if _, err := admin.PingOrganizationWebhookWithResponse(ctx, org.Name, "oncall"); err != nil {
			t.Fatal(err)
		}
		// Pulumi's provider sends the whole webhook back, names included.
		whole, err := admin.UpdateOrganizationWebhookWithResponse(ctx, org.Name, "oncall", client.WebhookUpdate{
			OrganizationName: ptr(org.Name), Name: ptr("oncall"), DisplayName: ptr("Renamed"), PayloadUrl: ptr(recv.URL + "/hook"), Active: ptr(false),
			Format: ptr(client.WebhookFormatRaw), Filters: &[]client.WebhookFilter{client.WebhookFilterPolicyViolationMandatory}})
		if err != nil || whole.StatusCode() != http.StatusOK {
			t.Errorf("update with the whole webhook: %v %s", err, whole.Body)
		}
		if r, _ := admin.UpdateOrganizationWebhookWithResponse(ctx, org.Name, "oncall", client.WebhookUpdate{Name: ptr("another")}); r.StatusCode() != http.StatusBadRequest ||
			!strings.Contains(string(r.Body), "name") {
			t.Errorf("a rename: %d %s, want 400 naming name", r.StatusCode(), r.Body)
		}
		if got := recv.received(); len(got) != 2 || got[1].header.Get("Pulumi-Webhook-Signature") != "" {
			t.Errorf("ping without a secret: %d requests, signature %q", len(got), got[len(got)-1].header.Get("Pulumi-Webhook-Signature"))
		}

		deliveries, err := admin.GetOrganizationWebhookDeliveriesWithResponse(ctx, org.Name, "oncall")
		if err != nil || deliveries.StatusCode() != http.StatusOK || len(*deliveries.JSON200) != 2 {
			t.Fatalf("deliveries: %v %s", err, deliveries.Body)
		}
		if d := *deliveries.JSON200; d[1].Id != ping.JSON200.Id || d[0].Timestamp < d[1].Timestamp {
			t.Errorf("deliveries not newest first: %s", deliveries.Body)
		}

		list, err := admin.ListOrganizationWebhooksWithResponse(ctx, org.Name, nil)
		if err != nil || list.StatusCode() != http.StatusOK || len(*list.JSON200) != 2 {
			t.Fatalf("list: %v %s", err, list.Body)
		}
		stackList, _ := admin.ListStackWebhooksWithResponse(ctx, org.Name, "shop", "prod", nil)
		if len(*stackList.JSON200) != 1 || deref((*stackList.JSON200)[0].Format) != client.WebhookFormatSlack {
			t.Errorf("stack list: %s", stackList.Body)
		}

		if r, _ := admin.DeleteStackWebhookWithResponse(ctx, org.Name, "shop", "prod", "oncall"); r.StatusCode() != http.StatusNoContent {
			t.Errorf("delete: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := admin.GetStackWebhookWithResponse(ctx, org.Name, "shop", "prod", "oncall"); r.StatusCode() != http.StatusNotFound {
			t.Errorf("get after delete: %d, want 404", r.StatusCode())
		}
		if r, _ := admin.GetOrganizationWebhookWithResponse(ctx, org.Name, "oncall"); r.StatusCode() != http.StatusOK {
			t.Errorf("the organisation webhook of the same name: %d, want 200", r.StatusCode())
		}

		if strings.Contains(logs.String(), secret) {
			t.Error("the webhook secret is in the logs")
		}
		var stored []string
		if err := b.Repo.DB().Raw("SELECT secret_enc FROM webhooks").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		for _, s := range stored {
			if strings.Contains(s, secret) {
				t.Error("the webhook secret is stored in clear")
			}
		}
	})
}

// drainHooks delivers every event the server's transactions wrote, as
// serve's worker does.
func drainHooks(t *testing.T, env *servertest.Env) {
	t.Helper()
	store := webhooks.New(env.Repo.DB(), env.Repo.Dialect().ConcurrentWrites(), "")
	w := webhooks.NewWorker(webhooks.WorkerConfig{Store: store, Client: webhooks.NewHTTPClient(true), ConsoleURL: "https://console.example.com"})
	if err := w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// payloads are the raw messages a receiver got on path.
func (r *receiver) payloads(t *testing.T, path string) []webhooks.RawPayload {
	t.Helper()
	var out []webhooks.RawPayload
	for _, req := range r.received() {
		if req.path != path {
			continue
		}
		var p webhooks.RawPayload
		if err := json.Unmarshal(req.body, &p); err != nil {
			t.Fatalf("%s: %v: %s", path, err, req.body)
		}
		out = append(out, p)
	}
	return out
}

// TestWebhookEvents: evaluations and triage through the API send their
// events: one message per evaluation per hook, whatever the number of
// issues it opens, counting what each hook's filters follow (mandatory
// violations, fixed, reopened, triaged by a person); a stack hook hears
// only its stack; an organisation without an active hook keeps no events.
func TestWebhookEvents(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		quiet := env.NewOrg(t)
		ctx := context.Background()
		admin := env.Client(t, org.Admin)
		recv := newReceiver(t)
		create := func(name string, body client.Webhook, stack string) {
			t.Helper()
			body.Name, body.DisplayName, body.PayloadUrl = ptr(name), name, recv.URL+"/"+name
			var status int
			var raw []byte
			if stack == "" {
				r, err := admin.CreateOrganizationWebhookWithResponse(ctx, org.Name, body)
				if err != nil {
					t.Fatal(err)
				}
				status, raw = r.StatusCode(), r.Body
			} else {
				r, err := admin.CreateStackWebhookWithResponse(ctx, org.Name, "shop", stack, body)
				if err != nil {
					t.Fatal(err)
				}
				status, raw = r.StatusCode(), r.Body
			}
			if status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", name, status, raw)
			}
		}
		create("all", client.Webhook{Secret: ptr("events-secret")}, "")
		create("mandatory", client.Webhook{Filters: &[]client.WebhookFilter{client.WebhookFilterPolicyViolationMandatory}}, "")
		create("fixed", client.Webhook{Filters: &[]client.WebhookFilter{client.WebhookFilterPolicyIssueFixed, client.WebhookFilterPolicyIssueReopened}}, "")
		create("triaged", client.Webhook{Filters: &[]client.WebhookFilter{client.WebhookFilterPolicyIssueTriaged}}, "")
		create("s1", client.Webhook{}, "s1")

		// s0: 40 resources fail no-public-read (critical, mandatory) on
		// every 2nd, encrypted (medium, advisory) on every 3rd, versioned
		// (low, advisory) on every 5th: 20 + 14 + 8 issues, one evaluation.
		c := env.Client(t, org.OrgToken)
		first := evaluation{project: "shop", stack: "s0", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(), resources: 40,
			fails: map[string][]int{}}
		for i := 0; i < 40; i++ {
			if i%2 == 0 {
				first.fails["no-public-read"] = append(first.fails["no-public-read"], i)
			}
			if i%3 == 0 {
				first.fails["encrypted"] = append(first.fails["encrypted"], i)
			}
			if i%5 == 0 {
				first.fails["versioned"] = append(first.fails["versioned"], i)
			}
		}
		ingest(t, c, org.Name, first.request())
		seedStacks(t, env, quiet, 1, 10)
		drainHooks(t, env)
		if p := recv.payloads(t, "/all"); len(p) != 1 || p[0].Total != 42 || p[0].Evaluation == nil || len(p[0].Issues) != 20 || p[0].StackName != "s0" {
			t.Fatalf("all after one evaluation: %+v", p)
		}
		if p := recv.payloads(t, "/mandatory"); len(p) != 1 || p[0].Total != 20 || p[0].Counts[0].Severity != "critical" {
			t.Errorf("mandatory: %+v", p)
		}
		for _, path := range []string{"/fixed", "/triaged", "/s1"} {
			if n := len(recv.payloads(t, path)); n != 0 {
				t.Errorf("%s got %d messages from an evaluation it does not follow", path, n)
			}
		}
		sig := recv.received()[0]
		for _, r := range recv.received() {
			if r.path == "/all" {
				sig = r
			}
		}
		if sig.header.Get("Pulumi-Webhook-Signature") != webhooks.Signature(sig.body, "events-secret") {
			t.Error("the evaluation's message does not verify")
		}

		// Version 2 fixes no-public-read everywhere; version 3 reports it
		// again on resource 0.
		second := first
		second.version = 2
		second.fails = map[string][]int{"encrypted": first.fails["encrypted"], "versioned": first.fails["versioned"]}
		ingest(t, c, org.Name, second.request())
		third := second
		third.version = 3
		third.fails = map[string][]int{"no-public-read": {0}, "encrypted": first.fails["encrypted"], "versioned": first.fails["versioned"]}
		ingest(t, c, org.Name, third.request())
		drainHooks(t, env)
		var changes []string
		for _, p := range recv.payloads(t, "/fixed") {
			for _, cnt := range p.Counts {
				changes = append(changes, fmt.Sprintf("%s %d", cnt.Change, cnt.N))
			}
		}
		slices.Sort(changes)
		if !slices.Equal(changes, []string{"fixed 20", "reopened 1"}) {
			t.Errorf("fixed and reopened: %v", changes)
		}
		if p := recv.payloads(t, "/mandatory"); len(p) != 2 || p[1].Total != 1 {
			t.Errorf("mandatory after a reopen: %+v", p)
		}

		// A person triages one issue.
		issues := issuesOf(t, env.Client(t, org.Viewer), org.Name)
		status := client.PolicyIssueStatus("in_progress")
		if r, err := admin.UpdatePolicyIssueWithResponse(ctx, org.Name, issues[0].Id.String(), nil, client.UpdatePolicyIssueRequest{Status: &status}); err != nil || r.StatusCode() >= 300 {
			t.Fatalf("triage: %v %s", err, r.Body)
		}
		drainHooks(t, env)
		if p := recv.payloads(t, "/triaged"); len(p) != 1 || p[0].Total != 1 || p[0].User == nil || p[0].User.GithubLogin == "" ||
			p[0].Issues[0].Status != "in_progress" || p[0].Kind != "policy_issue_triaged" {
			t.Errorf("triaged: %+v", p)
		}

		// s1's stack hook hears s1 only.
		ingest(t, c, org.Name, evaluation{project: "shop", stack: "s1", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(),
			resources: 4, fails: map[string][]int{"versioned": {0}}}.request())
		drainHooks(t, env)
		if p := recv.payloads(t, "/s1"); len(p) != 1 || p[0].StackName != "s1" || p[0].Total != 1 {
			t.Errorf("stack hook: %+v", p)
		}
		if n := len(recv.payloads(t, "/all")); n != 5 {
			t.Errorf("all: %d messages, want one per evaluation (4) and the triage", n)
		}
		var kept int64
		if err := b.Repo.DB().Raw("SELECT count(*) FROM webhook_events WHERE org_id = ?", quiet.ID).Scan(&kept).Error; err != nil || kept != 0 {
			t.Errorf("an organisation without webhooks kept %d events (%v)", kept, err)
		}
	})
}

// TestWebhookBatchAndExpiryEvents: a batch triage is one message listing
// its issues under its batch id; an acceptance that expires is one message
// to the hooks that follow policy_acceptance_expired.
func TestWebhookBatchAndExpiryEvents(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ctx := context.Background()
		admin := env.Client(t, org.Admin)
		recv := newReceiver(t)
		for name, filter := range map[string]client.WebhookFilter{"triaged": client.WebhookFilterPolicyIssueTriaged, "expired": client.WebhookFilterPolicyAcceptanceExpired} {
			r, err := admin.CreateOrganizationWebhookWithResponse(ctx, org.Name, client.Webhook{Name: ptr(name), DisplayName: name,
				PayloadUrl: recv.URL + "/" + name, Filters: &[]client.WebhookFilter{filter}})
			if err != nil || r.StatusCode() != http.StatusCreated {
				t.Fatalf("create %s: %v %s", name, err, r.Body)
			}
		}
		seedStacks(t, env, org, 1, 6)
		issues := issuesOf(t, env.Client(t, org.Viewer), org.Name)
		ids := []string{issues[0].Id.String(), issues[1].Id.String(), issues[2].Id.String()}
		status := client.PolicyIssueStatus("in_progress")
		if r, err := admin.BatchUpdatePolicyIssuesWithResponse(ctx, org.Name, client.BatchUpdatePolicyIssuesRequest{Ids: &ids, ExpectedCount: 3, Status: &status}); err != nil || r.StatusCode() >= 300 {
			t.Fatalf("batch: %v %s", err, r.Body)
		}
		drainHooks(t, env)
		if p := recv.payloads(t, "/triaged"); len(p) != 1 || p[0].Total != 3 || p[0].BatchID == "" || p[0].Cause != "batch" {
			t.Errorf("batch: %+v", p)
		}

		ignored := client.PolicyIssueStatus("ignored")
		req := client.UpdatePolicyIssueRequest{Status: &ignored, AcceptanceReason: ptr("a compensating control")}
		req.AcceptedUntil.Set(time.Now().Add(time.Hour))
		if r, err := admin.UpdatePolicyIssueWithResponse(ctx, org.Name, issues[4].Id.String(), nil, req); err != nil || r.StatusCode() >= 300 {
			t.Fatalf("accept: %v %s", err, r.Body)
		}
		if _, err := env.Repo.ExpireAcceptances(ctx, time.Now().Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		drainHooks(t, env)
		if p := recv.payloads(t, "/expired"); len(p) != 1 || p[0].Total != 1 || p[0].Kind != "policy_acceptance_expired" || p[0].Issues[0].ID != issues[4].Id.String() {
			t.Errorf("expiry: %+v", p)
		}
	})
}
