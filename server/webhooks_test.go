package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/repository/webhooks"
	"github.com/policyresults/policyresults/server"
)

// receiver is a webhook receiver on loopback that records what it is sent.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []receivedRequest
	status   int
}

type receivedRequest struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, receivedRequest{header: req.Header.Clone(), body: body})
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
