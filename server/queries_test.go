package server_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository/pagetoken"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

func TestExportCSV(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ci := env.Client(t, org.OrgToken)
		e := evaluation{project: "shop", stack: "prod", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(), resources: 3,
			fails: map[string][]int{"no-public-read": {0, 1, 2}}}
		req := e.request()
		evil := "@SUM(1+1)"
		(*req.Violations)[0].Message = &evil
		for i := range *req.Resources {
			name := "=HYPERLINK(\"http://evil\")"
			(*req.Resources)[i].Name = &name
		}
		ingest(t, ci, org.Name, req)
		c := env.Client(t, org.Member)
		ctx := context.Background()
		list := issuesOf(t, c, org.Name)
		assignTo := list[0].Id.String()
		r, err := c.UpdatePolicyIssueWithResponse(ctx, org.Name, assignTo, nil, client.UpdatePolicyIssueRequest{AssignedTo: assignNullable(org.AdminLogin)})
		if err != nil || r.StatusCode() != http.StatusOK {
			t.Fatalf("assign: %v", err)
		}

		resp, err := c.ExportPolicyIssuesWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{
			SortModel: sortModel(grid.SortItem{ColID: "resourceName", Sort: "asc"}),
		})
		if err != nil || resp.StatusCode() != http.StatusOK {
			t.Fatalf("export: %v %d %s", err, resp.StatusCode(), resp.Body)
		}
		if ct := resp.HTTPResponse.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := resp.HTTPResponse.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="policy-issues-`+org.Name+"-") {
			t.Errorf("Content-Disposition %q", cd)
		}
		records, err := csv.NewReader(strings.NewReader(string(resp.Body))).ReadAll()
		if err != nil {
			t.Fatalf("not RFC 4180 CSV: %v", err)
		}
		if len(records) != 1+len(list) {
			t.Fatalf("%d records, want header + %d", len(records), len(list))
		}
		header := map[string]int{}
		for i, h := range records[0] {
			header[h] = i
		}
		for _, f := range []string{"id", "entityProject", "policyName", "resourceURN", "message", "observedAt", "severity", "status", "assignedTo"} {
			if _, ok := header[f]; !ok {
				t.Fatalf("header %v lacks %s", records[0], f)
			}
		}
		sawEmail, sawEvil := false, false
		for _, rec := range records[1:] {
			if rec[header["resourceName"]] != `'=HYPERLINK("http://evil")` {
				t.Errorf("formula not neutralised: %q", rec[header["resourceName"]])
			}
			if rec[header["message"]] == "'"+evil {
				sawEvil = true
			}
			if rec[header["id"]] == assignTo {
				sawEmail = rec[header["assignedTo"]] == org.AdminEmail
			}
		}
		if !sawEvil || !sawEmail {
			t.Errorf("neutralised message %v, assignee email %v", sawEvil, sawEmail)
		}
		// startRow/endRow limit the export.
		part, err := c.ExportPolicyIssuesWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{StartRow: ptr(1), EndRow: ptr(2)})
		if err != nil {
			t.Fatal(err)
		}
		if recs, _ := csv.NewReader(strings.NewReader(string(part.Body))).ReadAll(); len(recs) != 2 {
			t.Fatalf("bounded export: %d records, want 2", len(recs))
		}
	})
}

func assignNullable(who string) (n nullableString) {
	n.Set(who)
	return n
}

func sortModel(items ...grid.SortItem) []grid.SortItem {
	return items
}

func TestFacetsLeaveOutTheirOwnField(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 2, 10)
		c := env.Client(t, org.Viewer)
		ctx := context.Background()
		// Filter on severity = critical and ask for the severity facet: the
		// dropdown still lists the other severities.
		req := client.PolicyIssueFiltersRequest{Field: "severity",
			FilterModel: filterModel(t, `{"filterType":"text","colId":"severity","type":"equals","filter":"critical"}`)}
		r, err := c.GetPolicyIssuesFiltersWithResponse(ctx, org.Name, req)
		if err != nil || r.JSON200 == nil {
			t.Fatalf("facets: %v %s", err, r.Body)
		}
		counts := map[string]int{}
		for _, v := range r.JSON200.Values {
			counts[v.Name] = v.Count
		}
		// Per stack of 10 resources: 5 critical, 4 medium, 2 low.
		if counts["critical"] != 10 || counts["medium"] != 8 || counts["low"] != 4 || r.JSON200.Values[0].Name != "critical" {
			t.Fatalf("severity facet %v", r.JSON200.Values)
		}
		// Another field's facet applies the severity filter.
		req.Field = "policyName"
		r, err = c.GetPolicyIssuesFiltersWithResponse(ctx, org.Name, req)
		if err != nil || len(r.JSON200.Values) != 1 || r.JSON200.Values[0].Name != "no-public-read" || r.JSON200.Values[0].Count != 10 {
			t.Fatalf("policyName facet under severity=critical: %v", r.JSON200)
		}
		req.Field = "nope"
		r, err = c.GetPolicyIssuesFiltersWithResponse(ctx, org.Name, req)
		if err != nil || r.StatusCode() != http.StatusBadRequest {
			t.Fatalf("unknown facet field: %d", r.StatusCode())
		}
	})
}

