package repository_test

import (
	"context"
	"testing"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuequery"
)

// BenchmarkExportIssues streams every issue of the grid benches'
// organisation through ExportIssues: the issue scanner of each database.
func BenchmarkExportIssues(b *testing.B) {
	for _, g := range gridBenches(b) {
		b.Run(g.name, func(b *testing.B) {
			ctx := context.Background()
			q := parseIssueQuery(b, `{}`, issuequery.IssueExportOptions)
			b.ReportAllocs()
			rows := 0
			for b.Loop() {
				if err := g.repo.Issues.ExportIssues(ctx, g.org, q, func(*model.Issue) error {
					rows++
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
