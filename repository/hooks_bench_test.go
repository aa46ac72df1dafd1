package repository_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/repository/webhooks"
)

// BenchmarkIngestHooks measures what three active webhooks cost ingest:
// each iteration applies the first evaluation of a new stack (1,000
// resources, 400 failing) in an organisation without webhooks and in one
// with three, whose evaluations also write their event to the outbox,
// alternating which goes first, so both see the same machine. It reports
// both throughputs and their ratio (hooks/plain). Run it with
// -benchtime=250x for 100,000 violations each.
func BenchmarkIngestHooks(b *testing.B) {
	for _, be := range repotest.Backends(b) {
		b.Run(be.Dialect.String(), func(b *testing.B) {
			ctx := context.Background()
			var orgs [2]int64
			for k := range orgs {
				org, err := be.Repo.Accounts.CreateOrganization(ctx, repotest.UniqueName("bench-hooks"))
				if err != nil {
					b.Fatal(err)
				}
				orgs[k] = org.ID
			}
			store := webhooks.New(be.Repo.DB(), be.Dialect.ConcurrentWrites(), "bench")
			for i := range 3 {
				name, url := fmt.Sprintf("hook-%d", i), "https://hooks.example.com/policy"
				if _, err := store.Create(ctx, webhooks.Scope{OrgID: orgs[1]}, webhooks.Spec{Name: &name, DisplayName: &name, PayloadURL: &url}); err != nil {
					b.Fatal(err)
				}
			}
			names, failing, violations := newStackShape()
			var spent [2]time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range 2 {
					k := (i + j) % 2
					ev := stackEval(1, "1.0.0", names, failing)
					ev.Stack.Name = fmt.Sprintf("stack-%d", i)
					start := time.Now()
					if _, err := be.Repo.ApplyEvaluation(ctx, orgs[k], ingestActor, ev); err != nil {
						b.Fatal(err)
					}
					spent[k] += time.Since(start)
				}
			}
			plain := float64(b.N*violations) / spent[0].Seconds()
			hooked := float64(b.N*violations) / spent[1].Seconds()
			b.ReportMetric(plain, "plain-violations/s")
			b.ReportMetric(hooked, "hooks-violations/s")
			b.ReportMetric(hooked/plain, "hooks/plain")
		})
	}
}
