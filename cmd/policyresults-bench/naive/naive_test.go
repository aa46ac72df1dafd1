package naive_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/policyresults/policyresults/cmd/policyresults-bench/naive"
	"github.com/policyresults/policyresults/demo"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/repotest"
)

func TestMain(m *testing.M) { repotest.Main(m) }

// TestNaiveAnswersAsTheServer checks that the baseline answers the
// benchmark's requests as the server's queries do (the same rows in the
// same order, the same counts and facets), so their times compare the same
// work.
func TestNaiveAnswersAsTheServer(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		ctx := context.Background()
		res, err := demo.Load(ctx, b.Repo, demo.Options{Stacks: 4, Accounts: 1, ResourcesPerEntity: 20, Runs: 2,
			FailureRate: 0.5, Triage: 30})
		if err != nil {
			t.Fatal(err)
		}
		orgID := res.Org.ID
		pages := []string{
			`{"startRow":0,"endRow":50}`,
			`{"startRow":40,"endRow":60}`,
			`{"startRow":0,"endRow":30,"filterModel":{"status":{"filterType":"set","values":["open","in_progress"]}}}`,
			`{"startRow":0,"endRow":30,"filterModel":{"type":"AND","conditions":[{"filterType":"set","colId":"status","values":["open"]},{"filterType":"set","colId":"severity","values":["critical","high"]}]}}`,
			`{"startRow":0,"endRow":30,"filterModel":{"message":{"filterType":"text","type":"contains","filter":"BUCKET"}}}`,
			`{"startRow":5,"endRow":25,"filterModel":{"assignedTo":{"filterType":"text","type":"equals","filter":"bob"}},"sortModel":[{"colId":"observedAt","sort":"desc"}]}`,
			`{"startRow":0,"endRow":30,"sortModel":[{"colId":"priority","sort":"asc"},{"colId":"resourceName","sort":"desc"}]}`,
		}
		for _, body := range pages {
			r, err := grid.DecodeRequest([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			q, err := grid.Parse(r, issuequery.IssueSchema, issuequery.IssueGridOptions)
			if err != nil {
				t.Fatal(err)
			}
			want, err := b.Repo.Issues.ListIssues(ctx, orgID, q)
			if err != nil {
				t.Fatal(err)
			}
			got, count, err := naive.Page(ctx, b.Repo, orgID, q)
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if count != want.RowCount || len(got) != len(want.Issues) {
				t.Errorf("%s: %d rows of %d, want %d of %d", body, len(got), count, len(want.Issues), want.RowCount)
				continue
			}
			if want.RowCount == 0 {
				t.Errorf("%s matches no issue: the demo data no longer exercises it", body)
			}
			for i := range got {
				if got[i].ID != want.Issues[i].ID {
					t.Errorf("%s: row %d is %s, want %s", body, i, got[i].ID, want.Issues[i].ID)
					break
				}
			}
		}

		for _, f := range []struct{ field, filter string }{
			{"status", `{"severity":{"filterType":"set","values":["high"]}}`},
			{"policyPack", `{"status":{"filterType":"set","values":["open"]},"policyPack":{"filterType":"text","type":"equals","filter":"x"}}`},
			{"priority", `{"message":{"filterType":"text","type":"contains","filter":"must"}}`},
		} {
			filter, err := grid.ParseFilter(grid.FilterModel(f.filter), issuequery.IssueSchema)
			if err != nil {
				t.Fatal(err)
			}
			want, err := b.Repo.Issues.IssueFacets(ctx, orgID, f.field, filter)
			if err != nil {
				t.Fatal(err)
			}
			got, err := naive.Facets(ctx, b.Repo, orgID, f.field, json.RawMessage(f.filter))
			if err != nil {
				t.Fatalf("%s: %v", f.field, err)
			}
			counts := map[string]int64{}
			for _, v := range got {
				counts[v.Name] = v.Count
			}
			if len(got) != len(want) || len(want) == 0 {
				t.Errorf("%s: %v, want %v", f.field, got, want)
				continue
			}
			for _, v := range want {
				if counts[v.Name] != v.Count {
					t.Errorf("%s: %q counts %d, want %d", f.field, v.Name, counts[v.Name], v.Count)
				}
			}
		}
	})
}
