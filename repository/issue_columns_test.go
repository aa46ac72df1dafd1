package repository_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestIssueColumnsRoundTrip writes issues with every column set (and with
// the nullable ones null) and reads them back through each scanner: the
// grid's (database/sql) and the export's (pgx on PostgreSQL).
func TestIssueColumnsRoundTrip(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		ctx := context.Background()
		r := b.Repo
		org, err := r.Accounts.CreateOrganization(ctx, repotest.UniqueName("columns"))
		if err != nil {
			t.Fatal(err)
		}
		entity := model.Entity{OrgID: org.ID, Type: model.EntityStack, Project: "payments", Name: "prod"}
		user := model.User{Login: repotest.UniqueName("alice"), Email: repotest.UniqueName("alice") + "@example.com"}
		if err := r.DB().Create(&entity).Error; err != nil {
			t.Fatal(err)
		}
		if err := r.DB().Create(&user).Error; err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)
		accepted, stackVersion, resourceVersion := at.Add(48*time.Hour), int64(12), int64(34)
		want := make([]model.Issue, 2)
		for i := range want {
			want[i] = model.Issue{OrgID: org.ID, ID: fmt.Sprintf("issue-%d", i), EntityRef: entity.ID, Scope: "scope",
				EntityType: "stack", EntityProject: "payments", EntityID: "prod", PolicyPack: "aws-cis", PolicyPackTag: "1.0.0",
				PolicyName: fmt.Sprintf("policy-%d", i), ResourceURN: "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::b",
				ResourceProvider: "aws", ResourceType: "aws:s3/bucket:Bucket", ResourceName: "b", Message: "not encrypted",
				ObservedAt: at, LastModified: at.Add(time.Hour), Level: "mandatory", Severity: "high", SeverityRank: 3,
				Status: "ignored", StatusRank: 4, Active: false, Kind: "audit", Priority: "p1", AssigneeLogin: user.Login,
				AssigneeEmail: user.Email, PolicyGroupName: "default", PolicyGroupType: "audit", Revision: 7}
		}
		want[0].StackVersion, want[0].ResourceVersion, want[0].AssigneeID = &stackVersion, &resourceVersion, &user.ID
		want[0].AcceptedUntil, want[0].AcceptanceReason = &accepted, "compensating control"
		if err := r.DB().Create(&want).Error; err != nil {
			t.Fatal(err)
		}
		if err := r.RebuildRollups(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		check := func(how string, got []model.Issue) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s read %d issues, want %d", how, len(got), len(want))
			}
			for i := range got {
				if g := got[len(got)-1-i]; !reflect.DeepEqual(g, want[i]) {
					t.Errorf("%s read\n %+v\nwant\n %+v", how, g, want[i])
				}
			}
		}
		var exported []model.Issue
		q := parseIssueQuery(t, `{"sortModel":[{"colId":"id","sort":"desc"}]}`, issuequery.IssueExportOptions)
		if err := r.Issues.ExportIssues(ctx, org.ID, q, func(is *model.Issue) error {
			exported = append(exported, *is)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		check("the export", exported)
		page, err := r.Issues.ListIssues(ctx, org.ID, parseIssueQuery(t, `{"sortModel":[{"colId":"id","sort":"desc"}]}`, issuequery.IssueGridOptions))
		if err != nil {
			t.Fatal(err)
		}
		check("the grid", page.Issues)
	})
}
