package repository_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/repotest"
)

// gridBench is an organisation to run grid queries on: a seeded one in the
// test databases, or, with BENCH_DATABASE_URL set (e.g. the 1M-issue
// database of scripts/bench.sh full), the demo organisation acme there.
type gridBench struct {
	name string
	repo *repository.Repository
	org  int64
}

func gridBenches(b *testing.B) []gridBench {
	ctx := context.Background()
	if url := os.Getenv("BENCH_DATABASE_URL"); url != "" {
		r, err := repository.Open(ctx, url, repository.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { r.Close() })
		org, err := r.Accounts.OrganizationByName(ctx, "acme")
		if err != nil {
			b.Fatal(err)
		}
		return []gridBench{{r.Dialect().String() + "-acme", r, org.ID}}
	}
	var out []gridBench
	for _, be := range repotest.Backends(b) {
		out = append(out, gridBench{be.Dialect.String(), be.Repo, seedGridBench(b, be.Repo)})
	}
	return out
}

// seedGridBench loads 40 stacks of 500 buckets, a fifth of them failing
// one of two policies, through ingest (8,000 issues), and triages a few.
func seedGridBench(b *testing.B, r *repository.Repository) int64 {
	b.Helper()
	ctx := context.Background()
	org, err := r.Accounts.CreateOrganization(ctx, repotest.UniqueName("bench-grid"))
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, 500)
	failing := map[string][]string{}
	for i := range names {
		names[i] = fmt.Sprintf("bucket-%03d", i)
		switch i % 5 {
		case 0:
			failing[names[i]] = []string{"s3-encryption"}
		case 1:
			failing[names[i]] = []string{"s3-versioning"}
		}
	}
	for s := 0; s < 40; s++ {
		ev := stackEval(1, "1.0.0", names, failing)
		ev.Stack.Project, ev.Stack.Name = fmt.Sprintf("project-%02d", s/4), []string{"prod", "staging", "dev", "qa"}[s%4]
		if _, err := r.ApplyEvaluation(ctx, org.ID, ingestActor, ev); err != nil {
			b.Fatal(err)
		}
	}
	ids, err := r.ActiveIssueIDs(ctx, org.ID, 200)
	if err != nil {
		b.Fatal(err)
	}
	for i, id := range ids {
		u := repository.IssueUpdate{Status: strPtr([]string{"in_progress", "ignored"}[i%2])}
		if _, err := r.UpdateIssue(ctx, org.ID, id, repository.Actor{Name: "bench", Type: "user"}, u); err != nil {
			b.Fatal(err)
		}
	}
	return org.ID
}

var gridQueryBodies = []struct{ name, body string }{
	{"default", `{"startRow":0,"endRow":100}`},
	{"active", `{"startRow":0,"endRow":100,"filterModel":{"status":{"filterType":"set","values":["open","in_progress"]}}}`},
	{"policy", `{"startRow":0,"endRow":100,"filterModel":{"policyName":{"filterType":"text","type":"equals","filter":"s3-versioning"}}}`},
	{"ignored", `{"startRow":0,"endRow":100,"filterModel":{"status":{"filterType":"set","values":["ignored"]}}}`},
	{"observedAt", `{"startRow":0,"endRow":100,"sortModel":[{"colId":"observedAt","sort":"desc"}]}`},
	{"deep", `{"startRow":5000,"endRow":5100}`},
	{"contains", `{"startRow":0,"endRow":100,"filterModel":{"resourceName":{"filterType":"text","type":"contains","filter":"bucket-12"}}}`},
}

// BenchmarkListIssues runs grid pages (with their exact rowCount).
func BenchmarkListIssues(b *testing.B) {
	ctx := context.Background()
	for _, gb := range gridBenches(b) {
		for _, qb := range gridQueryBodies {
			b.Run(gb.name+"/"+qb.name, func(b *testing.B) {
				q := parseIssueQuery(b, qb.body, issuequery.IssueGridOptions)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := gb.repo.Issues.ListIssues(ctx, gb.org, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkIssueFacets counts a low-cardinality field's values under a
// filter, and a field outside the cube.
func BenchmarkIssueFacets(b *testing.B) {
	ctx := context.Background()
	for _, gb := range gridBenches(b) {
		for _, fb := range []struct{ name, field, filter string }{
			{"status", "status", `{"policyName":{"filterType":"text","type":"equals","filter":"s3-versioning"}}`},
			{"policyName", "policyName", `{"status":{"filterType":"set","values":["open","in_progress"]}}`},
			{"entityId", "entityId", `{"status":{"filterType":"set","values":["open"]}}`},
		} {
			b.Run(gb.name+"/"+fb.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := gb.repo.Issues.IssueFacets(ctx, gb.org, fb.field, issueFilter(b, fb.filter)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
