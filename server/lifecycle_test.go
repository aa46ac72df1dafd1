package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// issuesOf lists every issue of an organisation (up to 1000).
func issuesOf(t *testing.T, c *client.ClientWithResponses, org string) []client.PolicyIssue {
	t.Helper()
	resp, err := c.ListPolicyIssuesWithResponse(context.Background(), org, client.AngularGridGetRowsRequest{StartRow: ptr(0), EndRow: ptr(1000)})
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("list issues: %v %s", err, resp.Body)
	}
	return resp.JSON200.PolicyIssues
}

// byKey indexes issues by policy and resource name.
func byKey(issues []client.PolicyIssue) map[string]client.PolicyIssue {
	out := map[string]client.PolicyIssue{}
	for _, is := range issues {
		out[is.PolicyName+"/"+is.ResourceName] = is
	}
	return out
}

func TestIssueLifecycleThroughTheAPI(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ci := env.Client(t, org.OrgToken)
		member := env.Client(t, org.Member)
		ctx := context.Background()
		base := evaluation{project: "shop", stack: "prod", pack: "baseline", tag: "1.0.0", policies: testPolicies(), resources: 4}

		// v1: two violations open two issues.
		v1 := base
		v1.version = 1
		v1.fails = map[string][]int{"no-public-read": {0}, "encrypted": {1}}
		if s := ingest(t, ci, org.Name, v1.request()); s.IssuesOpened != 2 || s.ResourcesGoverned != 4 {
			t.Fatalf("v1 summary %+v", s)
		}
		issues := byKey(issuesOf(t, member, org.Name))
		pub, enc := issues["no-public-read/bucket-0"], issues["encrypted/bucket-1"]
		if pub.Status != client.PolicyIssueStatusOpen || pub.Priority != client.PolicyIssuePriorityP0 || pub.Severity != client.PolicySeverityCritical ||
			pub.EntityType != client.PolicyIssueEntityTypeStack || pub.EntityProject != "shop" || pub.EntityId != "prod" ||
			pub.Kind != client.PolicyIssueKindPreventative || pub.Level != "mandatory" || *pub.StackVersion != 1 || pub.ResourceProvider != "aws" {
			t.Fatalf("opened issue %+v", pub)
		}
		if enc.Priority != client.PolicyIssuePriorityP2 {
			t.Fatalf("medium severity gives p2, got %s", enc.Priority)
		}

		// Re-sending v1 changes nothing.
		if s := ingest(t, ci, org.Name, v1.request()); s.IssuesOpened != 0 || s.IssuesFixed != 0 || s.IssuesUnchanged != 2 {
			t.Fatalf("resend summary %+v", s)
		}
		if again := byKey(issuesOf(t, member, org.Name)); !again["no-public-read/bucket-0"].LastModified.Equal(*pub.LastModified) {
			t.Fatal("a resent evaluation changed lastModified")
		}

		// A person accepts the encryption issue as ignored.
		ignored := client.PolicyIssueStatusIgnored
		if r, err := member.UpdatePolicyIssueWithResponse(ctx, org.Name, enc.Id.String(), nil, client.UpdatePolicyIssueRequest{Status: &ignored}); err != nil || r.StatusCode() != http.StatusOK {
			t.Fatalf("ignore: %v %s", err, r.Body)
		}

		// v2 with pack 1.1.0: bucket-0 is fixed, the ignored issue is still
		// reported and keeps its status, the issue keeps its id and takes the
		// new tag.
		v2 := base
		v2.version, v2.tag = 2, "1.1.0"
		v2.fails = map[string][]int{"encrypted": {1}}
		if s := ingest(t, ci, org.Name, v2.request()); s.IssuesFixed != 1 || s.IssuesUnchanged != 1 || s.IssuesOpened != 0 {
			t.Fatalf("v2 summary %+v", s)
		}
		issues = byKey(issuesOf(t, member, org.Name))
		if got := issues["no-public-read/bucket-0"]; got.Status != client.PolicyIssueStatusFixed || got.Id != pub.Id {
			t.Fatalf("v2 fixed issue %+v", got)
		}
		if got := issues["encrypted/bucket-1"]; got.Status != client.PolicyIssueStatusIgnored || got.PolicyPackTag != "1.1.0" || got.Id != enc.Id || *got.StackVersion != 2 {
			t.Fatalf("v2 ignored issue %+v", got)
		}

		// A stale evaluation (v1 after v2) is refused and changes nothing.
		resp, err := ci.CreatePolicyEvaluationWithResponse(ctx, org.Name, v1.request())
		if err != nil || resp.StatusCode() != http.StatusConflict || resp.JSON409 == nil || resp.JSON409.Message == "" {
			t.Fatalf("stale evaluation: %v %d %s", err, resp.StatusCode(), resp.Body)
		}
		if got := byKey(issuesOf(t, member, org.Name))["no-public-read/bucket-0"]; got.Status != client.PolicyIssueStatusFixed {
			t.Fatalf("a stale evaluation reopened an issue: %+v", got)
		}

		// v3 reports bucket-0 again: reopened, same id.
		v3 := base
		v3.version, v3.tag = 3, "1.1.0"
		v3.fails = map[string][]int{"no-public-read": {0}, "encrypted": {1}}
		if s := ingest(t, ci, org.Name, v3.request()); s.IssuesReopened != 1 {
			t.Fatalf("v3 summary %+v", s)
		}
		if got := byKey(issuesOf(t, member, org.Name))["no-public-read/bucket-0"]; got.Status != client.PolicyIssueStatusOpen || got.Id != pub.Id {
			t.Fatalf("reopened issue %+v", got)
		}

		// The history tells the whole story, newest first, with actors.
		h, err := member.ListPolicyIssueHistoryWithResponse(ctx, org.Name, pub.Id.String())
		if err != nil || h.JSON200 == nil {
			t.Fatalf("history: %v", err)
		}
		var statuses []string
		for _, e := range h.JSON200.Entries {
			if e.Field == "status" {
				statuses = append(statuses, e.NewValue.MustGet())
				if e.ActorType != client.PolicyIssueHistoryEntryActorTypeEvaluation {
					t.Errorf("status change by %s, want evaluation", e.ActorType)
				}
			}
		}
		if len(statuses) < 2 || statuses[0] != "open" || statuses[1] != "fixed" {
			t.Fatalf("history statuses (newest first) %v, want open, fixed, ...", statuses)
		}

		// A resource missing from a complete evaluation's inventory fixes its
		// issues.
		v4 := base
		v4.version, v4.tag, v4.resources = 4, "1.1.0", 1
		v4.fails = map[string][]int{"no-public-read": {0}}
		if s := ingest(t, ci, org.Name, v4.request()); s.IssuesFixed != 1 {
			t.Fatalf("v4 summary %+v", s)
		}
		if got := byKey(issuesOf(t, member, org.Name))["encrypted/bucket-1"]; got.Status != client.PolicyIssueStatusFixed {
			t.Fatalf("issue of a vanished resource: %+v", got)
		}
	})
}

