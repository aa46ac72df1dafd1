package repository_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/groups"
	"github.com/policyresults/policyresults/repository/packs"
	"github.com/policyresults/policyresults/repository/repotest"
)

var richPolicy = model.PolicyInput{
	Name: "s3-encryption", DisplayName: "S3 encryption", Description: "Requires SSE.", EnforcementLevel: "mandatory",
	Message: "Buckets must be encrypted.", Severity: "high",
	ConfigSchema:     json.RawMessage(`{"properties":{"algorithms":{"type":"array"}},"type":"object"}`),
	Framework:        &model.Framework{Name: "cis", Version: "1.4", Reference: "2.1.1", Specification: "CIS AWS Foundations"},
	Tags:             []string{"s3", "encryption"},
	RemediationSteps: "Set server_side_encryption_configuration.", URL: "https://example.com/s3-encryption",
}

func TestPolicyPackPublishing(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		ctx, r, org := e.ctx, e.r, e.org.ID
		in := packs.Input{Name: "aws-cis", DisplayName: "AWS CIS", VersionTag: "1.0.0", Description: "CIS benchmark",
			Policies: []model.PolicyInput{richPolicy, {Name: "s3-versioning"}}}
		created, err := r.Packs.CreatePolicyPackVersion(ctx, org, in)
		if err != nil || created.Version != 1 || created.UUID == "" || created.UploadCredential != "" {
			t.Fatalf("create: %+v %v", created, err)
		}
		// Unpublished versions are not listed.
		if list, err := r.Packs.ListPolicyPacks(ctx, org, ""); err != nil || len(list) != 0 {
			t.Fatalf("list before publish = %+v, %v", list, err)
		}
		var ve *repository.ValidationError
		if err := r.Packs.CompletePolicyPackPublish(ctx, org, "aws-cis", 1); !errors.As(err, &ve) || ve.Field != "version" || !strings.Contains(ve.Message, "has no archive") {
			t.Errorf("complete without archive: %v", err)
		}
		if err := r.Packs.StorePolicyPackArchive(ctx, org, "aws-cis", 1, make([]byte, packs.MaxArchiveSize+1)); !errors.As(err, &ve) {
			t.Errorf("oversized archive: %v", err)
		}
		if err := r.Packs.StorePolicyPackArchive(ctx, org, "aws-cis", 9, []byte("x")); !errors.Is(err, repository.ErrNotFound) {
			t.Errorf("archive of an unknown version: %v", err)
		}
		if err := r.Packs.StorePolicyPackArchive(ctx, org, "aws-cis", 1, []byte("tgz")); err != nil {
			t.Fatal(err)
		}
		if err := r.Packs.CompletePolicyPackPublish(ctx, org, "aws-cis", 1); err != nil {
			t.Fatal(err)
		}
		if err := r.Packs.StorePolicyPackArchive(ctx, org, "aws-cis", 1, []byte("again")); !errors.Is(err, repository.ErrConflict) {
			t.Errorf("archive of a published version: %v", err)
		}
		// A published tag can't be published again.
		if _, err := r.Packs.CreatePolicyPackVersion(ctx, org, in); !errors.Is(err, repository.ErrConflict) {
			t.Errorf("republish 1.0.0: %v", err)
		}
		// An interrupted publish is replaced, keeping its number.
		in.VersionTag = "v1.1.0"
		if created, err := r.Packs.CreatePolicyPackVersion(ctx, org, in); err != nil || created.Version != 2 {
			t.Fatalf("create 1.1.0: %+v %v", created, err)
		}
		in.Policies = []model.PolicyInput{{Name: "s3-versioning", Severity: "low"}}
		if created, err := r.Packs.CreatePolicyPackVersion(ctx, org, in); err != nil || created.Version != 2 {
			t.Fatalf("re-create unpublished 1.1.0: %+v %v", created, err)
		}
		e.publishPack("aws-cis", "", model.PolicyInput{Name: "untagged"}) // version 3, tagged "3"
		if err := r.Packs.StorePolicyPackArchive(ctx, org, "aws-cis", 2, []byte("tgz")); err != nil {
			t.Fatal(err)
		}
		if err := r.Packs.CompletePolicyPackPublish(ctx, org, "aws-cis", 2); err != nil {
			t.Fatal(err)
		}
		e.publishPack("gcp", "0.1.0", model.PolicyInput{Name: "x"})

		list, err := r.Packs.ListPolicyPacks(ctx, org, "")
		if err != nil {
			t.Fatal(err)
		}
		want := []packs.Summary{
			{Name: "aws-cis", DisplayName: "aws-cis", Versions: []int{1, 2, 3}, VersionTags: []string{"1.0.0", "1.1.0", "3"}},
			{Name: "gcp", DisplayName: "gcp", Versions: []int{1}, VersionTags: []string{"0.1.0"}},
		}
		if !reflect.DeepEqual(list, want) {
			t.Errorf("list = %+v, want %+v", list, want)
		}

		d, err := r.Packs.PolicyPackVersion(ctx, org, "aws-cis", "1")
		if err != nil {
			t.Fatal(err)
		}
		if d.Version.Version != 1 || d.Version.VersionTag != "1.0.0" || d.Version.Description != "CIS benchmark" || d.Applied || len(d.Policies) != 2 {
			t.Errorf("version 1 = %+v", d)
		}
		got := d.Policies[0]
		if string(got.ConfigSchema) != string(richPolicy.ConfigSchema) {
			t.Errorf("config schema = %s", got.ConfigSchema)
		}
		got2 := richPolicy
		got.ConfigSchema, got2.ConfigSchema = nil, nil
		if !reflect.DeepEqual(got, got2) {
			t.Errorf("policy = %+v\nwant %+v", got, got2)
		}
		if d.Policies[1].EnforcementLevel != "advisory" {
			t.Errorf("default enforcement level = %q", d.Policies[1].EnforcementLevel)
		}
		if d, err := r.Packs.PolicyPackVersion(ctx, org, "aws-cis", "latest"); err != nil || d.Version.Version != 3 || d.Policies[0].Name != "untagged" {
			t.Errorf("latest = %+v, %v", d, err)
		}
		if _, err := r.Packs.PolicyPackVersion(ctx, org, "aws-cis", "7"); !errors.Is(err, repository.ErrNotFound) {
			t.Errorf("unknown version: %v", err)
		}
		if _, err := r.Packs.PolicyPackVersion(ctx, org, "aws-cis", "one"); !errors.As(err, &ve) {
			t.Errorf("bad version: %v", err)
		}
		if _, err := r.Packs.PolicyPackVersion(ctx, org, "nope", "latest"); !errors.Is(err, repository.ErrNotFound) {
			t.Errorf("unknown pack: %v", err)
		}

		// Applied versions can't be deleted.
		if err := r.Groups.UpdatePolicyGroup(ctx, org, model.DefaultStacksGroup,
			[]groups.Update{{AddPolicyPack: &groups.PackRef{Name: "aws-cis"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Groups.CreatePolicyGroup(ctx, org, "pinned", "", ""); err != nil {
			t.Fatal(err)
		}
		if err := r.Groups.UpdatePolicyGroup(ctx, org, "pinned",
			[]groups.Update{{AddPolicyPack: &groups.PackRef{Name: "aws-cis", Version: 1}}}); err != nil {
			t.Fatal(err)
		}
		for version, applied := range map[string]bool{"1": true, "2": false, "latest": true} {
			if d, err := r.Packs.PolicyPackVersion(ctx, org, "aws-cis", version); err != nil || d.Applied != applied {
				t.Errorf("version %s applied = %v, want %v (%v)", version, d.Applied, applied, err)
			}
		}
		for _, version := range []string{"1", "latest", "3"} {
			if err := r.Packs.DeletePolicyPackVersion(ctx, org, "aws-cis", version); !errors.Is(err, repository.ErrConflict) {
				t.Errorf("delete applied version %s: %v", version, err)
			}
		}
		if err := r.Packs.DeletePolicyPack(ctx, org, "aws-cis"); !errors.Is(err, repository.ErrConflict) {
			t.Errorf("delete applied pack: %v", err)
		}
		if err := r.Packs.DeletePolicyPackVersion(ctx, org, "aws-cis", "2"); err != nil {
			t.Errorf("delete unapplied version: %v", err)
		}
		if err := r.Groups.UpdatePolicyGroup(ctx, org, "pinned", []groups.Update{{RemovePolicyPack: &groups.PackRef{Name: "aws-cis"}}}); err != nil {
			t.Fatal(err)
		}
		if err := r.Packs.DeletePolicyPackVersion(ctx, org, "aws-cis", "1"); err != nil {
			t.Errorf("delete version no longer pinned: %v", err)
		}
		if err := r.Groups.UpdatePolicyGroup(ctx, org, model.DefaultStacksGroup,
			[]groups.Update{{RemovePolicyPack: &groups.PackRef{Name: "aws-cis"}}}); err != nil {
			t.Fatal(err)
		}
		if err := r.Packs.DeletePolicyPack(ctx, org, "aws-cis"); err != nil {
			t.Errorf("delete pack: %v", err)
		}
		if err := r.Packs.DeletePolicyPackVersion(ctx, org, "gcp", "latest"); err != nil {
			t.Errorf("delete last version: %v", err)
		}
		if list, err := r.Packs.ListPolicyPacks(ctx, org, ""); err != nil || len(list) != 0 {
			t.Errorf("list after deletes = %+v, %v", list, err)
		}
		var n int64
		if err := r.DB().Model(&model.Policy{}).Where("org_id = ?", org).Count(&n).Error; err != nil || n != 0 {
			t.Errorf("%d policies left after deletes (%v)", n, err)
		}
	})
}

func TestCreatePolicyPackValidation(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(in *packs.Input)
		field string
	}{
		{"no policies", func(in *packs.Input) { in.Policies = nil }, "policies"},
		{"bad name", func(in *packs.Input) { in.Name = "aws/cis" }, "name"},
		{"bad tag", func(in *packs.Input) { in.VersionTag = "1.2" }, "versionTag"},
		{"bad tag letters", func(in *packs.Input) { in.VersionTag = "latest" }, "versionTag"},
		{"bad policy name", func(in *packs.Input) { in.Policies[0].Name = "" }, "policies[0].name"},
		{"bad level", func(in *packs.Input) { in.Policies[1].EnforcementLevel = "warning" }, "policies[1].enforcementLevel"},
		{"bad severity", func(in *packs.Input) { in.Policies[0].Severity = "High" }, "policies[0].severity"},
		{"duplicate policy", func(in *packs.Input) { in.Policies[1].Name = in.Policies[0].Name }, "policies[1].name"},
		{"bad config schema", func(in *packs.Input) { in.Policies[0].ConfigSchema = json.RawMessage(`{`) }, "policies[0].configSchema"},
	}
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := packs.Input{Name: "aws-cis", VersionTag: "1.0.0", Policies: []model.PolicyInput{richPolicy, {Name: "b"}}}
				tt.edit(&in)
				_, err := e.r.Packs.CreatePolicyPackVersion(e.ctx, e.org.ID, in)
				var ve *repository.ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.field {
					t.Fatalf("error = %v, want a ValidationError on %s", err, tt.field)
				}
			})
		}
		if c := e.rowCounts(); c["policy_packs"] != 0 {
			t.Errorf("invalid packs were written: %v", c)
		}
	})
}
