package server_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// publishPack publishes a pack version the way `pulumi policy publish`
// does: create, upload the archive to the returned presigned URI without a
// token, complete.
func publishPack(t *testing.T, env *servertest.Env, org *servertest.Org, name, tag string, policies []client.AppPolicy) int {
	t.Helper()
	admin := env.Client(t, org.Admin)
	ctx := context.Background()
	created, err := admin.CreatePolicyPackWithResponse(ctx, org.Name, client.AppCreatePolicyPackRequest{Name: name, DisplayName: name, VersionTag: &tag, Policies: policies})
	if err != nil || created.JSON201 == nil {
		t.Fatalf("create pack: %v %d %s", err, created.StatusCode(), created.Body)
	}
	if !strings.HasPrefix(created.JSON201.UploadURI, env.URL+"/api/orgs/"+org.Name+"/policypacks/"+name+"/versions/") {
		t.Fatalf("upload URI %s does not point at this server", created.JSON201.UploadURI)
	}
	req, _ := http.NewRequest(http.MethodPut, created.JSON201.UploadURI, bytes.NewReader([]byte("\x1f\x8b fake archive")))
	for k, v := range *created.JSON201.RequiredHeaders {
		req.Header.Set(k, v)
	}
	up, err := (&http.Client{Transport: env.ValidatingTransport(t)}).Do(req)
	if err != nil || up.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %v %v", err, up.Status)
	}
	up.Body.Close()
	// The CLI completes by the version's tag.
	done, err := admin.CompletePolicyPackWithResponse(ctx, org.Name, name, tag)
	if err != nil || done.StatusCode() != http.StatusNoContent {
		t.Fatalf("complete: %v %s", err, done.Body)
	}
	return created.JSON201.Version
}

// applyPack applies a pack's latest version to a policy group.
func applyPack(t *testing.T, env *servertest.Env, org *servertest.Org, group, pack string) {
	t.Helper()
	r, err := env.Client(t, org.Admin).UpdatePolicyGroupWithResponse(context.Background(), org.Name, group,
		client.UpdatePolicyGroupRequest{AddPolicyPack: &client.AppPolicyPackMetadata{Name: pack}})
	if err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("apply pack: %v %d %s", err, r.StatusCode(), r.Body)
	}
}

