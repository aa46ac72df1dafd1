package repository_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/policyresults/policyresults/repository"
)

// BenchmarkBatchUpdate triages 1,000 issues by id and every issue of a
// filter (BENCH_BATCH_FILTER, a grid filterModel; default one policy: 4,000
// of the seeded 8,000 issues, or on BENCH_DATABASE_URL's acme whatever it
// matches) in one batch each, every run changing every issue's priority,
// next to one PATCH of one issue as the baseline.
func BenchmarkBatchUpdate(b *testing.B) {
	ctx := context.Background()
	actor := repository.Actor{Name: "bench", Type: "user"}
	filter := os.Getenv("BENCH_BATCH_FILTER")
	if filter == "" {
		filter = `{"policyName":{"filterType":"text","type":"equals","filter":"s3-versioning"}}`
	}
	priority := func(i int) *string { return strPtr([]string{"p1", "p2"}[i%2]) }
	for _, gb := range gridBenches(b) {
		ids, err := gb.repo.ActiveIssueIDs(ctx, gb.org, 1000)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(gb.name+"/patch-1", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := gb.repo.UpdateIssue(ctx, gb.org, ids[0], actor, repository.IssueUpdate{Priority: priority(i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(gb.name+"/ids-1000", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				u := repository.BatchUpdate{IDs: ids, ExpectedCount: len(ids)}
				u.Priority = priority(i)
				if _, err := gb.repo.BatchUpdateIssues(ctx, gb.org, actor, u); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The filter's count, from the refusal of a count it cannot match.
		u := repository.BatchUpdate{ByFilter: true, Filter: issueFilter(b, filter), ExpectedCount: 1 << 30}
		u.Priority = priority(0)
		_, err = gb.repo.BatchUpdateIssues(ctx, gb.org, actor, u)
		var count *repository.BatchCountError
		if !errors.As(err, &count) {
			b.Fatalf("count of the filter: %v", err)
		}
		b.Run(gb.name+"/filter", func(b *testing.B) {
			b.ReportMetric(float64(count.Matched), "issues")
			for i := 0; i < b.N; i++ {
				u := repository.BatchUpdate{ByFilter: true, Filter: issueFilter(b, filter), ExpectedCount: count.Matched}
				u.Priority = priority(i)
				if _, err := gb.repo.BatchUpdateIssues(ctx, gb.org, actor, u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
