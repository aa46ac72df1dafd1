package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
)

// clock is a settable clock for the server and the expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func accept(until time.Time, reason string) client.UpdatePolicyIssueRequest {
	ignored := client.PolicyIssueStatusIgnored
	return client.UpdatePolicyIssueRequest{Status: &ignored, AcceptedUntil: nullable.NewNullableWithValue(until), AcceptanceReason: &reason}
}

func patchIssue(t *testing.T, c *client.ClientWithResponses, org, id string, body client.UpdatePolicyIssueRequest) *client.UpdatePolicyIssueHTTPResponse {
	t.Helper()
	r, err := c.UpdatePolicyIssueWithResponse(context.Background(), org, id, nil, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAcceptanceRules(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		now := time.Date(2030, 1, 10, 12, 0, 0, 0, time.UTC)
		clk := &clock{t: now}
		env := servertest.StartWith(t, b, server.Config{Now: clk.now, AcceptanceMaxDays: 30})
		org := env.NewOrg(t)
		seedStacks(t, env, org, 1, 4)
		member := env.Client(t, org.Member)
		ctx := context.Background()
		issues := issuesOf(t, member, org.Name)
		id := issues[0].Id.String()
		status := func(s client.PolicyIssueStatus) *client.PolicyIssueStatus { return &s }
		reason := func(s string) *string { return &s }

		// Refusals name the field.
		for _, tc := range []struct {
			name  string
			body  client.UpdatePolicyIssueRequest
			field string
		}{
			{"open issue", client.UpdatePolicyIssueRequest{AcceptedUntil: nullable.NewNullableWithValue(now.Add(time.Hour)), AcceptanceReason: reason("r")}, "acceptedUntil"},
			{"status open", client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusOpen), AcceptedUntil: nullable.NewNullableWithValue(now.Add(time.Hour)), AcceptanceReason: reason("r")}, "acceptedUntil"},
			{"no reason", client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusIgnored), AcceptedUntil: nullable.NewNullableWithValue(now.Add(time.Hour))}, "acceptanceReason"},
			{"past", accept(now.Add(-time.Minute), "r"), "acceptedUntil"},
			{"beyond the maximum", accept(now.Add(31*24*time.Hour), "r"), "acceptedUntil"},
			{"reason alone", client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusIgnored), AcceptanceReason: reason("r")}, "acceptanceReason"},
		} {
			r := patchIssue(t, member, org.Name, id, tc.body)
			if r.JSON400 == nil || !strings.HasPrefix(r.JSON400.Message, tc.field) {
				t.Errorf("%s: %d %s, want a 400 naming %s", tc.name, r.StatusCode(), r.Body, tc.field)
			}
		}
		if h := history(t, member, org.Name, id); len(h) != 1 {
			t.Fatalf("refused changes wrote history: %+v", h)
		}

		// Accepted for 30 days: on the issue, in its history, in the grid's
		// filter ("expiring in the next 30 days") and sort, and in the export.
		until := now.Add(30 * 24 * time.Hour)
		r := patchIssue(t, member, org.Name, id, accept(until, "compensating control in place"))
		if r.JSON200 == nil {
			t.Fatalf("accept: %d %s", r.StatusCode(), r.Body)
		}
		got := r.JSON200.PolicyIssue
		if got.Status != client.PolicyIssueStatusIgnored || got.AcceptedUntil == nil || !got.AcceptedUntil.Equal(until) ||
			*got.AcceptanceReason != "compensating control in place" {
			t.Fatalf("accepted issue %+v", got)
		}
		fields := map[string]bool{}
		for _, h := range history(t, member, org.Name, id) {
			fields[h.Field] = true
		}
		if !fields["acceptedUntil"] || !fields["acceptanceReason"] || !fields["status"] {
			t.Fatalf("history of the acceptance: %v", fields)
		}
		expiring := filterModel(t, `{"colId":"acceptedUntil","filterType":"date","type":"inRange","dateFrom":"2030-01-10","dateTo":"2030-02-10"}`)
		if n := gridCount(t, member, org.Name, expiring); n != 1 {
			t.Fatalf("issues expiring in the next 30 days: %d, want 1", n)
		}
		sorted, err := member.ListPolicyIssuesWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{StartRow: ptr(0), EndRow: ptr(1),
			SortModel: sortModel(grid.SortItem{ColID: "acceptedUntil", Sort: "asc"})})
		if err != nil || sorted.JSON200 == nil || len(sorted.JSON200.PolicyIssues) != 1 {
			t.Fatalf("sorted by acceptedUntil: %v %s", err, sorted.Body)
		}
		export, err := member.ExportPolicyIssuesWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{FilterModel: expiring.MustGet()})
		if err != nil {
			t.Fatal(err)
		}
		body := export.Body
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("export: %v %q", err, body)
		}
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		if rows[1][col["acceptedUntil"]] != until.Format(time.RFC3339Nano) || rows[1][col["acceptanceReason"]] != "compensating control in place" {
			t.Fatalf("exported acceptance: %v", rows[1])
		}

		// by_design keeps the acceptance; another status ends it.
		r = patchIssue(t, member, org.Name, id, client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusByDesign)})
		if r.JSON200 == nil || r.JSON200.PolicyIssue.AcceptedUntil == nil {
			t.Fatalf("by_design: %d %s", r.StatusCode(), r.Body)
		}
		r = patchIssue(t, member, org.Name, id, client.UpdatePolicyIssueRequest{Status: status(client.PolicyIssueStatusInProgress)})
		if r.JSON200 == nil || r.JSON200.PolicyIssue.AcceptedUntil != nil || r.JSON200.PolicyIssue.AcceptanceReason != nil {
			t.Fatalf("in_progress kept the acceptance: %d %s", r.StatusCode(), r.Body)
		}
		// null ends an acceptance and keeps the status.
		patchIssue(t, member, org.Name, id, accept(until, "again"))
		var end nullable.Nullable[time.Time]
		end.SetNull()
		r = patchIssue(t, member, org.Name, id, client.UpdatePolicyIssueRequest{AcceptedUntil: end})
		if r.JSON200 == nil || r.JSON200.PolicyIssue.AcceptedUntil != nil || r.JSON200.PolicyIssue.Status != client.PolicyIssueStatusIgnored {
			t.Fatalf("ending an acceptance: %d %s", r.StatusCode(), r.Body)
		}
		if err := env.Repo.CheckRollups(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.Repo.Trends().Check(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// An acceptance ends by the clock: the issue is open again, recorded as the
// server's change, with the rollups following; an evaluation that fixes an
// accepted issue ends its acceptance.
func TestAcceptanceExpires(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		now := time.Now().UTC().Truncate(time.Second)
		clk := &clock{t: now}
		env := servertest.StartWith(t, b, server.Config{Now: clk.now})
		org := env.NewOrg(t)
		ci := env.Client(t, org.OrgToken)
		member := env.Client(t, org.Member)
		ctx := context.Background()
		ev := evaluation{project: "shop", stack: "prod", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(),
			resources: 3, fails: map[string][]int{"encrypted": {0, 1, 2}}}
		ingest(t, ci, org.Name, ev.request())
		issues := issuesOf(t, member, org.Name)
		for i, is := range issues {
			if r := patchIssue(t, member, org.Name, is.Id.String(), accept(now.Add(time.Duration(i+1)*time.Hour), "waiting on the vendor")); r.JSON200 == nil {
				t.Fatalf("accept: %d %s", r.StatusCode(), r.Body)
			}
		}

		// Nothing is due yet.
		if n, err := env.Repo.ExpireAcceptances(ctx, now.Add(30*time.Minute)); err != nil || n != 0 {
			t.Fatalf("expiry before any end: %d %v", n, err)
		}
		// The first acceptance ends.
		if n, err := env.Repo.ExpireAcceptances(ctx, now.Add(90*time.Minute)); err != nil || n != 1 {
			t.Fatalf("expiry after the first end: %d %v", n, err)
		}
		first, err := member.GetPolicyIssueWithResponse(ctx, org.Name, issues[0].Id.String())
		if err != nil || first.JSON200 == nil {
			t.Fatal(err)
		}
		if is := first.JSON200.PolicyIssue; is.Status != client.PolicyIssueStatusOpen || is.AcceptedUntil != nil || is.AcceptanceReason != nil {
			t.Fatalf("expired issue %+v", is)
		}
		h := history(t, member, org.Name, issues[0].Id.String())
		var expired []string
		for _, e := range h {
			if e.Actor == "policyresults" {
				if e.ActorType != client.PolicyIssueHistoryEntryActorTypeSystem || e.Reason == nil || *e.Reason != "acceptance expired" {
					t.Fatalf("expiry's history entry %+v", e)
				}
				expired = append(expired, e.Field)
			}
		}
		slices.Sort(expired)
		if strings.Join(expired, ",") != "acceptanceReason,acceptedUntil,status" {
			t.Fatalf("expiry's history fields %v", expired)
		}
		if err := env.Repo.CheckRollups(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.Repo.Trends().Check(ctx, org.ID); err != nil {
			t.Fatal(err)
		}

		// An evaluation that no longer reports the second issue fixes it and
		// ends its acceptance.
		second := issues[1]
		var keep []int
		for i := 0; i < 3; i++ {
			if "bucket-"+itoa(i) != second.ResourceName {
				keep = append(keep, i)
			}
		}
		ev.version, ev.fails = 2, map[string][]int{"encrypted": keep}
		ingest(t, ci, org.Name, ev.request())
		g, err := member.GetPolicyIssueWithResponse(ctx, org.Name, second.Id.String())
		if err != nil || g.JSON200 == nil {
			t.Fatal(err)
		}
		if is := g.JSON200.PolicyIssue; is.Status != client.PolicyIssueStatusFixed || is.AcceptedUntil != nil {
			t.Fatalf("fixed accepted issue %+v", is)
		}
		if n := gridCount(t, member, org.Name, filterModel(t, `{"colId":"acceptedUntil","filterType":"date","type":"notBlank"}`)); n != 1 {
			t.Fatalf("accepted issues after the fix: %d, want 1", n)
		}
		if err := env.Repo.CheckRollups(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.Repo.Trends().Check(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// Acceptances that end while the server is stopped end when it starts, and
// replicas expiring at once record each end once.
func TestAcceptanceExpiryAtStartAndAcrossReplicas(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		now := time.Now().UTC().Truncate(time.Second)
		env := servertest.StartWith(t, b, server.Config{Now: func() time.Time { return now }})
		org := env.NewOrg(t)
		seedStacks(t, env, org, 2, 6)
		member := env.Client(t, org.Member)
		ctx := context.Background()
		issues := issuesOf(t, member, org.Name)
		ids := uuids(t, issues)
		ignored := client.PolicyIssueStatusIgnored
		r := batch(t, member, org.Name, client.BatchUpdatePolicyIssuesRequest{Ids: ids, ExpectedCount: len(issues), Status: &ignored,
			AcceptedUntil: nullable.NewNullableWithValue(now.Add(time.Hour)), AcceptanceReason: ptr("quarter end freeze")})
		if r.JSON200 == nil {
			t.Fatalf("batch acceptance: %d %s", r.StatusCode(), r.Body)
		}

		// The server was stopped past the end: at start, before serving,
		// the expiry ends them; two replicas start at once.
		later := func() time.Time { return now.Add(2 * time.Hour) }
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		other, err := repository.Open(ctx, b.URL, repository.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, repo := range []*repository.Repository{env.Repo, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- repo.RunAcceptanceExpiry(runCtx, time.Hour, later, nil)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// A replica that found the work under way leaves what it could not
		// take to its next run; one more run ends anything left.
		if _, err := other.ExpireAcceptances(ctx, later()); err != nil {
			t.Fatal(err)
		}
		for _, is := range issuesOf(t, member, org.Name) {
			if is.Status != client.PolicyIssueStatusOpen || is.AcceptedUntil != nil {
				t.Fatalf("issue after the expiry at start: %+v", is)
			}
			n := 0
			for _, e := range history(t, member, org.Name, is.Id.String()) {
				if e.Actor == "policyresults" && e.Field == "status" {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("issue %s has %d expiry entries, want 1", is.Id, n)
			}
		}
		if err := env.Repo.CheckRollups(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.Repo.Trends().Check(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
	})
}