func TestComplianceScores(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ci := env.Client(t, org.OrgToken)
		ctx := context.Background()
		// shop/a: 1 of 3 policies failing -> 66. shop/b: pack errored -> -2.
		// shop/c: all passing -> 100; never ran "extra" -> -1.
		ingest(t, ci, org.Name, evaluation{project: "shop", stack: "a", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(), resources: 2,
			fails: map[string][]int{"no-public-read": {0}}}.request())
		ingest(t, ci, org.Name, evaluation{project: "shop", stack: "b", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(), resources: 2,
			packError: "config invalid"}.request())
		ingest(t, ci, org.Name, evaluation{project: "shop", stack: "c", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(), resources: 2}.request())
		ingest(t, ci, org.Name, evaluation{project: "shop", stack: "a", version: 1, pack: "extra", tag: "1.0.0", policies: testPolicies()[:1], resources: 1}.request())

		r, err := ci.GetPolicyComplianceResultsWithResponse(ctx, org.Name, client.GetPolicyComplianceResultsRequest{Entity: client.GetPolicyComplianceResultsRequestEntityStack})
		if err != nil || r.JSON200 == nil {
			t.Fatalf("compliance: %v %s", err, r.Body)
		}
		if got := strings.Join(r.JSON200.Columns, ","); got != "baseline,extra" {
			t.Fatalf("columns %s", got)
		}
		want := map[string][]int{"shop/a": {66, 100}, "shop/b": {-2, -1}, "shop/c": {100, -1}}
		if len(r.JSON200.Rows) != 3 {
			t.Fatalf("rows %+v", r.JSON200.Rows)
		}
		for _, row := range r.JSON200.Rows {
			if w := want[row.EntityName]; len(row.Scores) != 2 || row.Scores[0] != w[0] || row.Scores[1] != w[1] {
				t.Errorf("%s scores %v, want %v", row.EntityName, row.Scores, w)
			}
		}
		// Accepting the failing issue as ignored makes the policy pass.
		is := issuesOf(t, ci, org.Name)[0]
		ignored := client.PolicyIssueStatusIgnored
		if _, err := ci.UpdatePolicyIssueWithResponse(ctx, org.Name, is.Id.String(), nil, client.UpdatePolicyIssueRequest{Status: &ignored}); err != nil {
			t.Fatal(err)
		}
		r, _ = ci.GetPolicyComplianceResultsWithResponse(ctx, org.Name, client.GetPolicyComplianceResultsRequest{Entity: client.GetPolicyComplianceResultsRequestEntityStack})
		if r.JSON200.Rows[0].EntityName != "shop/a" || r.JSON200.Rows[0].Scores[0] != 100 {
			t.Fatalf("after ignoring: %+v", r.JSON200.Rows[0])
		}
		// Severity rows: critical, high, medium, low.
		s, err := ci.GetPolicyComplianceResultsWithResponse(ctx, org.Name, client.GetPolicyComplianceResultsRequest{Entity: client.GetPolicyComplianceResultsRequestEntitySeverity})
		if err != nil || len(s.JSON200.Rows) != 4 || s.JSON200.Rows[0].EntityName != "critical" || s.JSON200.Rows[1].Scores[0] != -1 {
			t.Fatalf("severity matrix %+v", s.JSON200)
		}
		// Paging: size 2 gives a token; the next page has the rest; a
		// tampered token and a size over 1000 are 400s.
		size := 2
		p1, _ := ci.GetPolicyComplianceResultsWithResponse(ctx, org.Name, client.GetPolicyComplianceResultsRequest{Entity: client.GetPolicyComplianceResultsRequestEntityStack, Size: &size})
		if len(p1.JSON200.Rows) != 2 || p1.JSON200.ContinuationToken == nil {
			t.Fatalf("page 1 %+v", p1.JSON200)
		}
		p2, _ := ci.GetPolicyComplianceResultsWithResponse(ctx, org.Name, client.GetPolicyComplianceResultsRequest{Entity: client.GetPolicyComplianceResultsRequestEntityStack, Size: &size, ContinuationToken: p1.JSON200.ContinuationToken})
		if len(p2.JSON200.Rows) != 1 || p2.JSON200.Rows[0].EntityName != "shop/c" || (p2.JSON200.ContinuationToken != nil && *p2.JSON200.ContinuationToken != "") {
			t.Fatalf("page 2 %+v", p2.JSON200)
		}
		tampered := *p1.JSON200.ContinuationToken + "x"
		for _, req := range []client.GetPolicyComplianceResultsRequest{
			{Entity: client.GetPolicyComplianceResultsRequestEntityStack, ContinuationToken: &tampered},
			{Entity: client.GetPolicyComplianceResultsRequestEntityStack, Size: ptr(1001)},
		} {
			if bad, _ := ci.GetPolicyComplianceResultsWithResponse(ctx, org.Name, req); bad.StatusCode() != http.StatusBadRequest {
				t.Errorf("want 400, got %d %s", bad.StatusCode(), bad.Body)
			}
		}
	})
}