func TestPulumiIngestForms(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ci := env.Client(t, org.OrgToken)
		ctx := context.Background()
		// Pulumi's form names no packs when nothing fails: the packs that ran
		// are those applied to the stack's policy groups.
		publishPack(t, env, org, "aws", "2.0.0", []client.AppPolicy{{Name: "public-read", DisplayName: "Public read",
			Description: "Buckets are private.", EnforcementLevel: client.AppEnforcementLevelMandatory, Message: "Bucket is public."}})
		applyPack(t, env, org, "default-policy-group", "aws")
		res := urn("web", "prod", "aws:s3/bucket:Bucket", "site")
		msg, tag := "Bucket is public", "2.0.0"
		results := func(violations ...client.InsightsPolicyViolation) client.InsightsPolicyResults {
			r := client.InsightsPolicyResults{Succeeded: len(violations) == 0}
			r.Violations.Set(violations)
			return r
		}
		v := client.InsightsPolicyViolation{PolicyPackName: "aws", PolicyPackVersion: &tag, PolicyName: "public-read", ResourceURN: &res, Message: &msg}
		r, err := ci.UpdateStackPolicyResultsWithResponse(ctx, org.Name, "web", "prod", 1, client.UpdateStackPolicyResultsRequest{Results: results(v)})
		if err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("stack results: %v %d %s", err, r.StatusCode(), r.Body)
		}
		acct := "ec2/i-0abc"
		ar, err := ci.UpdateResourceVersionPolicyResultsWithResponse(ctx, org.Name, "aws-prod", acct, 3, client.UpdateInsightsResourceVersionPolicyResultsRequest{Results: results(v)})
		if err != nil || ar.StatusCode() != http.StatusNoContent {
			t.Fatalf("account results: %v %d %s", err, ar.StatusCode(), ar.Body)
		}
		issues := issuesOf(t, env.Client(t, org.Viewer), org.Name)
		if len(issues) != 2 {
			t.Fatalf("%d issues, want 2", len(issues))
		}
		for _, is := range issues {
			switch is.EntityType {
			case client.PolicyIssueEntityTypeStack:
				if is.EntityProject != "web" || is.EntityId != "prod" || is.Kind != client.PolicyIssueKindPreventative {
					t.Errorf("stack issue %+v", is)
				}
			case client.PolicyIssueEntityTypeInsightsAccount:
				if is.EntityProject != "aws-prod" || is.EntityId != acct || is.Kind != client.PolicyIssueKindAudit || *is.ResourceVersion != 3 {
					t.Errorf("account issue %+v", is)
				}
			}
		}
		// The next update reports nothing: the stack issue is fixed.
		r, err = ci.UpdateStackPolicyResultsWithResponse(ctx, org.Name, "web", "prod", 2, client.UpdateStackPolicyResultsRequest{Results: results()})
		if err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("stack results v2: %v %s", err, r.Body)
		}
		for _, is := range issuesOf(t, env.Client(t, org.Viewer), org.Name) {
			if is.EntityType == client.PolicyIssueEntityTypeStack && is.Status != client.PolicyIssueStatusFixed {
				t.Errorf("stack issue not fixed: %+v", is)
			}
		}
		// A viewer cannot ingest.
		vr, err := env.Client(t, org.Viewer).UpdateStackPolicyResultsWithResponse(ctx, org.Name, "web", "prod", 3, client.UpdateStackPolicyResultsRequest{Results: results()})
		if err != nil || vr.StatusCode() != http.StatusForbidden {
			t.Fatalf("viewer ingest: %v %d", err, vr.StatusCode())
		}
	})
}

