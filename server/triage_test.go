package server_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/oapi-codegen/nullable"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

func TestTriageRules(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		other := env.NewOrg(t)
		seedStacks(t, env, org, 1, 2)
		member := env.Client(t, org.Member)
		ctx := context.Background()
		is := issuesOf(t, member, org.Name)[0]
		id := is.Id.String()

		get, err := member.GetPolicyIssueWithResponse(ctx, org.Name, id)
		if err != nil || get.JSON200 == nil {
			t.Fatalf("get: %v", err)
		}
		etag := get.HTTPResponse.Header.Get("ETag")
		if etag == "" {
			t.Fatal("GET has no ETag")
		}
		if !get.JSON200.Policy.IsNull() && get.JSON200.Policy.IsSpecified() {
			t.Fatalf("policy of an unregistered pack should be null: %+v", get.JSON200.Policy)
		}

		patch := func(token string, body client.UpdatePolicyIssueRequest, ifMatch string) *client.UpdatePolicyIssueHTTPResponse {
			t.Helper()
			var params *client.UpdatePolicyIssueParams
			if ifMatch != "" {
				params = &client.UpdatePolicyIssueParams{IfMatch: &ifMatch}
			}
			r, err := env.Client(t, token).UpdatePolicyIssueWithResponse(ctx, org.Name, id, params, body)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		status := func(s client.PolicyIssueStatus) *client.PolicyIssueStatus { return &s }
		assign := func(who string) nullable.Nullable[string] { return nullable.NewNullableWithValue(who) }

		// Assign by email, set in progress, with the current ETag.
		r := patch(org.Member, client.UpdatePolicyIssueRequest{AssignedTo: assign(org.AdminEmail), Status: status(client.PolicyIssueStatusInProgress)}, etag)
		if r.StatusCode() != http.StatusOK {
			t.Fatalf("patch: %d %s", r.StatusCode(), r.Body)
		}
		got := r.JSON200.PolicyIssue
		if got.Status != client.PolicyIssueStatusInProgress || got.AssignedTo.MustGet().GithubLogin != org.AdminLogin || !got.LastModified.After(*is.LastModified) {
			t.Fatalf("patched issue %+v", got)
		}
		newTag := r.HTTPResponse.Header.Get("ETag")
		if newTag == etag {
			t.Fatal("ETag did not change")
		}
		// The old ETag is now stale: 412, nothing written.
		if r := patch(org.Member, client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusOpen)}, etag); r.StatusCode() != http.StatusPreconditionFailed {
			t.Fatalf("stale If-Match: %d %s", r.StatusCode(), r.Body)
		}
		// A PATCH that changes nothing writes nothing.
		before := history(t, member, org.Name, id)
		if r := patch(org.Member, client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusInProgress)}, ""); r.StatusCode() != http.StatusOK || r.HTTPResponse.Header.Get("ETag") != newTag {
			t.Fatalf("no-op patch: %d, ETag %s", r.StatusCode(), r.HTTPResponse.Header.Get("ETag"))
		}
		if after := history(t, member, org.Name, id); len(after) != len(before) {
			t.Fatalf("no-op patch wrote history: %d -> %d", len(before), len(after))
		}
		// null and "" unassign; login assigns.
		var unassign nullable.Nullable[string]
		unassign.SetNull()
		for _, body := range []client.UpdatePolicyIssueRequest{{AssignedTo: unassign}, {AssignedTo: assign(org.MemberLogin)}, {AssignedTo: assign("")}} {
			r := patch(org.Member, body, "")
			if r.StatusCode() != http.StatusOK {
				t.Fatalf("assign %v: %d %s", body.AssignedTo, r.StatusCode(), r.Body)
			}
			wantAssigned := body.AssignedTo.IsSpecified() && !body.AssignedTo.IsNull() && body.AssignedTo.MustGet() != ""
			if r.JSON200.PolicyIssue.AssignedTo.IsSpecified() != wantAssigned {
				t.Fatalf("assignedTo after %v: %+v", body.AssignedTo, r.JSON200.PolicyIssue.AssignedTo)
			}
		}
		// Refusals.
		for _, tc := range []struct {
			name   string
			token  string
			body   client.UpdatePolicyIssueRequest
			status int
		}{
			{"fixed by hand", org.Member, client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusFixed)}, http.StatusBadRequest},
			{"non-member assignee", org.Member, client.UpdatePolicyIssueRequest{AssignedTo: assign(other.AdminLogin)}, http.StatusBadRequest},
			{"viewer", org.Viewer, client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusOpen)}, http.StatusForbidden},
		} {
			if r := patch(tc.token, tc.body, ""); r.StatusCode() != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.StatusCode(), r.Body, tc.status)
			}
		}
		// Another organisation's admin sees 404 for the issue.
		g, err := env.Client(t, other.Admin).GetPolicyIssueWithResponse(ctx, other.Name, id)
		if err != nil || g.StatusCode() != http.StatusNotFound {
			t.Fatalf("issue through another organisation: %v %d", err, g.StatusCode())
		}
		// The history records people's changes with their login, newest first.
		h := history(t, member, org.Name, id)
		if len(h) == 0 || h[0].Actor != org.MemberLogin || h[0].ActorType != client.PolicyIssueHistoryEntryActorTypeUser {
			t.Fatalf("history head %+v", h)
		}
		for i := 1; i < len(h); i++ {
			if h[i].At.After(h[i-1].At) {
				t.Fatal("history is not newest first")
			}
		}
	})
}

