package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// filterModel is a grid filter model from its JSON.
func filterModel(t *testing.T, js string) nullable.Nullable[client.AngularGridAdvancedFilterModel] {
	t.Helper()
	var m client.AngularGridAdvancedFilterModel
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return nullable.NewNullableWithValue(m)
}

// gridCount is the number of issues a filter matches, from the grid.
func gridCount(t *testing.T, c *client.ClientWithResponses, org string, filter nullable.Nullable[client.AngularGridAdvancedFilterModel]) int {
	t.Helper()
	req := client.AngularGridGetRowsRequest{StartRow: ptr(0), EndRow: ptr(1)}
	if filter.IsSpecified() && !filter.IsNull() {
		req.FilterModel = filter.MustGet()
	}
	resp, err := c.ListPolicyIssuesWithResponse(context.Background(), org, req)
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("list issues: %v %s", err, resp.Body)
	}
	return *resp.JSON200.RowCount
}

func batch(t *testing.T, c *client.ClientWithResponses, org string, body client.BatchUpdatePolicyIssuesRequest) *client.BatchUpdatePolicyIssuesHTTPResponse {
	t.Helper()
	resp, err := c.BatchUpdatePolicyIssuesWithResponse(context.Background(), org, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func uuids(t *testing.T, issues []client.PolicyIssue) *[]string {
	t.Helper()
	out := make([]string, len(issues))
	for i, is := range issues {
		out[i] = is.Id.String()
	}
	return &out
}

func TestBatchUpdate(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		other := env.NewOrg(t)
		seedStacks(t, env, org, 2, 6)
		seedStacks(t, env, other, 1, 6)
		member := env.Client(t, org.Member)
		ctx := context.Background()
		issues := issuesOf(t, member, org.Name)
		status := func(s client.PolicyIssueStatus) *client.PolicyIssueStatus { return &s }
		priority := func(p client.PolicyIssuePriority) *client.PolicyIssuePriority { return &p }

		// By ids: three issues in progress, one history entry each with
		// the caller and the batch's id.
		picked := issues[:3]
		r := batch(t, member, org.Name, client.BatchUpdatePolicyIssuesRequest{Ids: uuids(t, picked), ExpectedCount: 3,
			Status: status(client.PolicyIssueStatusInProgress)})
		if r.JSON200 == nil {
			t.Fatalf("batch by ids: %d %s", r.StatusCode(), r.Body)
		}
		if got := *r.JSON200; got.Matched != 3 || got.Changed != 3 || got.Unchanged != 0 || got.StatusUnchanged != 0 || got.BatchId == "" {
			t.Fatalf("batch by ids answered %+v", got)
		}
		for _, is := range picked {
			h := history(t, member, org.Name, is.Id.String())
			if h[0].Field != "status" || h[0].NewValue.MustGet() != "in_progress" || h[0].Actor != org.MemberLogin ||
				h[0].BatchId == nil || *h[0].BatchId != r.JSON200.BatchId {
				t.Fatalf("history of %s after the batch: %+v", is.Id, h[0])
			}
		}
		// The same batch again changes nothing.
		r = batch(t, member, org.Name, client.BatchUpdatePolicyIssuesRequest{Ids: uuids(t, picked), ExpectedCount: 3,
			Status: status(client.PolicyIssueStatusInProgress)})
		if r.JSON200 == nil || r.JSON200.Changed != 0 || r.JSON200.Unchanged != 3 {
			t.Fatalf("repeated batch: %d %s", r.StatusCode(), r.Body)
		}

		// By filter: every issue of a policy, counted by the grid first.
		encrypted := filterModel(t, `{"colId":"policyName","filterType":"text","type":"equals","filter":"encrypted"}`)
		n := gridCount(t, member, org.Name, encrypted)
		if n == 0 {
			t.Fatal("no issues of the policy encrypted")
		}
		// A stale count is refused with the current one; nothing changes.
		r = batch(t, member, org.Name, client.BatchUpdatePolicyIssuesRequest{FilterModel: encrypted, ExpectedCount: n + 1,
			Priority: priority(client.PolicyIssuePriorityP0)})
		if r.JSON409 == nil || r.JSON409.Matched != n || !strings.Contains(r.JSON409.Message, "expectedCount") {
			t.Fatalf("batch with a stale count: %d %s", r.StatusCode(), r.Body)
		}
		p0 := filterModel(t, `{"filterType":"join","type":"AND","conditions":[
			{"colId":"policyName","filterType":"text","type":"equals","filter":"encrypted"},
			{"colId":"priority","filterType":"set","values":["p0"]}]}`)
		if got := gridCount(t, member, org.Name, p0); got != 0 {
			t.Fatalf("a refused batch changed %d issues", got)
		}
		r = batch(t, member, org.Name, client.BatchUpdatePolicyIssuesRequest{FilterModel: encrypted, ExpectedCount: n,
			Priority: priority(client.PolicyIssuePriorityP0)})
		if r.JSON200 == nil || r.JSON200.Matched != n || r.JSON200.Changed != n {
			t.Fatalf("batch by filter: %d %s", r.StatusCode(), r.Body)
		}
		if got := gridCount(t, member, org.Name, p0); got != n {
			t.Fatalf("after the batch %d issues of encrypted are p0, want %d", got, n)
		}
		// The facets count the batch at once.
		facets, err := member.GetPolicyIssuesFiltersWithResponse(ctx, org.Name, client.PolicyIssueFiltersRequest{Field: "priority", FilterModel: encrypted})
		if err != nil || facets.JSON200 == nil {
			t.Fatalf("facets: %v", err)
		}
		for _, v := range facets.JSON200.Values {
			if v.Name != "p0" {
				t.Fatalf("facets of encrypted after the batch: %+v", facets.JSON200.Values)
			}
		}
		if err := env.Repo.CheckRollups(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.Repo.Trends().Check(ctx, org.ID); err != nil {
			t.Fatal(err)
		}

		// Another organisation's ids match nothing, and its issues are not
		// touched by a filter.
		foreign := issuesOf(t, env.Client(t, other.Member), other.Name)
		r = batch(t, member, org.Name, client.BatchUpdatePolicyIssuesRequest{Ids: uuids(t, foreign), ExpectedCount: len(foreign),
			Status: status(client.PolicyIssueStatusIgnored)})
		if r.JSON409 == nil || r.JSON409.Matched != 0 {
			t.Fatalf("batch of another organisation's ids: %d %s", r.StatusCode(), r.Body)
		}
		r = batch(t, member, org.Name, client.BatchUpdatePolicyIssuesRequest{Ids: uuids(t, foreign), ExpectedCount: 0,
			Status: status(client.PolicyIssueStatusIgnored)})
		if r.JSON200 == nil || r.JSON200.Matched != 0 || r.JSON200.Changed != 0 {
			t.Fatalf("batch of another organisation's ids, expecting none: %d %s", r.StatusCode(), r.Body)
		}
		for i, is := range issuesOf(t, env.Client(t, other.Member), other.Name) {
			if is.Status != foreign[i].Status || !is.LastModified.Equal(*foreign[i].LastModified) {
				t.Fatalf("another organisation's issue changed: %+v", is)
			}
		}

		// Refusals: viewers, fixed, no selection, both selections, too many
		// ids, nothing to set.
		viewer := env.Client(t, org.Viewer)
		if r := batch(t, viewer, org.Name, client.BatchUpdatePolicyIssuesRequest{Ids: uuids(t, picked), ExpectedCount: 3,
			Status: status(client.PolicyIssueStatusOpen)}); r.StatusCode() != http.StatusForbidden {
			t.Fatalf("viewer: %d %s", r.StatusCode(), r.Body)
		}
		many := make([]string, 1001)
		for i := range many {
			many[i] = issues[0].Id.String()
		}
		for _, tc := range []struct {
			name  string
			body  client.BatchUpdatePolicyIssuesRequest
			field string
		}{
			{"fixed", client.BatchUpdatePolicyIssuesRequest{Ids: uuids(t, picked), ExpectedCount: 3, Status: status(client.PolicyIssueStatusFixed)}, "status"},
			{"no selection", client.BatchUpdatePolicyIssuesRequest{ExpectedCount: 3, Status: status(client.PolicyIssueStatusOpen)}, "ids"},
			{"both", client.BatchUpdatePolicyIssuesRequest{Ids: uuids(t, picked), FilterModel: encrypted, ExpectedCount: 3, Status: status(client.PolicyIssueStatusOpen)}, "ids"},
			{"too many ids", client.BatchUpdatePolicyIssuesRequest{Ids: &many, ExpectedCount: 1001, Status: status(client.PolicyIssueStatusOpen)}, "ids"},
			{"nothing to set", client.BatchUpdatePolicyIssuesRequest{Ids: uuids(t, picked), ExpectedCount: 3}, "status"},
			{"bad filter", client.BatchUpdatePolicyIssuesRequest{FilterModel: filterModel(t, `{"colId":"nope","filterType":"text","type":"equals","filter":"x"}`),
				ExpectedCount: 3, Status: status(client.PolicyIssueStatusOpen)}, "nope"},
			{"nothing to set and a bad filter", client.BatchUpdatePolicyIssuesRequest{FilterModel: filterModel(t, `{"colId":"nope","filterType":"text","type":"equals","filter":"x"}`),
				ExpectedCount: 3}, "nothing to change"},
		} {
			r := batch(t, member, org.Name, tc.body)
			if r.JSON400 == nil || !strings.Contains(r.JSON400.Message, tc.field) {
				t.Errorf("%s: %d %s, want a 400 naming %s", tc.name, r.StatusCode(), r.Body, tc.field)
			}
		}
	})
}

// Fixed issues in a selection keep their status; their other fields change.
func TestBatchUpdateLeavesFixedStatus(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ci := env.Client(t, org.OrgToken)
		member := env.Client(t, org.Member)
		ctx := context.Background()
		ev := evaluation{project: "shop", stack: "prod", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(),
			resources: 4, fails: map[string][]int{"encrypted": {0, 1, 2, 3}}}
		ingest(t, ci, org.Name, ev.request())
		ev.version, ev.fails = 2, map[string][]int{"encrypted": {0, 1}}
		ingest(t, ci, org.Name, ev.request())
		all := filterModel(t, `{"colId":"policyName","filterType":"text","type":"equals","filter":"encrypted"}`)
		until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
		ignored, p1 := client.PolicyIssueStatusIgnored, client.PolicyIssuePriorityP1
		r := batch(t, member, org.Name, client.BatchUpdatePolicyIssuesRequest{FilterModel: all, ExpectedCount: 4,
			Status: &ignored, Priority: &p1, AcceptedUntil: nullable.NewNullableWithValue(until), AcceptanceReason: ptr("replaced next sprint")})
		if r.JSON200 == nil || r.JSON200.Matched != 4 || r.JSON200.Changed != 4 || r.JSON200.StatusUnchanged != 2 {
			t.Fatalf("batch over fixed issues: %d %s", r.StatusCode(), r.Body)
		}
		byStatus := map[client.PolicyIssueStatus]int{}
		for _, is := range issuesOf(t, member, org.Name) {
			byStatus[is.Status]++
			if is.Priority != p1 {
				t.Errorf("issue %s kept priority %s", is.Id, is.Priority)
			}
			switch {
			case is.Status == client.PolicyIssueStatusFixed && is.AcceptedUntil != nil:
				t.Errorf("fixed issue %s took an acceptance", is.Id)
			case is.Status == ignored && (is.AcceptedUntil == nil || !is.AcceptedUntil.Equal(until) || *is.AcceptanceReason != "replaced next sprint"):
				t.Errorf("ignored issue %s: acceptance %v %v", is.Id, is.AcceptedUntil, is.AcceptanceReason)
			}
		}
		if byStatus[client.PolicyIssueStatusFixed] != 2 || byStatus[ignored] != 2 {
			t.Fatalf("statuses after the batch: %v", byStatus)
		}
		if err := env.Repo.CheckRollups(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.Repo.Trends().Check(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
	})
}
