package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// registryPublish publishes a version through the registry: start, upload
// the archive to the answered presigned URI without a token, complete by
// semantic version.
func registryPublish(t *testing.T, env *servertest.Env, org *servertest.Org, name, tag string) {
	t.Helper()
	ctx := context.Background()
	admin := env.Client(t, org.Admin)
	started, err := admin.PostPublishPolicyPackVersionForRegistryWithResponse(ctx, "private", org.Name, name,
		client.AppCreatePolicyPackRequest{Name: name, DisplayName: "Registry " + name, VersionTag: &tag, Policies: configuredPolicies()})
	if err != nil || started.JSON201 == nil {
		t.Fatalf("publish %s %s: %v %s", name, tag, err, started.Body)
	}
	uploadArchive(t, env, started.JSON201.UploadURI)
	if r, err := admin.PostPublishPolicyPackVersionCompleteForRegistryWithResponse(ctx, "private", org.Name, name, tag); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("complete: %v %s", err, r.Body)
	}
}

// uploadArchive uploads an archive to a presigned upload URI, without a token.
func uploadArchive(t *testing.T, env *servertest.Env, uri string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, uri, bytes.NewReader([]byte("\x1f\x8b registry archive")))
	req.Header.Set("Content-Type", "application/gzip")
	up, err := (&http.Client{Transport: env.ValidatingTransport(t)}).Do(req)
	if err != nil || up.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %v %v", err, up.Status)
	}
	up.Body.Close()
}