func TestBadEvaluationsWriteNothing(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ci := env.Client(t, org.OrgToken)
		good := evaluation{project: "shop", stack: "prod", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(), resources: 2,
			fails: map[string][]int{"no-public-read": {0}}}
		bad := func(mutate func(r *client.PolicyEvaluationRequest)) client.PolicyEvaluationRequest {
			r := good.request()
			mutate(&r)
			return r
		}
		for _, tc := range []struct {
			name string
			req  client.PolicyEvaluationRequest
			want string
		}{
			{"malformed URN", bad(func(r *client.PolicyEvaluationRequest) { (*r.Resources)[0].Urn = "not-a-urn" }), "urn"},
			{"violation of an unlisted pack", bad(func(r *client.PolicyEvaluationRequest) { (*r.Violations)[0].PolicyPack = "other" }), "policyPack"},
			{"no entity", bad(func(r *client.PolicyEvaluationRequest) { r.Stack = nil }), "stack"},
			{"negative version", bad(func(r *client.PolicyEvaluationRequest) { r.Stack.Version = -1 }), "version"},
			{"unknown policy group", bad(func(r *client.PolicyEvaluationRequest) { g := "nope"; r.PolicyGroup = &g }), "nope"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, err := ci.CreatePolicyEvaluationWithResponse(context.Background(), org.Name, tc.req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode() != http.StatusBadRequest || resp.JSON400 == nil || !contains(resp.JSON400.Message, tc.want) {
					t.Fatalf("status %d body %s, want 400 naming %q", resp.StatusCode(), resp.Body, tc.want)
				}
			})
		}
		t.Run("a member spelled in another case", func(t *testing.T) {
			// Members bind by their exact names, as the spec spells them
			// (the handler receives the value the validator checked): a
			// stack sent as "Stack" is not the evaluation's stack.
			body, err := json.Marshal(good.request())
			if err != nil {
				t.Fatal(err)
			}
			miscased := bytes.Replace(body, []byte(`"stack":`), []byte(`"Stack":`), 1)
			if bytes.Equal(miscased, body) {
				t.Fatalf("no stack member in %s", body)
			}
			resp, err := ci.CreatePolicyEvaluationWithBodyWithResponse(context.Background(), org.Name, "application/json", bytes.NewReader(miscased))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode() != http.StatusBadRequest || resp.JSON400 == nil || !contains(resp.JSON400.Message, "stack") {
				t.Fatalf("status %d body %s, want 400 naming the stack", resp.StatusCode(), resp.Body)
			}
		})
		if n := len(issuesOf(t, ci, org.Name)); n != 0 {
			t.Fatalf("bad evaluations wrote %d issues", n)
		}
		md, err := ci.GetPolicyResultsMetadataWithResponse(context.Background(), org.Name)
		if err != nil || md.JSON200.ResourcesTotalCount != 0 {
			t.Fatalf("bad evaluations wrote resources: %+v", md.JSON200)
		}
	})
}

