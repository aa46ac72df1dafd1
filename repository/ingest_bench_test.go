package repository_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
)

// BenchmarkIngestNewStack applies the first complete evaluation of a new
// stack each time: 1,000 resources, 400 of them failing one policy (the
// shape of a bulk load); b.N stacks in one organisation. The metric
// violations/s is the ingest throughput of one writer.
func BenchmarkIngestNewStack(b *testing.B) {
	for _, be := range repotest.Backends(b) {
		b.Run(be.Dialect.String(), func(b *testing.B) {
			ctx := context.Background()
			org, err := be.Repo.Accounts.CreateOrganization(ctx, repotest.UniqueName("bench-load"))
			if err != nil {
				b.Fatal(err)
			}
			ingestNewStacks(b, be.Repo, org.ID)
		})
	}
}

// ingestNewStacks applies b.N first evaluations of new stacks (1,000
// resources, 400 failing) in the organisation and reports violations/s.
func ingestNewStacks(b *testing.B, repo *repository.Repository, orgID int64) {
	ctx := context.Background()
	names, failing, violations := newStackShape()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := stackEval(1, "1.0.0", names, failing)
		ev.Stack.Name = fmt.Sprintf("stack-%d", i)
		if _, err := repo.ApplyEvaluation(ctx, orgID, ingestActor, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*violations)/b.Elapsed().Seconds(), "violations/s")
}

// newStackShape is the bulk load's evaluation: 1,000 resources, 400 of
// them failing one policy.
func newStackShape() (names []string, failing map[string][]string, violations int) {
	const resources = 1000
	violations = 400
	names = make([]string, resources)
	failing = map[string][]string{}
	for i := range names {
		names[i] = fmt.Sprintf("bucket-%04d", i)
		if i%(resources/violations) == 0 {
			failing[names[i]] = []string{"s3-encryption"}
		}
	}
	return names, failing, violations
}