func history(t *testing.T, c *client.ClientWithResponses, org, id string) []client.PolicyIssueHistoryEntry {
	t.Helper()
	r, err := c.ListPolicyIssueHistoryWithResponse(context.Background(), org, id)
	if err != nil || r.JSON200 == nil {
		t.Fatalf("history: %v %s", err, r.Body)
	}
	return r.JSON200.Entries
}

// The assignee and status facets and the registered policy details.
func TestIssueDetailsFromRegisteredPack(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		admin := env.Client(t, org.Admin)
		ctx := context.Background()
		tag := "1.0.0"
		create, err := admin.CreatePolicyPackWithResponse(ctx, org.Name, client.AppCreatePolicyPackRequest{
			Name: "baseline", DisplayName: "Baseline", VersionTag: &tag, Policies: testPolicies(),
		})
		if err != nil || create.StatusCode() != http.StatusCreated {
			t.Fatalf("create pack: %v %s", err, create.Body)
		}
		seedStacks(t, env, org, 1, 2)
		is := issuesOf(t, admin, org.Name)[0]
		for _, tc := range []struct {
			token  string
			access client.RegistryPolicyPackAccessLevel
		}{{org.Admin, client.RegistryPolicyPackAccessLevelFull}, {org.Viewer, client.RegistryPolicyPackAccessLevelViewOnly}} {
			g, err := env.Client(t, tc.token).GetPolicyIssueWithResponse(ctx, org.Name, is.Id.String())
			if err != nil || g.JSON200 == nil {
				t.Fatalf("get: %v", err)
			}
			pol, pack := g.JSON200.Policy.MustGet(), g.JSON200.PolicyPack.MustGet()
			if pol.Name != is.PolicyName || pack.Name != "baseline" || pack.Version != "1.0.0" || pack.Publisher != org.Name ||
				pack.Source != "private" || pack.AccessLevel != tc.access {
				t.Fatalf("policy %+v pack %+v", pol, pack)
			}
		}
	})
}

// An issue of a registered pack version answers with the version its tag
// names and the policy of that version; a policy the version lacks is
// null beside the pack.
func TestIssueDetailsOfARegisteredPack(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		publishPack(t, env, org, "baseline", "1.0.0", testPolicies()[:2])
		publishPack(t, env, org, "baseline", "1.1.0", testPolicies())
		seedStacks(t, env, org, 1, 10)
		member := env.Client(t, org.Member)
		priority := client.PolicyIssuePriority("p4")
		for _, is := range issuesOf(t, member, org.Name) {
			get, err := member.GetPolicyIssueWithResponse(context.Background(), org.Name, is.Id.String())
			if err != nil || get.JSON200 == nil {
				t.Fatalf("get: %v", err)
			}
			// A triage change answers the issue with the same policy and pack.
			patch, err := member.UpdatePolicyIssueWithResponse(context.Background(), org.Name, is.Id.String(), nil,
				client.UpdatePolicyIssueRequest{Priority: &priority})
			if err != nil || patch.JSON200 == nil {
				t.Fatalf("patch: %v", err)
			}
			if patch.JSON200.PolicyIssue.Priority != priority || !reflect.DeepEqual(patch.JSON200.Policy, get.JSON200.Policy) ||
				!reflect.DeepEqual(patch.JSON200.PolicyPack, get.JSON200.PolicyPack) {
				t.Errorf("%s: patch answered priority %q, policy %+v, pack %+v; get answered policy %+v, pack %+v", is.PolicyName,
					patch.JSON200.PolicyIssue.Priority, patch.JSON200.Policy, patch.JSON200.PolicyPack, get.JSON200.Policy, get.JSON200.PolicyPack)
			}
			pack := get.JSON200.PolicyPack.MustGet()
			if pack.Name != "baseline" || pack.Version != "1.0.0" || pack.DisplayName != "baseline" {
				t.Errorf("%s: pack %+v, want baseline 1.0.0", is.PolicyName, pack)
			}
			var want *client.AppPolicy
			for _, p := range testPolicies()[:2] {
				if p.Name == is.PolicyName {
					want = &p
				}
			}
			switch {
			case want == nil && !get.JSON200.Policy.IsNull():
				t.Errorf("%s: policy %+v, want null (1.0.0 lacks it)", is.PolicyName, get.JSON200.Policy)
			case want != nil:
				got := get.JSON200.Policy.MustGet()
				if got.Name != want.Name || got.Description != want.Description || got.EnforcementLevel != want.EnforcementLevel ||
					*got.Severity != *want.Severity || got.DisplayName != want.DisplayName || got.Message != want.Message {
					t.Errorf("policy %+v, want %+v", got, *want)
				}
			}
		}
	})
}
