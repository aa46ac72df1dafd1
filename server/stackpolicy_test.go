package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// policyFixture is an organisation with three stacks of four resources in
// the default group, which applies baseline; stack s0 is also in the audit
// group audit-prod, which applies baseline (configured) and storage pinned
// to version 1; the Insights account acct-1 has one violating resource and
// its default group applies storage.
func policyFixture(t *testing.T, env *servertest.Env) *servertest.Org {
	t.Helper()
	ctx := context.Background()
	org := env.NewOrg(t)
	seedStacks(t, env, org, 3, 4)
	publishPack(t, env, org, "baseline", "1.0.0", testPolicies())
	publishPack(t, env, org, "storage", "1.0.0", configuredPolicies())
	publishPack(t, env, org, "storage", "1.1.0", configuredPolicies())
	applyPack(t, env, org, "default-policy-group", "baseline")
	applyPack(t, env, org, "default-accounts-policy-group", "storage")
	admin := env.Client(t, org.Admin)
	if r, err := admin.NewPolicyGroupWithResponse(ctx, org.Name, client.NewPolicyGroupRequest{Name: "audit-prod", Mode: ptr(client.PolicyGroupModeAudit)}); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("new group: %v %s", err, r.Body)
	}
	batch := client.BatchUpdatePolicyGroupJSONRequestBody{
		{AddStack: &client.AppPulumiStackReference{Name: "s0", RoutingProject: "shop"}},
		{AddPolicyPack: &client.AppPolicyPackMetadata{Name: "baseline", Config: &map[string]any{"no-public-read": map[string]any{"enforcementLevel": "advisory"}}}},
		{AddPolicyPack: &client.AppPolicyPackMetadata{Name: "storage", Version: ptr(1), Config: &map[string]any{"retention": map[string]any{"maxAgeDays": 30}}}},
	}
	if r, err := admin.BatchUpdatePolicyGroupWithResponse(ctx, org.Name, "audit-prod", batch); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("batch: %v %s", err, r.Body)
	}
	res, msg := urn("acct-1", "scan", "aws:s3/bucket:Bucket", "bucket-1"), "never expires"
	results := client.InsightsPolicyResults{}
	results.Violations.Set([]client.InsightsPolicyViolation{{PolicyPackName: "storage", PolicyName: "retention", ResourceURN: &res, Message: &msg}})
	if r, err := env.Client(t, org.OrgToken).UpdateResourceVersionPolicyResultsWithResponse(ctx, org.Name, "acct-1", "s3/bucket-1", 1,
		client.UpdateInsightsResourceVersionPolicyResultsRequest{Results: results}); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("account results: %v %s", err, r.Body)
	}
	return org
}

// requiredByName indexes required packs by name, failing on duplicates.
func requiredByName(t *testing.T, packs []client.AppRequiredPolicy) map[string]client.AppRequiredPolicy {
	t.Helper()
	out := map[string]client.AppRequiredPolicy{}
	for _, p := range packs {
		if _, dup := out[p.Name]; dup {
			t.Fatalf("pack %s twice: %+v", p.Name, packs)
		}
		out[p.Name] = p
	}
	return out
}