func TestPolicyPacksAndGroups(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		admin := env.Client(t, org.Admin)
		ctx := context.Background()

		// A pack needs at least one policy.
		none, err := admin.CreatePolicyPackWithResponse(ctx, org.Name, client.AppCreatePolicyPackRequest{Name: "empty", DisplayName: "Empty", Policies: []client.AppPolicy{}})
		if err != nil || none.StatusCode() != http.StatusBadRequest {
			t.Fatalf("pack without policies: %d %s", none.StatusCode(), none.Body)
		}
		v1 := publishPack(t, env, org, "baseline", "1.0.0", testPolicies())
		v2 := publishPack(t, env, org, "baseline", "1.1.0", testPolicies()[:2])
		if v1 != 1 || v2 != 2 {
			t.Fatalf("versions %d %d", v1, v2)
		}
		list, err := admin.ListPolicyPacksOrgsWithResponse(ctx, org.Name, nil)
		if err != nil || len(list.JSON200.PolicyPacks) != 1 || len(list.JSON200.PolicyPacks[0].Versions) != 2 || list.JSON200.PolicyPacks[0].VersionTags[1] != "1.1.0" {
			t.Fatalf("list packs %s", list.Body)
		}
		// ListPolicyPacks_orgs' policypack keeps only the pack of that name.
		publishPack(t, env, org, "storage", "1.0.0", testPolicies())
		for name, want := range map[string][]string{"baseline": {"baseline"}, "storage": {"storage"}, "nope": {}, "": {"baseline", "storage"}} {
			r, err := admin.ListPolicyPacksOrgsWithResponse(ctx, org.Name, &client.ListPolicyPacksOrgsParams{Policypack: &name})
			if err != nil || r.JSON200 == nil {
				t.Fatalf("list packs policypack=%q: %v %s", name, err, r.Body)
			}
			got := []string{}
			for _, p := range r.JSON200.PolicyPacks {
				got = append(got, p.Name)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("list packs policypack=%q: %v, want %v", name, got, want)
			}
		}
		got, err := admin.GetPolicyPackWithResponse(ctx, org.Name, "baseline", "latest")
		if err != nil || got.JSON200 == nil || got.JSON200.Version != 2 || len(got.JSON200.Policies) != 2 || got.JSON200.Applied {
			t.Fatalf("get latest %s", got.Body)
		}
		// Members read packs but can't publish.
		if r, _ := env.Client(t, org.Member).CreatePolicyPackWithResponse(ctx, org.Name, client.AppCreatePolicyPackRequest{Name: "x", DisplayName: "x", Policies: testPolicies()}); r.StatusCode() != http.StatusForbidden {
			t.Fatalf("member publishes: %d", r.StatusCode())
		}

		// Groups: the two defaults exist; a new one takes stacks and packs in
		// one atomic batch.
		groups, err := admin.ListPolicyGroupsWithResponse(ctx, org.Name)
		if err != nil || len(groups.JSON200.PolicyGroups) != 2 {
			t.Fatalf("default groups %s", groups.Body)
		}
		mode := client.PolicyGroupModeAudit
		if r, _ := admin.NewPolicyGroupWithResponse(ctx, org.Name, client.NewPolicyGroupRequest{Name: "prod", Mode: &mode}); r.StatusCode() != http.StatusNoContent {
			t.Fatalf("new group: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := admin.NewPolicyGroupWithResponse(ctx, org.Name, client.NewPolicyGroupRequest{Name: "prod"}); r.StatusCode() != http.StatusConflict {
			t.Fatalf("duplicate group: %d", r.StatusCode())
		}
		batch := client.BatchUpdatePolicyGroupJSONRequestBody{
			{AddStack: &client.AppPulumiStackReference{Name: "prod", RoutingProject: "shop"}},
			{AddPolicyPack: &client.AppPolicyPackMetadata{Name: "baseline", Version: ptr(1)}},
		}
		if r, _ := admin.BatchUpdatePolicyGroupWithResponse(ctx, org.Name, "prod", batch); r.StatusCode() != http.StatusNoContent {
			t.Fatalf("batch: %d %s", r.StatusCode(), r.Body)
		}
		// A failing batch changes nothing.
		bad := client.BatchUpdatePolicyGroupJSONRequestBody{
			{AddStack: &client.AppPulumiStackReference{Name: "dev", RoutingProject: "shop"}},
			{AddPolicyPack: &client.AppPolicyPackMetadata{Name: "no-such-pack"}},
		}
		if r, _ := admin.BatchUpdatePolicyGroupWithResponse(ctx, org.Name, "prod", bad); r.StatusCode() < 400 || r.StatusCode() >= 500 {
			t.Fatalf("bad batch: %d %s", r.StatusCode(), r.Body)
		}
		// An empty batch is refused as openapi.yaml states (minItems 1).
		if r, _ := admin.BatchUpdatePolicyGroupWithResponse(ctx, org.Name, "prod", client.BatchUpdatePolicyGroupJSONRequestBody{}); r.StatusCode() != http.StatusBadRequest ||
			!strings.Contains(errorBodyOf(t, r.StatusCode(), r.Body).Message, "request body: minimum number of items is 1") {
			t.Fatalf("empty batch: %d %s", r.StatusCode(), r.Body)
		}
		g, err := admin.GetPolicyGroupWithResponse(ctx, org.Name, "prod")
		if err != nil || g.JSON200 == nil || len(g.JSON200.Stacks) != 1 || len(g.JSON200.AppliedPolicyPacks) != 1 || g.JSON200.Mode != client.PolicyGroupModeAudit {
			t.Fatalf("group after batches %s", g.Body)
		}
		// A pack applied to a group can't be deleted; the default groups stay.
		if r, _ := admin.DeletePolicyPackVersionWithResponse(ctx, org.Name, "baseline", "1"); r.StatusCode() != http.StatusConflict {
			t.Fatalf("delete applied version: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := admin.DeletePolicyGroupWithResponse(ctx, org.Name, "default-policy-group"); r.StatusCode() != http.StatusBadRequest {
			t.Fatalf("delete default group: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := admin.DeletePolicyGroupWithResponse(ctx, org.Name, "prod"); r.StatusCode() != http.StatusNoContent {
			t.Fatalf("delete group: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := admin.DeletePolicyPackOrgsPolicypacksWithResponse(ctx, org.Name, "baseline"); r.StatusCode() != http.StatusNoContent {
			t.Fatalf("delete pack: %d %s", r.StatusCode(), r.Body)
		}
	})
}

// TestArchiveUploadParametersAreValidated: the archive upload's body is
// binary and skips the request validator, but its parameters do not: a
// version below the spec's minimum of 1 is a 400 naming it, as on
// CompletePolicyPackPublish, not a 404.
func TestArchiveUploadParametersAreValidated(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		publishPack(t, env, org, "p", "1.0.0", testPolicies())
		for _, version := range []string{"0", "-1", "abc"} {
			for _, suffix := range []string{"/archive", "/complete"} {
				method := http.MethodPut
				if suffix == "/complete" {
					method = http.MethodPost
				}
				status, _, raw := call(t, env, "token "+org.Admin, method, "/api/orgs/"+org.Name+"/policypacks/p/versions/"+version+suffix, "")
				if status != http.StatusBadRequest || !strings.Contains(errorBodyOf(t, status, raw).Message, "version") {
					t.Errorf("%s version %s: %d %s, want 400 naming version", suffix, version, status, raw)
				}
			}
		}
	})
}

