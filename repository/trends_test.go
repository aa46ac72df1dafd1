package repository_test

import (
	"slices"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/groups"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/repository/trends"
)

// TestTrendsFollowChanges follows one stack's issues through a severity
// change of its pack, a fix, a reopen, triage and a rename of their group,
// and checks the trend of each day, the mean time to fix, the compliance
// and that the rollups equal a replay of the history.
func TestTrendsFollowChanges(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		e.publishPack("aws-cis", "1.0.0", cisPolicies...)
		if _, err := e.r.Groups.CreatePolicyGroup(e.ctx, e.org.ID, "payments", model.GroupStacks, model.ModeAudit); err != nil {
			t.Fatal(err)
		}
		if err := e.r.Groups.UpdatePolicyGroup(e.ctx, e.org.ID, "payments", []groups.Update{
			{AddPolicyPack: &groups.PackRef{Name: "aws-cis"}},
			{AddStack: &groups.StackMember{Name: "prod", RoutingProject: "payments"}},
		}); err != nil {
			t.Fatal(err)
		}
		buckets := []string{"a", "b", "c"}
		critical := slices.Clone(cisPolicies)
		critical[0].Severity = "critical"
		// 2025-11-20: a and b fail s3-encryption (high).
		e.apply(stackEval(1, "1.0.0", buckets, map[string][]string{"a": {"s3-encryption"}, "b": {"s3-encryption"}}))
		// 2025-11-21: the pack makes s3-encryption critical; a moves to critical, b is fixed.
		ev := stackEval(25, "1.0.0", buckets, map[string][]string{"a": {"s3-encryption"}})
		ev.Packs[0].Policies = critical
		e.apply(ev)
		// 2025-11-22: b fails again, now critical: reopened.
		ev = stackEval(49, "1.0.0", buckets, map[string][]string{"a": {"s3-encryption"}, "b": {"s3-encryption"}})
		ev.Packs[0].Policies = critical
		e.apply(ev)

		trend := func(from, to, groupBy string) *trends.Result {
			t.Helper()
			tr, err := e.r.Trends().Read(e.ctx, e.org.ID, trends.Query{From: from, To: to, Interval: "day", GroupBy: groupBy})
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		series := func(tr *trends.Result) map[string]trends.Series {
			out := map[string]trends.Series{}
			for _, s := range tr.Series {
				out[s.Value] = s
			}
			return out
		}
		tr := trend("2025-11-20", "2025-11-22", trends.BySeverity)
		s := series(tr)
		want := map[string]trends.Series{
			"critical": {Value: "critical", ActiveIssues: []int64{0, 1, 2}, Opened: []int64{0, 0, 0}, Fixed: []int64{0, 0, 0}, Reopened: []int64{0, 0, 0}},
			// b reopens as high, the severity it had when it was fixed, and is
			// active as critical, the severity the evaluation gave it.
			"high": {Value: "high", ActiveIssues: []int64{2, 0, 0}, Opened: []int64{2, 0, 0}, Fixed: []int64{0, 1, 0}, Reopened: []int64{0, 0, 1}},
		}
		if len(s) != len(want) {
			t.Fatalf("series %+v, want %+v", tr.Series, want)
		}
		for v, w := range want {
			g := s[v]
			if !slices.Equal(g.ActiveIssues, w.ActiveIssues) || !slices.Equal(g.Opened, w.Opened) || !slices.Equal(g.Fixed, w.Fixed) ||
				!slices.Equal(g.Reopened, w.Reopened) {
				t.Errorf("%s: %+v, want %+v", v, g, w)
			}
		}
		if len(tr.MeanTimeToFix) != 1 || tr.MeanTimeToFix[0].Name != "high" || tr.MeanTimeToFix[0].Values[0] != nil ||
			tr.MeanTimeToFix[0].Values[1] == nil || *tr.MeanTimeToFix[0].Values[1] != 24 {
			t.Errorf("mean time to fix %+v: want high fixed in 24 hours, on 2025-11-21", tr.MeanTimeToFix)
		}
		// A range that ends before the fix has no time to fix.
		if first := trend("2025-11-20", "2025-11-20", trends.BySeverity); len(first.MeanTimeToFix) != 0 ||
			!slices.Equal(series(first)["high"].ActiveIssues, []int64{2}) {
			t.Errorf("2025-11-20 alone: %+v, mean time to fix %+v", first.Series, first.MeanTimeToFix)
		}
		// One cell, two enabled policies, s3-encryption failing: 50.
		if len(tr.Compliance) != 1 || tr.Compliance[0].Name != "aws-cis" || tr.Compliance[0].Values[2] == nil || *tr.Compliance[0].Values[2] != 50 {
			t.Errorf("compliance %+v, want aws-cis at 50", tr.Compliance)
		}

		// Today: a person accepts a; the group is renamed.
		var a string
		if err := e.r.DB().Raw(`SELECT id FROM policy_issues WHERE org_id = ? AND resource_urn = ?`, e.org.ID, bucketURN("a")).
			Scan(&a).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := e.r.UpdateIssue(e.ctx, e.org.ID, a, repository.Actor{Name: "alice", Type: "user"},
			repository.IssueUpdate{Status: strPtr(policy.StatusIgnored)}); err != nil {
			t.Fatal(err)
		}
		if err := e.r.Groups.UpdatePolicyGroup(e.ctx, e.org.ID, "payments", []groups.Update{{NewName: "payments-eu"}}); err != nil {
			t.Fatal(err)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		if s := series(trend(today, today, trends.BySeverity)); !slices.Equal(s["critical"].ActiveIssues, []int64{1}) {
			t.Errorf("today's critical series %+v, want 1 active (a accepted)", s["critical"])
		}
		groups := series(trend("2025-11-20", "2025-11-22", trends.ByPolicyGroupName))
		if len(groups) != 1 || !slices.Equal(groups["payments-eu"].Opened, []int64{2, 0, 0}) {
			t.Errorf("by group %+v, want the renamed group's series", groups)
		}
		if err := e.r.Trends().Check(e.ctx, e.org.ID); err != nil {
			t.Fatal(err)
		}
	})
}