// TestRegistryPolicyPacks drives the registry's policy pack operations over
// the same store as the organisation's: a pack published through either is
// seen through both, a caller sees only their organisations' packs, and
// writes need the admin role.
func TestRegistryPolicyPacks(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		other := env.NewOrg(t)
		ctx := context.Background()
		admin, viewer := env.Client(t, org.Admin), env.Client(t, org.Viewer)

		publishPack(t, env, org, "baseline", "1.0.0", testPolicies())
		registryPublish(t, env, org, "storage", "1.0.0")
		registryPublish(t, env, org, "storage", "1.1.0")
		publishPack(t, env, other, "elsewhere", "1.0.0", testPolicies())

		// The registry's publish is visible to the organisation's API.
		orgList, err := viewer.ListPolicyPacksOrgsWithResponse(ctx, org.Name, nil)
		if err != nil || orgList.JSON200 == nil || len(orgList.JSON200.PolicyPacks) != 2 || orgList.JSON200.PolicyPacks[1].Name != "storage" ||
			len(orgList.JSON200.PolicyPacks[1].Versions) != 2 {
			t.Fatalf("organisation list: %v %s", err, orgList.Body)
		}

		// Both packs are in the registry, at their latest versions.
		list, err := viewer.ListPolicyPacksPostWithResponse(ctx, client.ListPolicyPacksRequest{OrgLogin: &org.Name})
		if err != nil || list.JSON200 == nil || len(list.JSON200.PolicyPacks) != 2 {
			t.Fatalf("registry list: %v %s", err, list.Body)
		}
		base, storage := list.JSON200.PolicyPacks[0], list.JSON200.PolicyPacks[1]
		if base.Name != "baseline" || base.Version != "1.0.0" || storage.Name != "storage" || storage.Version != "1.1.0" ||
			storage.Source != "private" || storage.Publisher != org.Name || storage.DisplayName != "Registry storage" ||
			storage.AccessLevel != client.RegistryPolicyPackAccessLevelViewOnly || len(storage.EnforcementLevels) != 0 {
			t.Fatalf("registry list: %s", list.Body)
		}
		// The deprecated GET answers the same; it needs orgLogin.
		get, err := admin.ListPolicyPacksWithResponse(ctx, &client.ListPolicyPacksParams{OrgLogin: org.Name})
		if err != nil || get.JSON200 == nil || len(get.JSON200.PolicyPacks) != 2 || get.JSON200.PolicyPacks[1].AccessLevel != client.RegistryPolicyPackAccessLevelFull {
			t.Fatalf("registry GET list: %v %s", err, get.Body)
		}
		for _, query := range []string{"", "?orgLogin=", "?access=enabled"} {
			status, _, raw := call(t, env, "token "+org.Admin, http.MethodGet, "/api/registry/policypacks"+query, "")
			if status != http.StatusBadRequest || !strings.Contains(errorBodyOf(t, status, raw).Message, "orgLogin") {
				t.Fatalf("GET %q without orgLogin: %d %s", query, status, raw)
			}
		}
		// ids picks versions; public access lists nothing.
		byID, _ := viewer.ListPolicyPacksPostWithResponse(ctx, client.ListPolicyPacksRequest{OrgLogin: &org.Name, Ids: &[]string{base.Id.String()}})
		if byID.JSON200 == nil || len(byID.JSON200.PolicyPacks) != 1 || byID.JSON200.PolicyPacks[0].Name != "baseline" {
			t.Fatalf("by id: %s", byID.Body)
		}
		public, _ := viewer.ListPolicyPacksPostWithResponse(ctx, client.ListPolicyPacksRequest{OrgLogin: &org.Name, Access: ptr(client.PolicyPackAccessAvailable)})
		if public.JSON200 == nil || len(public.JSON200.PolicyPacks) != 0 {
			t.Fatalf("available: %s", public.Body)
		}

		// Without orgLogin: every organisation the caller belongs to.
		if err := b.Repo.Accounts.AddMember(ctx, other.ID, mustUser(t, b, org.ViewerLogin), model.RoleViewer); err != nil {
			t.Fatal(err)
		}
		mine, _ := viewer.ListPolicyPacksPostWithResponse(ctx, client.ListPolicyPacksRequest{})
		if mine.JSON200 == nil || len(mine.JSON200.PolicyPacks) != 3 {
			t.Fatalf("every organisation: %s", mine.Body)
		}
		// An organisation token: its organisation.
		if r, _ := env.Client(t, org.OrgViewerToken).ListPolicyPacksPostWithResponse(ctx, client.ListPolicyPacksRequest{}); r.JSON200 == nil || len(r.JSON200.PolicyPacks) != 2 || r.JSON200.PolicyPacks[0].Publisher != org.Name {
			t.Fatalf("organisation token's list: %s", r.Body)
		}
		// A caller never sees another organisation's packs.
		outsider := env.Client(t, other.Admin)
		if r, _ := outsider.ListPolicyPacksPostWithResponse(ctx, client.ListPolicyPacksRequest{OrgLogin: &org.Name}); r.StatusCode() != http.StatusNotFound || !strings.Contains(string(r.Body), "Organization not found") {
			t.Fatalf("outsider POST list: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := outsider.ListPolicyPacksPostWithResponse(ctx, client.ListPolicyPacksRequest{}); r.JSON200 == nil || len(r.JSON200.PolicyPacks) != 1 || r.JSON200.PolicyPacks[0].Publisher != other.Name {
			t.Fatalf("outsider's own list: %s", r.Body)
		}
		if r, _ := outsider.GetPolicyPackVersionForRegistryWithResponse(ctx, "private", org.Name, "storage", "latest"); r.StatusCode() != http.StatusNotFound {
			t.Fatalf("outsider get: %d %s", r.StatusCode(), r.Body)
		}

		// Versions, newest first; one version by tag, number or latest.
		versions, err := viewer.ListPolicyPackVersionsForRegistryWithResponse(ctx, "private", org.Name, "storage")
		if err != nil || versions.JSON200 == nil || len(versions.JSON200.PolicyPacks) != 2 || versions.JSON200.PolicyPacks[0].Version != "1.1.0" {
			t.Fatalf("versions: %v %s", err, versions.Body)
		}
		for _, v := range []string{"1.0.0", "1", "latest"} {
			r, err := viewer.GetPolicyPackVersionForRegistryWithResponse(ctx, "private", org.Name, "storage", v)
			if err != nil || r.JSON200 == nil || r.JSON200.Policies == nil || len(*r.JSON200.Policies) != 3 {
				t.Fatalf("version %s: %v %s", v, err, r.Body)
			}
			if want := map[string]string{"1.0.0": "1.0.0", "1": "1.0.0", "latest": "1.1.0"}[v]; r.JSON200.PolicyPack.Version != want {
				t.Fatalf("version %s is %s", v, r.JSON200.PolicyPack.Version)
			}
		}
		// The organisation's registry view of a pack.
		orgView, err := viewer.GetOrgRegistryPolicyPackWithResponse(ctx, org.Name, "storage", nil)
		if err != nil || orgView.JSON200 == nil || orgView.JSON200.PolicyPack.Version != "1.1.0" || orgView.JSON200.PolicyPack.Publisher != org.Name {
			t.Fatalf("org registry pack: %v %s", err, orgView.Body)
		}
		if r, _ := viewer.GetOrgRegistryPolicyPackWithResponse(ctx, org.Name, "storage", &client.GetOrgRegistryPolicyPackParams{Tag: ptr("1.0.0")}); r.JSON200 == nil || r.JSON200.PolicyPack.Version != "1.0.0" {
			t.Fatalf("org registry pack by tag: %s", r.Body)
		}
		// A tag that is none is a 400 naming tag (it named version, a
		// parameter this operation does not have).
		if r, _ := viewer.GetOrgRegistryPolicyPackWithResponse(ctx, org.Name, "storage", &client.GetOrgRegistryPolicyPackParams{Tag: ptr("one")}); r.StatusCode() != http.StatusBadRequest || !strings.HasPrefix(errorBodyOf(t, r.StatusCode(), r.Body).Message, "tag: ") {
			t.Fatalf("org registry pack by a tag that is none: %d %s", r.StatusCode(), r.Body)
		}
		for _, r := range []interface{ StatusCode() int }{
			must(viewer.GetOrgRegistryPolicyPackWithResponse(ctx, org.Name, "nope", nil)),
			must(viewer.GetPolicyPackVersionForRegistryWithResponse(ctx, "private", org.Name, "storage", "9.9.9")),
			must(viewer.GetPolicyPackVersionForRegistryWithResponse(ctx, "pulumi", org.Name, "storage", "latest")),
			must(viewer.ListPolicyPackVersionsForRegistryWithResponse(ctx, "private", org.Name, "nope")),
		} {
			if r.StatusCode() != http.StatusNotFound {
				t.Fatalf("missing pack: %d", r.StatusCode())
			}
		}

		// A version being published is not in the registry yet.
		started, _ := admin.PostPublishPolicyPackVersionForRegistryWithResponse(ctx, "private", org.Name, "storage",
			client.AppCreatePolicyPackRequest{Name: "storage", DisplayName: "Storage", VersionTag: ptr("2.0.0"), Policies: testPolicies()})
		if started.JSON201 == nil || started.JSON201.Version != 3 {
			t.Fatalf("start 2.0.0: %s", started.Body)
		}
		if r, _ := viewer.GetPolicyPackVersionForRegistryWithResponse(ctx, "private", org.Name, "storage", "2.0.0"); r.StatusCode() != http.StatusNotFound {
			t.Fatalf("unpublished version: %d %s", r.StatusCode(), r.Body)
		}
		// The 400 names the request's version (the archive is no field of it).
		if r, _ := admin.PostPublishPolicyPackVersionCompleteForRegistryWithResponse(ctx, "private", org.Name, "storage", "2.0.0"); r.StatusCode() != http.StatusBadRequest ||
			!strings.HasPrefix(errorBodyOf(t, r.StatusCode(), r.Body).Message, "version: policy pack storage version 2.0.0 has no archive") {
			t.Fatalf("complete without archive: %d %s", r.StatusCode(), r.Body)
		}

		// Bad publishes name their field; viewers can't write.
		for _, c := range []struct {
			source, name string
			body         client.AppCreatePolicyPackRequest
			field        string
		}{
			{"pulumi", "storage", client.AppCreatePolicyPackRequest{Name: "storage", DisplayName: "S", VersionTag: ptr("3.0.0"), Policies: testPolicies()}, "source"},
			{"private", "storage", client.AppCreatePolicyPackRequest{Name: "other", DisplayName: "S", VersionTag: ptr("3.0.0"), Policies: testPolicies()}, "name"},
			{"private", "storage", client.AppCreatePolicyPackRequest{Name: "storage", DisplayName: "S", Policies: testPolicies()}, "versionTag"},
			{"private", "storage", client.AppCreatePolicyPackRequest{Name: "storage", DisplayName: "S", VersionTag: ptr("1.0.0"), Policies: testPolicies()}, "already published"},
		} {
			r, err := admin.PostPublishPolicyPackVersionForRegistryWithResponse(ctx, c.source, org.Name, c.name, c.body)
			if err != nil || r.StatusCode() < 400 || r.StatusCode() >= 500 || !strings.Contains(string(r.Body), c.field) {
				t.Fatalf("bad publish (%s): %v %d %s", c.field, err, r.StatusCode(), r.Body)
			}
		}
		if r, _ := viewer.PostPublishPolicyPackVersionForRegistryWithResponse(ctx, "private", org.Name, "storage",
			client.AppCreatePolicyPackRequest{Name: "storage", DisplayName: "S", VersionTag: ptr("3.0.0"), Policies: testPolicies()}); r.StatusCode() != http.StatusForbidden {
			t.Fatalf("viewer publishes: %d", r.StatusCode())
		}
		if r, _ := viewer.DeletePolicyPackWithResponse(ctx, "private", org.Name, "storage"); r.StatusCode() != http.StatusForbidden {
			t.Fatalf("viewer deletes: %d", r.StatusCode())
		}

		// Deletes: an applied version is kept (409); then a version, then the pack.
		applyPack(t, env, org, "default-policy-group", "storage")
		if r, _ := admin.DeletePolicyPackWithResponse(ctx, "private", org.Name, "storage"); r.StatusCode() != http.StatusConflict {
			t.Fatalf("delete applied pack: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := admin.DeleteRegistryPolicyPackVersionWithResponse(ctx, "private", org.Name, "storage", "1.0.0"); r.StatusCode() != http.StatusNoContent {
			t.Fatalf("delete version: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := viewer.GetPolicyPackWithResponse(ctx, org.Name, "storage", "1"); r.StatusCode() != http.StatusNotFound {
			t.Fatalf("deleted version through the organisation's API: %d", r.StatusCode())
		}
		if r, err := admin.UpdatePolicyGroupWithResponse(ctx, org.Name, "default-policy-group", client.UpdatePolicyGroupRequest{RemovePolicyPack: &client.AppPolicyPackMetadata{Name: "storage"}}); err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("detach: %v %s", err, r.Body)
		}
		if r, _ := admin.DeletePolicyPackWithResponse(ctx, "private", org.Name, "storage"); r.StatusCode() != http.StatusNoContent {
			t.Fatalf("delete pack: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := admin.DeletePolicyPackWithResponse(ctx, "private", org.Name, "storage"); r.StatusCode() != http.StatusNotFound {
			t.Fatalf("delete deleted pack: %d %s", r.StatusCode(), r.Body)
		}
		if r, _ := viewer.ListPolicyPacksOrgsWithResponse(ctx, org.Name, nil); len(r.JSON200.PolicyPacks) != 1 {
			t.Fatalf("organisation list after the registry's delete: %s", r.Body)
		}
	})
}

// must drops the error of a generated client call for a table of answers;
// a transport error shows as status 0.
func must[T interface{ StatusCode() int }](r T, err error) interface{ StatusCode() int } {
	if err != nil {
		return failedCall{}
	}
	return r
}

type failedCall struct{}

func (failedCall) StatusCode() int { return 0 }

// mustUser is a user's id by login.
func mustUser(t *testing.T, b *repotest.Backend, login string) int64 {
	t.Helper()
	u, err := b.Repo.Accounts.UserByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestRegistryPreviewPaths drives the registry's earlier paths under
// /api/preview/registry/policypacks, as clients generated from Pulumi's spec
// call them: publish, upload, complete, list, read, delete, each answering
// what its /api/registry operation answers.
func TestRegistryPreviewPaths(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		other := env.NewOrg(t)
		ctx := context.Background()
		admin, viewer := env.Client(t, org.Admin), env.Client(t, org.Viewer)

		tag := "2.0.0"
		started, err := admin.PostPublishPolicyPackVersionWithResponse(ctx, "private", org.Name, "preview",
			client.AppCreatePolicyPackRequest{Name: "preview", DisplayName: "Preview pack", VersionTag: &tag, Policies: configuredPolicies()})
		if err != nil || started.JSON201 == nil {
			t.Fatalf("publish: %v %s", err, started.Body)
		}
		uploadArchive(t, env, started.JSON201.UploadURI)
		if r, err := admin.PostPublishPolicyPackVersionCompleteWithResponse(ctx, "private", org.Name, "preview", tag); err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("complete: %v %s", err, r.Body)
		}

		list, err := viewer.ListPolicyPacksPreviewRegistryPostWithResponse(ctx, client.ListPolicyPacksRequest{OrgLogin: &org.Name})
		if err != nil || list.JSON200 == nil || len(list.JSON200.PolicyPacks) != 1 || list.JSON200.PolicyPacks[0].Version != tag {
			t.Fatalf("list: %v %s", err, list.Body)
		}
		get, err := viewer.ListPolicyPacksPreviewRegistryWithResponse(ctx, &client.ListPolicyPacksPreviewRegistryParams{OrgLogin: org.Name})
		if err != nil || get.JSON200 == nil || len(get.JSON200.PolicyPacks) != 1 {
			t.Fatalf("GET list: %v %s", err, get.Body)
		}
		versions, err := viewer.ListPolicyPackVersionsWithResponse(ctx, "private", org.Name, "preview")
		if err != nil || versions.JSON200 == nil || len(versions.JSON200.PolicyPacks) != 1 {
			t.Fatalf("versions: %v %s", err, versions.Body)
		}
		version, err := viewer.GetPolicyPackVersionWithResponse(ctx, "private", org.Name, "preview", "latest")
		if err != nil || version.JSON200 == nil || version.JSON200.PolicyPack.Version != tag {
			t.Fatalf("version: %v %s", err, version.Body)
		}

		// Another organisation's caller and a viewer change nothing.
		if r, err := env.Client(t, other.Admin).DeletePolicyPackPreviewRegistryPolicypacksWithResponse(ctx, "private", org.Name, "preview"); err != nil || r.StatusCode() != http.StatusNotFound {
			t.Fatalf("other organisation's delete: %v %d %s", err, r.StatusCode(), r.Body)
		}
		if r, err := viewer.DeletePolicyPackPreviewRegistryPolicypacksVersionsWithResponse(ctx, "private", org.Name, "preview", tag); err != nil || r.StatusCode() != http.StatusForbidden {
			t.Fatalf("viewer's delete: %v %d %s", err, r.StatusCode(), r.Body)
		}
		if r, err := admin.DeletePolicyPackPreviewRegistryPolicypacksVersionsWithResponse(ctx, "private", org.Name, "preview", tag); err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("delete version: %v %d %s", err, r.StatusCode(), r.Body)
		}
		if r, err := admin.DeletePolicyPackPreviewRegistryPolicypacksWithResponse(ctx, "private", org.Name, "preview"); err != nil || r.StatusCode() != http.StatusNotFound {
			t.Fatalf("delete of a pack whose last version is gone: %v %d %s", err, r.StatusCode(), r.Body)
		}
	})
}
