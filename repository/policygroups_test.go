package repository_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/groups"
	"github.com/policyresults/policyresults/repository/repotest"
)

func TestPolicyGroups(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		ctx, r, org := e.ctx, e.r, e.org.ID
		e.publishPack("aws-cis", "1.0.0", model.PolicyInput{Name: "a"})
		e.publishPack("aws-cis", "1.1.0", model.PolicyInput{Name: "a"})

		listed, err := r.Groups.ListPolicyGroups(ctx, org)
		if err != nil || len(listed) != 2 {
			t.Fatalf("default groups = %+v, %v", listed, err)
		}
		if g := listed[0]; g.Name != model.DefaultAccountsGroup || g.EntityType != "accounts" || g.Mode != "audit" || !g.IsOrgDefault {
			t.Errorf("default accounts group = %+v", g)
		}
		if g := listed[1]; g.Name != model.DefaultStacksGroup || g.EntityType != "stacks" || g.Mode != "preventative" || !g.IsOrgDefault {
			t.Errorf("default stacks group = %+v", g)
		}

		var ve *repository.ValidationError
		for _, tt := range []struct{ name, entityType, mode, wantType, wantMode string }{
			{"prod", "", "", "stacks", "preventative"},
			{"scanners", "accounts", "", "accounts", "audit"},
			{"prod-audit", "stacks", "audit", "stacks", "audit"},
		} {
			g, err := r.Groups.CreatePolicyGroup(ctx, org, tt.name, tt.entityType, tt.mode)
			if err != nil || g.EntityType != tt.wantType || g.Mode != tt.wantMode || g.IsOrgDefault {
				t.Errorf("create %s = %+v, %v", tt.name, g, err)
			}
		}
		if _, err := r.Groups.CreatePolicyGroup(ctx, org, "prod", "", ""); !errors.Is(err, repository.ErrConflict) {
			t.Errorf("duplicate group: %v", err)
		}
		for _, bad := range []struct{ name, entityType, mode, field string }{
			{"", "", "", "name"}, {"has space", "", "", "name"}, {"x", "clusters", "", "entityType"}, {"x", "", "detective", "mode"},
			{"metadata", "", "", "name"},
		} {
			if _, err := r.Groups.CreatePolicyGroup(ctx, org, bad.name, bad.entityType, bad.mode); !errors.As(err, &ve) || ve.Field != bad.field {
				t.Errorf("create %+v: %v", bad, err)
			}
		}

		// The batch applies in order, atomically.
		config := json.RawMessage(`{"a":{"enforcementLevel":"mandatory"}}`)
		if err := r.Groups.UpdatePolicyGroup(ctx, org, "prod", []groups.Update{
			{AddStack: &groups.StackMember{Name: "staging", RoutingProject: "web"}},
			{AddStack: &groups.StackMember{Name: "prod", RoutingProject: "payments"}},
			{AddPolicyPack: &groups.PackRef{Name: "aws-cis", Config: config}},
		}); err != nil {
			t.Fatal(err)
		}
		d := e.group("prod")
		wantStacks := []groups.StackMember{{Name: "prod", RoutingProject: "payments"}, {Name: "staging", RoutingProject: "web"}}
		if !reflect.DeepEqual(d.Stacks, wantStacks) || len(d.Accounts) != 0 {
			t.Errorf("stacks = %+v accounts = %+v", d.Stacks, d.Accounts)
		}
		if len(d.AppliedPacks) != 1 {
			t.Fatalf("applied packs = %+v", d.AppliedPacks)
		}
		if p := d.AppliedPacks[0]; p.Name != "aws-cis" || p.Version != 2 || p.VersionTag != "1.1.0" || p.Pinned || string(p.Config) != string(config) {
			t.Errorf("applied pack = %+v", p)
		}
		// New stacks joined their default group too.
		if def := e.group(model.DefaultStacksGroup); len(def.Stacks) != 2 {
			t.Errorf("default group stacks = %+v", def.Stacks)
		}
		// Pinning a version replaces the applied pack.
		if err := r.Groups.UpdatePolicyGroup(ctx, org, "prod", []groups.Update{{AddPolicyPack: &groups.PackRef{Name: "aws-cis", Version: 1}}}); err != nil {
			t.Fatal(err)
		}
		if p := e.group("prod").AppliedPacks[0]; p.Version != 1 || p.VersionTag != "1.0.0" || !p.Pinned || p.Config != nil {
			t.Errorf("pinned pack = %+v", p)
		}

		counts := e.rowCounts()
		for _, tt := range []struct {
			name    string
			group   string
			updates []groups.Update
			field   string
		}{
			{"account into a stacks group", "prod", []groups.Update{
				{AddStack: &groups.StackMember{Name: "dev", RoutingProject: "data"}}, {AddInsightsAccount: "aws-prod"},
			}, "[1].addInsightsAccount"},
			{"stack into an accounts group", "scanners", []groups.Update{{AddStack: &groups.StackMember{Name: "dev", RoutingProject: "data"}}}, "addStack"},
			{"bad stack name", "prod", []groups.Update{{AddStack: &groups.StackMember{Name: "a b", RoutingProject: "data"}}}, "addStack.name"},
			{"unknown pack", "prod", []groups.Update{{AddPolicyPack: &groups.PackRef{Name: "nope"}}}, "addPolicyPack.name"},
			{"unknown pack version", "prod", []groups.Update{{AddPolicyPack: &groups.PackRef{Name: "aws-cis", Version: 9}}}, "addPolicyPack.version"},
			{"bad config", "prod", []groups.Update{{AddPolicyPack: &groups.PackRef{Name: "aws-cis", Config: json.RawMessage(`{`)}}}, "addPolicyPack.config"},
			{"remove a stack not in the group", "prod", []groups.Update{{RemoveStack: &groups.StackMember{Name: "dev", RoutingProject: "data"}}}, "removeStack"},
			{"remove a pack not applied", "prod-audit", []groups.Update{{RemovePolicyPack: &groups.PackRef{Name: "aws-cis"}}}, "removePolicyPack.name"},
			{"remove an account not in the group", "scanners", []groups.Update{{RemoveInsightsAccount: "nope"}}, "removeInsightsAccount"},
			{"rename a default group", model.DefaultStacksGroup, []groups.Update{{NewName: "mine"}}, "newName"},
			{"bad new name", "prod", []groups.Update{{NewName: "a b"}}, "newName"},
			{"empty update", "prod", []groups.Update{{}}, ""},
			{"no updates", "prod", nil, ""},
		} {
			err := r.Groups.UpdatePolicyGroup(ctx, org, tt.group, tt.updates)
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Errorf("%s: %v, want a ValidationError on %q", tt.name, err, tt.field)
			}
		}
		if after := e.rowCounts(); !reflect.DeepEqual(counts, after) {
			t.Errorf("failed updates wrote rows: %v → %v", counts, after)
		}
		if err := r.Groups.UpdatePolicyGroup(ctx, org, "nope", []groups.Update{{NewName: "x"}}); !errors.Is(err, repository.ErrNotFound) {
			t.Errorf("unknown group: %v", err)
		}

		if err := r.Groups.UpdatePolicyGroup(ctx, org, "scanners", []groups.Update{{AddInsightsAccount: "aws-prod"}, {AddInsightsAccount: "azure-dev"}}); err != nil {
			t.Fatal(err)
		}
		if err := r.Groups.UpdatePolicyGroup(ctx, org, "scanners", []groups.Update{{RemoveInsightsAccount: "azure-dev"}}); err != nil {
			t.Fatal(err)
		}
		if d := e.group("scanners"); !reflect.DeepEqual(d.Accounts, []string{"aws-prod"}) {
			t.Errorf("accounts = %+v", d.Accounts)
		}
		if err := r.Groups.UpdatePolicyGroup(ctx, org, "prod", []groups.Update{
			{RemoveStack: &groups.StackMember{Name: "staging", RoutingProject: "web"}}, {NewName: "production"},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Groups.PolicyGroupDetail(ctx, org, "prod"); !errors.Is(err, repository.ErrNotFound) {
			t.Errorf("old name: %v", err)
		}
		if d := e.group("production"); len(d.Stacks) != 1 {
			t.Errorf("renamed group = %+v", d)
		}
		if err := r.Groups.UpdatePolicyGroup(ctx, org, "production", []groups.Update{{NewName: "scanners"}}); !errors.Is(err, repository.ErrConflict) {
			t.Errorf("rename onto an existing group: %v", err)
		}

		listed, err = r.Groups.ListPolicyGroups(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		summary := map[string][3]int{}
		for _, g := range listed {
			summary[g.Name] = [3]int{g.NumStacks, g.NumAccounts, g.NumEnabledPolicyPacks}
		}
		wantSummary := map[string][3]int{
			model.DefaultStacksGroup: {2, 0, 0}, model.DefaultAccountsGroup: {0, 2, 0},
			"production": {1, 0, 1}, "scanners": {0, 1, 0}, "prod-audit": {0, 0, 0},
		}
		if !reflect.DeepEqual(summary, wantSummary) {
			t.Errorf("group counts = %v, want %v", summary, wantSummary)
		}

		if err := r.Groups.DeletePolicyGroup(ctx, org, model.DefaultAccountsGroup); !errors.As(err, &ve) {
			t.Errorf("delete default group: %v", err)
		}
		if err := r.Groups.DeletePolicyGroup(ctx, org, "production"); err != nil {
			t.Fatal(err)
		}
		if err := r.Groups.DeletePolicyGroup(ctx, org, "production"); !errors.Is(err, repository.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		// The pack is no longer applied anywhere: it can be deleted.
		if err := r.Packs.DeletePolicyPack(ctx, org, "aws-cis"); err != nil {
			t.Errorf("delete pack after its group: %v", err)
		}
	})
}
