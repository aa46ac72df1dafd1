package repository_test

import (
	"errors"
	"testing"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/packs"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestRegistryAccessesAndPacks resolves the organisations a caller may use
// (a user's memberships, an organisation token's organisation) and lists
// their packs' latest published versions in byte order, versions named by
// tag included.
func TestRegistryAccessesAndPacks(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		ctx, r := e.ctx, e.r
		other := newIngestEnv(t, b)
		stranger := newIngestEnv(t, b)
		e.publishPack("zeta", "1.0.0", model.PolicyInput{Name: "p"})
		e.publishPack("Alpha", "1.0.0", model.PolicyInput{Name: "p"})
		e.publishPack("Alpha", "v2.0.0", model.PolicyInput{Name: "p"})
		other.publishPack("beta", "0.1.0", model.PolicyInput{Name: "p"})
		stranger.publishPack("secret", "1.0.0", model.PolicyInput{Name: "p"})
		// Being published: not in the registry.
		if _, err := r.Packs.CreatePolicyPackVersion(ctx, e.org.ID, packs.Input{Name: "zeta", VersionTag: "2.0.0", Policies: []model.PolicyInput{{Name: "p"}}}); err != nil {
			t.Fatal(err)
		}

		login := repotest.UniqueName("dana")
		u := &model.User{Login: login, Email: login + "@example.com"}
		if err := r.Accounts.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		for org, role := range map[int64]model.Role{e.org.ID: model.RoleAdmin, other.org.ID: model.RoleViewer} {
			if err := r.Accounts.AddMember(ctx, org, u.ID, role); err != nil {
				t.Fatal(err)
			}
		}
		dana := &accounts.Caller{User: u}
		all, err := r.Accounts.Accesses(ctx, dana, "")
		if err != nil || len(all) != 2 {
			t.Fatalf("dana's organisations: %+v %v", all, err)
		}
		roles := map[int64]model.Role{all[0].Org.ID: all[0].Role, all[1].Org.ID: all[1].Role}
		if roles[e.org.ID] != model.RoleAdmin || roles[other.org.ID] != model.RoleViewer {
			t.Fatalf("dana's roles %v", roles)
		}
		if none, err := r.Accounts.Accesses(ctx, dana, stranger.org.Name); err != nil || len(none) != 0 {
			t.Fatalf("a stranger's organisation: %+v %v", none, err)
		}
		orgID := e.org.ID
		token := &accounts.Caller{OrgID: &orgID, Role: model.RoleViewer}
		if acc, err := r.Accounts.Accesses(ctx, token, ""); err != nil || len(acc) != 1 || acc[0].Org.Name != e.org.Name || acc[0].Role != model.RoleViewer {
			t.Fatalf("organisation token: %+v %v", acc, err)
		}
		if acc, err := r.Accounts.Accesses(ctx, token, other.org.Name); err != nil || len(acc) != 0 {
			t.Fatalf("organisation token elsewhere: %+v %v", acc, err)
		}

		packs, err := r.Packs.RegistryPacks(ctx, []int64{e.org.ID, other.org.ID}, nil)
		if err != nil || len(packs) != 3 {
			t.Fatalf("packs %+v %v", packs, err)
		}
		// Byte order within an organisation: "Alpha" before "zeta".
		first := e.org.Name < other.org.Name
		mine := packs[:2]
		if !first {
			mine = packs[1:]
		}
		if mine[0].Name != "Alpha" || mine[0].VersionTag != "2.0.0" || mine[0].Version != 2 || mine[1].Name != "zeta" || mine[1].VersionTag != "1.0.0" {
			t.Fatalf("packs %+v", packs)
		}
		byID, err := r.Packs.RegistryPacks(ctx, []int64{e.org.ID}, []string{mine[1].ID, "not-a-uuid"})
		if err != nil || len(byID) != 1 || byID[0].Name != "zeta" {
			t.Fatalf("by id %+v %v", byID, err)
		}

		versions, err := r.Packs.RegistryPackVersions(ctx, e.org.ID, "Alpha")
		if err != nil || len(versions) != 2 || versions[0].Version != 2 || versions[1].Version != 1 {
			t.Fatalf("versions %+v %v", versions, err)
		}
		if _, err := r.Packs.RegistryPackVersions(ctx, e.org.ID, "beta"); !errors.Is(err, repository.ErrNotFound) {
			t.Fatalf("another organisation's pack: %v", err)
		}
		// Versions by tag: "v2.0.0" and "2.0.0" name the same version.
		for _, v := range []string{"2.0.0", "v2.0.0", "2", "latest"} {
			if d, err := r.Packs.PolicyPackVersion(ctx, e.org.ID, "Alpha", v); err != nil || d.Version.Version != 2 {
				t.Fatalf("Alpha %s: %+v %v", v, d, err)
			}
		}
	})
}
