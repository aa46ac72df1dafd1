package trends_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/repository/trends"
)

// BenchmarkTrendsYear answers a year of daily trends, without grouping and
// by each field in turn, over two years of rollups with a row for every
// value of every dimension on every day (5 severities, 12 packs, 2 entity
// types, 2 kinds, 40 groups, 12 packs' compliance) and their totals: the most rows a year
// can hold for such an organisation, whatever its number of issues, which
// the answer never reads.
func BenchmarkTrendsYear(b *testing.B) {
	for _, be := range repotest.Backends(b) {
		b.Run(be.Dialect.String(), func(b *testing.B) {
			ctx := context.Background()
			org, err := be.Repo.Accounts.CreateOrganization(ctx, repotest.UniqueName("bench-trends"))
			if err != nil {
				b.Fatal(err)
			}
			values := map[string][]string{"": {""}, trends.BySeverity: {"critical", "high", "medium", "low", ""},
				trends.ByEntityType: {"stack", "insights-account"}, trends.ByKind: {"audit", "preventative"}}
			for i := range 12 {
				values[trends.ByPolicyPack] = append(values[trends.ByPolicyPack], fmt.Sprintf("pack-%02d", i))
			}
			for i := range 40 {
				values[trends.ByPolicyGroupName] = append(values[trends.ByPolicyGroupName], fmt.Sprintf("group-%02d", i))
			}
			today := time.Now().UTC()
			var rows, snapshots []string
			for d := range 730 {
				day := today.AddDate(0, 0, -d).Format(time.DateOnly)
				for dim, vs := range values {
					for _, v := range vs {
						rows = append(rows, fmt.Sprintf("(%d, '%s', '%s', '%s', %d, %d, %d, %d, %d)", org.ID, dim, v, day, 20, 15, 2, 7, 15*86400))
					}
				}
				for _, p := range values[trends.ByPolicyPack] {
					snapshots = append(snapshots, fmt.Sprintf("(%d, '%s', '%s', 300, 24000)", org.ID, p, day))
				}
			}
			db := be.Repo.DB()
			for i := 0; i < len(rows); i += 400 {
				if err := db.Exec(`INSERT INTO issue_trends (org_id, dimension, value, day, opened, fixed, reopened, active_change, fix_seconds) VALUES ` +
					strings.Join(rows[i:min(i+400, len(rows))], ", ")).Error; err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < len(snapshots); i += 400 {
				if err := db.Exec(`INSERT INTO compliance_trends (org_id, pack_name, day, cells, score_sum) VALUES ` +
					strings.Join(snapshots[i:min(i+400, len(snapshots))], ", ")).Error; err != nil {
					b.Fatal(err)
				}
			}
			var totals []string
			for dim, vs := range values {
				for _, v := range vs {
					totals = append(totals, fmt.Sprintf("(%d, '%s', '%s', %d)", org.ID, dim, v, 7*730))
				}
			}
			if err := db.Exec(`INSERT INTO issue_trend_totals (org_id, dimension, value, active) VALUES ` + strings.Join(totals, ", ")).Error; err != nil {
				b.Fatal(err)
			}
			if err := be.Repo.Analyze(ctx); err != nil {
				b.Fatal(err)
			}
			groups := []string{"", trends.BySeverity, trends.ByPolicyPack, trends.ByEntityType,
				trends.ByKind, trends.ByPolicyGroupName}
			q := trends.Query{From: today.AddDate(0, 0, -364).Format(time.DateOnly), To: today.Format(time.DateOnly), Interval: "day"}
			b.ResetTimer()
			for i := range b.N {
				q.GroupBy = groups[i%len(groups)]
				t, err := be.Repo.Trends().Read(ctx, org.ID, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(t.Intervals) != 365 || len(t.Series) != len(values[q.GroupBy]) || len(t.Compliance) != 12 {
					b.Fatalf("%d intervals, %d series, %d packs", len(t.Intervals), len(t.Series), len(t.Compliance))
				}
			}
		})
	}
}