// TestPackVersionNumbersBeyondTheSchema: pack version numbers are stored as
// 32-bit integers. A version number beyond 2147483647 in the path of any
// operation taking a pack version (read from openapi.yaml, so that the
// registry's are walked too), in the version tag query of
// GetOrgRegistryPolicyPack or in a policy group's addPolicyPack was a 500 on
// PostgreSQL; it is a 400 naming the version, on both databases, and the
// highest number is a version that does not exist (404).
func TestPackVersionNumbersBeyondTheSchema(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		publishPack(t, env, org, "p", "1.0.0", testPolicies())
		auth := "token " + org.Admin
		walked := 0
		for _, o := range specOperations(t) {
			if !strings.Contains(o.path, "{version}") || strings.Contains(o.path, "{stackName}") {
				continue
			}
			walked++
			for version, want := range map[string]int{"2147483648": http.StatusBadRequest, "9223372036854775807": http.StatusBadRequest, "2147483647": http.StatusNotFound} {
				path := strings.NewReplacer("{orgName}", org.Name, "{publisher}", org.Name, "{source}", "private",
					"{policyPackName}", "p", "{name}", "p", "{version}", version).Replace(o.path)
				body := ""
				if o.op.RequestBody != nil && o.op.RequestBody.Value.Content.Get("application/json") != nil {
					body = `{"name":"p","displayName":"p","versionTag":"2.0.0","policies":[{"name":"a","displayName":"a","description":"a","enforcementLevel":"advisory","message":"a"}]}`
				}
				status, _, raw := call(t, env, auth, o.method, path, body)
				if status == http.StatusNotFound && want == http.StatusNotFound {
					continue
				}
				if status != want || !strings.Contains(errorBodyOf(t, status, raw).Message, "version") {
					t.Errorf("%s with version %s: %d %s, want %d naming version", o, version, status, raw, want)
				}
			}
		}
		if walked < 6 {
			t.Fatalf("only %d operations take a pack version", walked)
		}
		status, _, raw := call(t, env, auth, http.MethodGet, "/api/orgs/"+org.Name+"/registry/policypacks/p?tag=2147483648", "")
		if status != http.StatusBadRequest || !strings.Contains(errorBodyOf(t, status, raw).Message, "2147483648") {
			t.Errorf("registry pack with tag 2147483648: %d %s, want 400", status, raw)
		}
		for _, version := range []string{"2147483648", "-1"} {
			status, _, raw = call(t, env, auth, http.MethodPatch, "/api/orgs/"+org.Name+"/policygroups/default-policy-group",
				`{"addPolicyPack":{"name":"p","version":`+version+`}}`)
			if status != http.StatusBadRequest || !strings.Contains(errorBodyOf(t, status, raw).Message, "addPolicyPack.version") {
				t.Errorf("apply version %s: %d %s, want 400 naming addPolicyPack.version", version, status, raw)
			}
		}
	})
}