func TestPoliciesMetadataAndViolations(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 2, 10)
		c := env.Client(t, org.Viewer)
		ctx := context.Background()

		p, err := c.ListPoliciesComplianceWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{})
		if err != nil || p.JSON200 == nil {
			t.Fatalf("policies: %v %s", err, p.Body)
		}
		rows := map[string]client.PolicyComplianceRow{}
		for _, r := range p.JSON200.Policies {
			rows[r.PolicyName] = r
		}
		// 2 stacks x 10 resources governed; failing every 2nd, 3rd and 5th
		// (8 of 10 resources fail at least one).
		for name, want := range map[string][3]int{"no-public-read": {20, 10, 50}, "encrypted": {20, 8, 60}, "versioned": {20, 4, 80}} {
			r := rows[name]
			if r.GovernedResources != want[0] || r.FailingResources != want[1] || r.PercentCompliant != want[2] || r.PolicyGroupName != "default-policy-group" || r.PolicyGroupType != client.PolicyGroupModePreventative {
				t.Errorf("%s: %+v, want governed %d failing %d percent %d", name, r, want[0], want[1], want[2])
			}
		}
		if *p.JSON200.TotalCount != 3 || p.JSON200.Policies[0].PolicyName != "no-public-read" {
			t.Errorf("default order is least compliant first: %+v", p.JSON200.Policies)
		}
		// Paging by continuation token: a page of two, then the rest from
		// where it ended whatever startRow says; a token of another listing,
		// or edited, is a 400 on continuationToken.
		p1, err := c.ListPoliciesComplianceWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{StartRow: ptr(0), EndRow: ptr(2)})
		if err != nil || p1.JSON200 == nil || len(p1.JSON200.Policies) != 2 || p1.JSON200.ContinuationToken == nil {
			t.Fatalf("policies page 1: %v %s", err, p1.Body)
		}
		p2, err := c.ListPoliciesComplianceWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{StartRow: ptr(0), EndRow: ptr(2),
			ContinuationToken: p1.JSON200.ContinuationToken})
		if err != nil || p2.JSON200 == nil || len(p2.JSON200.Policies) != 1 || p2.JSON200.Policies[0].PolicyName != p.JSON200.Policies[2].PolicyName ||
			p2.JSON200.ContinuationToken != nil {
			t.Fatalf("policies page 2: %v %s", err, p2.Body)
		}
		for _, token := range []string{
			pagetoken.Encode(pagetoken.Token{Kind: "members", After: "2"}),
			pagetoken.Encode(pagetoken.Token{Kind: "policies", After: "-1"}),
			*p1.JSON200.ContinuationToken + "x",
		} {
			bad, err := c.ListPoliciesComplianceWithResponse(ctx, org.Name, client.AngularGridGetRowsRequest{ContinuationToken: &token})
			if err != nil || bad.StatusCode() != http.StatusBadRequest || !strings.Contains(string(bad.Body), "continuationToken") {
				t.Errorf("token %q: want a 400 on continuationToken, got %d %s", token, bad.StatusCode(), bad.Body)
			}
		}

		md, err := c.GetPolicyResultsMetadataWithResponse(ctx, org.Name)
		if err != nil || md.JSON200 == nil {
			t.Fatalf("metadata: %v", err)
		}
		m := md.JSON200
		if m.PolicyTotalCount != 3 || m.PolicyWithIssuesCount != 3 || m.ResourcesTotalCount != 20 || m.ResourcesWithIssuesCount != 16 {
			t.Errorf("metadata %+v", m)
		}

		v, err := c.ListPolicyViolationsV2WithResponse(ctx, org.Name, nil)
		if err != nil || v.JSON200 == nil {
			t.Fatalf("violations: %v", err)
		}
		if link := v.HTTPResponse.Header.Get("Link"); link != "</api/orgs/"+org.Name+`/policyresults/issues>; rel="successor-version"` {
			t.Errorf("Link %q does not point at ListPolicyIssues", link)
		}
		if len(v.JSON200.PolicyViolations) != 22 || v.HTTPResponse.Header.Get("Deprecation") == "" {
			t.Errorf("%d violations (want 22), Deprecation %q", len(v.JSON200.PolicyViolations), v.HTTPResponse.Header.Get("Deprecation"))
		}
		for _, pv := range v.JSON200.PolicyViolations {
			if pv.StackName == nil || pv.ProjectName != "shop" || pv.StackVersion == nil {
				t.Fatalf("violation %+v", pv)
			}
		}
	})
}
