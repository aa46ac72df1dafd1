package issuequery

import (
	"testing"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository/store"
)

// gridBenchBodies are grid requests of the shapes clients send, from the
// load generator's mix (cmd/policyresults-bench/mix.go).
var gridBenchBodies = map[string]string{
	"default": `{"startRow":0,"endRow":100}`,
	"columnModel": `{"startRow":0,"endRow":100,"filterModel":{"status":{"filterType":"set","values":["open","in_progress"]},` +
		`"policyPack":{"filterType":"text","type":"equals","filter":"aws-cis-benchmark"}}}`,
	"join": `{"startRow":0,"endRow":100,"filterModel":{"filterType":"join","type":"AND","conditions":[` +
		`{"filterType":"text","colId":"entityType","type":"equals","filter":"insights-account"},` +
		`{"filterType":"join","type":"OR","conditions":[{"filterType":"set","colId":"severity","values":["critical","high"]},` +
		`{"filterType":"date","colId":"observedAt","type":"inRange","dateFrom":"2025-01-01","dateTo":"2025-12-31"}]}]},` +
		`"sortModel":[{"colId":"priority","sort":"asc"},{"colId":"observedAt","sort":"desc"}]}`,
	"contains": `{"startRow":0,"endRow":100,"filterModel":{"message":{"filterType":"text","type":"contains","filter":"bucket_1%"}}}`,
}

// BenchmarkFilterTranslation parses grid requests and translates them to
// SQL (filter, cube filter, order): the per-request CPU before the
// database.
func BenchmarkFilterTranslation(b *testing.B) {
	for name, body := range gridBenchBodies {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req, err := grid.DecodeRequest([]byte(body))
				if err != nil {
					b.Fatal(err)
				}
				q, err := grid.Parse(req, IssueSchema, IssueGridOptions)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = issueWhere(1, q.Where(), store.Postgres, nil)
				if onCube(q.Where()) {
					_, _ = cubeWhere(1, q.Where(), store.Postgres)
				}
				_ = OrderClause(q.Sort, issueGridColumns, "policy_issues.id", store.Postgres)
			}
		})
	}
}