// TestPulumiResultsErrorsNameTheRequestsFields: Pulumi's results operations
// take the stack or account from their path and the packs from their
// violations; a 400 names the field the client sent (a path parameter,
// results.violations[i]...), not the evaluation's own (stack.name,
// policyPacks[0].versionTag), which the request does not have.
func TestPulumiResultsErrorsNameTheRequestsFields(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		stack := "/api/preview/insights/" + org.Name + "/policy/stacks/"
		account := "/api/preview/insights/" + org.Name + "/accounts/"
		violations := func(v ...string) string {
			return `{"results":{"succeeded":false,"violations":[` + strings.Join(v, ",") + `]}}`
		}
		good := `{"policyPackName":"p","policyPackVersion":"1.0.0","policyName":"a","resourceURN":"urn:pulumi:s::web::aws:s3/bucket:Bucket::b"}`
		for _, c := range []struct {
			name, path, body, field string
		}{
			{"stack name", stack + "web/a%20b/updates/1/results", violations(good), "stackName: "},
			{"project name", stack + "a%20b/prod/updates/1/results", violations(good), "projectName: "},
			{"account name", account + "-acct/resources/ec2%2Fi-1/versions/1/policy/results", violations(good), "accountName: "},
			{"resource type and id", account + "acct/resources/" + strings.Repeat("r", 1001) + "/versions/1/policy/results", violations(good), "resourceTypeAndId: "},
			{"pack version of a later violation", stack + "web/prod/updates/1/results",
				violations(good, `{"policyPackName":"q","policyPackVersion":"1 0","policyName":"a"}`), "results.violations[1].policyPackVersion: "},
			{"violation URN", stack + "web/prod/updates/1/results",
				violations(`{"policyPackName":"p","policyName":"a","resourceURN":"not-a-urn"}`), "results.violations[0].resourceURN: "},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, _, raw := call(t, env, "token "+org.OrgToken, http.MethodPut, c.path, c.body)
				if status != http.StatusBadRequest || !strings.HasPrefix(errorBodyOf(t, status, raw).Message, c.field) {
					t.Fatalf("%d %s, want 400 naming %q", status, raw, c.field)
				}
			})
		}
	})
}