// TestStackPolicyGroupsAndPacks asks which groups and packs apply to a
// stack, as a CI job does before running the packs.
func TestStackPolicyGroupsAndPacks(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := policyFixture(t, env)
		ctx := context.Background()
		viewer := env.Client(t, org.OrgViewerToken)

		groups, err := viewer.GetStackPolicyGroupsWithResponse(ctx, org.Name, "shop", "s0")
		if err != nil || groups.JSON200 == nil || len(groups.JSON200.PolicyGroups) != 2 {
			t.Fatalf("groups of s0: %v %s", err, groups.Body)
		}
		audit, def := groups.JSON200.PolicyGroups[0], groups.JSON200.PolicyGroups[1]
		if audit.Name != "audit-prod" || audit.Mode != client.PolicyGroupModeAudit || audit.NumStacks != 1 || audit.NumEnabledPolicyPacks != 2 ||
			def.Name != "default-policy-group" || !def.IsOrgDefault || def.NumStacks != 3 || def.NumEnabledPolicyPacks != 1 {
			t.Fatalf("groups of s0: %s", groups.Body)
		}
		if g, _ := viewer.GetStackPolicyGroupsWithResponse(ctx, org.Name, "shop", "s1"); g.JSON200 == nil || len(g.JSON200.PolicyGroups) != 1 {
			t.Fatalf("groups of s1: %s", g.Body)
		}

		packs := func(stack string, mode *client.PolicyGroupMode) map[string]client.AppRequiredPolicy {
			t.Helper()
			r, err := viewer.GetStackPolicyPacksWithResponse(ctx, org.Name, "shop", stack, &client.GetStackPolicyPacksParams{Mode: mode})
			if err != nil || r.JSON200 == nil || r.JSON200.RequiredPolicies == nil {
				t.Fatalf("packs of %s: %v %s", stack, err, r.Body)
			}
			return requiredByName(t, *r.JSON200.RequiredPolicies)
		}
		all := packs("s0", nil)
		base, storage := all["baseline"], all["storage"]
		if len(all) != 2 || base.Version != 1 || base.VersionTag != "1.0.0" || base.DisplayName != "baseline" ||
			storage.Version != 1 || storage.VersionTag != "1.0.0" {
			t.Fatalf("packs of s0: %+v", all)
		}
		// baseline comes once, with the configuration of the group other
		// than the default one.
		if base.Config == nil || (*base.Config)["no-public-read"].(map[string]any)["enforcementLevel"] != "advisory" {
			t.Fatalf("baseline config %+v", base.Config)
		}
		if storage.Config == nil || (*storage.Config)["retention"].(map[string]any)["maxAgeDays"] != float64(30) {
			t.Fatalf("storage config %+v", storage.Config)
		}
		if prev := packs("s0", ptr(client.PolicyGroupModePreventative)); len(prev) != 1 || prev["baseline"].Config != nil {
			t.Fatalf("preventative packs of s0: %+v", prev)
		}
		if aud := packs("s0", ptr(client.PolicyGroupModeAudit)); len(aud) != 2 {
			t.Fatalf("audit packs of s0: %+v", aud)
		}
		if s1 := packs("s1", nil); len(s1) != 1 || s1["baseline"].Version != 1 {
			t.Fatalf("packs of s1: %+v", s1)
		}

		// The account's default group applies storage at its latest version.
		acct, err := viewer.ListPolicyPacksForAccountWithResponse(ctx, org.Name, "acct-1", nil)
		if err != nil || acct.JSON200 == nil {
			t.Fatalf("account packs: %v %s", err, acct.Body)
		}
		if got := requiredByName(t, acct.JSON200.Packs); len(got) != 1 || got["storage"].Version != 2 || got["storage"].VersionTag != "1.1.0" {
			t.Fatalf("account packs %s", acct.Body)
		}

		// Unknown stacks and accounts, bad parameters.
		for _, c := range []struct {
			path    string
			status  int
			message string
		}{
			{"/api/stacks/" + org.Name + "/shop/nope/policygroups", http.StatusNotFound, "Stack not found"},
			{"/api/stacks/" + org.Name + "/nope/s0/policypacks", http.StatusNotFound, "Stack not found"},
			{"/api/preview/insights/" + org.Name + "/accounts/nope/policy/packs", http.StatusNotFound, "Account not found"},
			{"/api/stacks/" + org.Name + "/shop/s0/policypacks?mode=strict", http.StatusBadRequest, "mode"},
			{"/api/preview/insights/" + org.Name + "/accounts/acct-1/policy/packs?continuationToken=abc", http.StatusBadRequest, "continuationToken"},
		} {
			resp, raw := send(t, http.MethodGet, env.URL+c.path, "", map[string]string{"Authorization": "token " + org.Viewer})
			var body struct{ Message string }
			if resp.StatusCode != c.status || json.Unmarshal(raw, &body) != nil || !strings.Contains(body.Message, c.message) {
				t.Fatalf("%s: %d %s", c.path, resp.StatusCode, raw)
			}
		}
	})
}

// TestPolicyGroupMetadata counts what the groups protect: a stack counts
// once per mode whose group applies a pack, with its governed resources.
func TestPolicyGroupMetadata(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		ctx := context.Background()

		empty := env.NewOrg(t)
		r, err := env.Client(t, empty.Viewer).GetPolicyGroupMetadataWithResponse(ctx, empty.Name)
		if err != nil || r.JSON200 == nil || *r.JSON200 != (client.PolicyGroupMetadata{}) {
			t.Fatalf("empty organisation: %v %s", err, r.Body)
		}

		org := policyFixture(t, env)
		r, err = env.Client(t, org.Viewer).GetPolicyGroupMetadataWithResponse(ctx, org.Name)
		if err != nil || r.JSON200 == nil {
			t.Fatalf("metadata: %v %s", err, r.Body)
		}
		md := *r.JSON200
		want := client.PolicyGroupMetadata{
			ProtectedStacks: 3, ProtectedStackResources: 12,
			PreventativeStacks: 3, PreventativeStackResources: 12,
			AuditStacks: 1, AuditStackResources: 4,
			TotalStacks: 3, TotalStackResources: 12,
			ProtectedAccounts: 1, ProtectedAccountResources: md.TotalAccountResources,
			TotalAccounts: 1, TotalAccountResources: md.TotalAccountResources,
		}
		if md != want || md.TotalAccountResources < 1 {
			t.Fatalf("metadata %+v, want %+v", md, want)
		}

		// Without packs, nothing is protected.
		admin := env.Client(t, org.Admin)
		for group, pack := range map[string]string{"default-policy-group": "baseline", "default-accounts-policy-group": "storage"} {
			if r, err := admin.UpdatePolicyGroupWithResponse(ctx, org.Name, group, client.UpdatePolicyGroupRequest{RemovePolicyPack: &client.AppPolicyPackMetadata{Name: pack}}); err != nil || r.StatusCode() != http.StatusNoContent {
				t.Fatalf("remove %s: %v %s", pack, err, r.Body)
			}
		}
		r, _ = admin.GetPolicyGroupMetadataWithResponse(ctx, org.Name)
		if md := r.JSON200; md.ProtectedStacks != 1 || md.PreventativeStacks != 0 || md.AuditStacks != 1 || md.ProtectedAccounts != 0 || md.TotalStacks != 3 {
			t.Fatalf("after removing the default packs: %s", r.Body)
		}
	})
}
