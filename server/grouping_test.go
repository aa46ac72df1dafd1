package server_test

import (
	"context"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

func TestGroupingThroughTheAPI(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 2, 10)
		c := env.Client(t, org.Viewer)
		ctx := context.Background()
		cols := func(ids ...string) []grid.Column {
			var out []grid.Column
			for _, id := range ids {
				out = append(out, grid.Column{ID: id})
			}
			return out
		}
		keys := func(k ...string) []string { return k }
		values := []grid.Column{{ID: "stackVersion", AggFunc: "max"}}

		// Level 0: groups by severity, critical first, with counts and the
		// max stack version.
		r, err := c.ListPolicyIssuesWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{
			RowGroupCols: cols("severity", "policyName"), GroupKeys: keys(), ValueCols: values,
		})
		if err != nil || r.JSON200 == nil {
			t.Fatalf("groups: %v %s", err, r.Body)
		}
		g := r.JSON200
		if len(g.PolicyIssues) != 0 || *g.RowCount != 3 || len(g.GroupData) != 3 {
			t.Fatalf("level 0: %s", r.Body)
		}
		if g.GroupData[0]["severity"] != "critical" || g.GroupData[0]["count"] != float64(10) || g.GroupData[0]["stackVersion"] != float64(1) {
			t.Fatalf("first group %v", g.GroupData[0])
		}
		// Level 1 within severity=medium: one policy.
		r, err = c.ListPolicyIssuesWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{
			RowGroupCols: cols("severity", "policyName"), GroupKeys: keys("medium"),
		})
		if err != nil || len(r.JSON200.GroupData) != 1 || r.JSON200.GroupData[0]["policyName"] != "encrypted" || r.JSON200.GroupData[0]["count"] != float64(8) {
			t.Fatalf("level 1: %s", r.Body)
		}
		// Leaf rows within both keys.
		r, err = c.ListPolicyIssuesWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{
			RowGroupCols: cols("severity", "policyName"), GroupKeys: keys("medium", "encrypted"),
		})
		if err != nil || *r.JSON200.RowCount != 8 || len(r.JSON200.PolicyIssues) != 8 || len(r.JSON200.GroupData) != 0 {
			t.Fatalf("leaf rows: %s", r.Body)
		}
		for _, is := range r.JSON200.PolicyIssues {
			if is.Severity != client.PolicySeverityMedium || is.PolicyName != "encrypted" {
				t.Fatalf("leaf row outside its group: %+v", is)
			}
		}
	})
}
