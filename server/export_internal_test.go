package server

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuequery"
)

// TestExportCellsCoverIssueFields checks that the CSV export renders every
// field of the issues and only those, and that they are the grid's columns.
func TestExportCellsCoverIssueFields(t *testing.T) {
	cells := slices.Sorted(maps.Keys(exportCells))
	fields := slices.Sorted(slices.Values(exportColumns))
	if !slices.Equal(cells, fields) {
		t.Errorf("export cells %v\nissue fields %v", cells, fields)
	}
	if grid := slices.Sorted(maps.Keys(issuequery.IssueSchema)); !slices.Equal(grid, fields) {
		t.Errorf("grid columns %v\nissue fields %v", grid, fields)
	}
}

// BenchmarkExportRecord renders one issue as a CSV record, as the export
// does for each of its rows.
func BenchmarkExportRecord(b *testing.B) {
	v, until := int64(3), time.Unix(1700100000, 0)
	is := &model.Issue{
		ID: "0b8f9a70-9c4e-4a55-8a39-1c1d5b1b0c34", EntityType: "stack", EntityProject: "shop", EntityID: "prod",
		StackVersion: &v, PolicyPack: "aws-cis", PolicyPackTag: "1.0.0", PolicyName: "no-public-read",
		ResourceURN: "urn:pulumi:prod::shop::aws:s3/bucket:Bucket::site", ResourceProvider: "aws",
		ResourceType: "aws:s3/bucket:Bucket", ResourceName: "site", Message: "Bucket is public",
		ObservedAt: time.Unix(1700000000, 0), LastModified: time.Unix(1700000001, 0), Level: "mandatory",
		Severity: "high", Status: "ignored", Kind: "audit", Priority: "p1", AssigneeEmail: "alice@example.com",
		PolicyGroupName: "default", PolicyGroupType: "audit", AcceptedUntil: &until, AcceptanceReason: "-accepted",
	}
	rec := make([]string, 0, len(exportColumns))
	b.ReportAllocs()
	for b.Loop() {
		rec = exportRecord(is, rec)
	}
}
