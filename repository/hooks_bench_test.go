package repository_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/repository/webhooks"
)

// BenchmarkIngestHooks is BenchmarkIngestNewStack in an organisation
// without webhooks and in one with three active webhooks, whose every
// evaluation also writes its event to the outbox: compare the two
// violations/s of one run (docs/webhooks.md, BENCHMARKS.md). Run it with
// -benchtime=250x for 100,000 violations each.
func BenchmarkIngestHooks(b *testing.B) {
	for _, be := range repotest.Backends(b) {
		for _, hooks := range []int{0, 3} {
			b.Run(fmt.Sprintf("%s/hooks=%d", be.Dialect, hooks), func(b *testing.B) {
				ctx := context.Background()
				org, err := be.Repo.CreateOrganization(ctx, uniqueName("bench-hooks"))
				if err != nil {
					b.Fatal(err)
				}
				store := webhooks.New(be.Repo.DB(), be.Dialect == repository.Postgres, "bench")
				for i := range hooks {
					name, url := fmt.Sprintf("hook-%d", i), "https://hooks.example.com/policy"
					if _, err := store.Create(ctx, webhooks.Scope{OrgID: org.ID}, webhooks.Spec{Name: &name, DisplayName: &name, PayloadURL: &url}); err != nil {
						b.Fatal(err)
					}
				}
				ingestNewStacks(b, be.Repo, org.ID)
			})
		}
	}
}
