package trends_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/policyresults/policyresults/demo"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/repository/trends"
)

// historyIssue is an issue as the trends recount reads it: its current
// values and its history in order.
type historyIssue struct {
	current  map[string]string // field → current value
	observed time.Time
	entries  []trendHistoryRow
}

type trendHistoryRow struct {
	IssueID  string
	At       time.Time
	Field    string
	OldValue *string
	NewValue *string
}

// valueAt is the issue's value of field just after t: the new value of its
// last change at or before t, else the old value of its first change
// after t, else its current value.
func (h *historyIssue) valueAt(field string, t time.Time) string {
	var last, after *trendHistoryRow
	for i := range h.entries {
		e := &h.entries[i]
		if e.Field != field {
			continue
		}
		if !e.At.After(t) {
			last = e
		} else if after == nil {
			after = e
		}
	}
	switch {
	case last != nil:
		return deref(last.NewValue)
	case after != nil:
		return deref(after.OldValue)
	}
	return h.current[field]
}

// valueAtEntry is the issue's value of field just after its k-th history
// row (rows in the order written).
func (h *historyIssue) valueAtEntry(field string, k int) string {
	for i := k; i >= 0; i-- {
		if h.entries[i].Field == field {
			return deref(h.entries[i].NewValue)
		}
	}
	for i := k + 1; i < len(h.entries); i++ {
		if h.entries[i].Field == field {
			return deref(h.entries[i].OldValue)
		}
	}
	return h.current[field]
}

// trendRecount counts, from the history alone, what the trends answer: per
// interval and value of the dimension, the active issues at the end and the
// issues opened, fixed and reopened; per severity, the fixes' total seconds.
type trendRecount struct {
	active, opened, fixed, reopened map[string][]int64
	fixCount, fixSeconds            map[string][]int64
}

func recountTrends(issues map[string]*historyIssue, dimension string, starts []string, step int) *trendRecount {
	n := len(starts)
	rc := &trendRecount{map[string][]int64{}, map[string][]int64{}, map[string][]int64{}, map[string][]int64{},
		map[string][]int64{}, map[string][]int64{}}
	add := func(m map[string][]int64, v string, i int, x int64) {
		if m[v] == nil {
			m[v] = make([]int64, n)
		}
		m[v][i] += x
	}
	first, _ := time.Parse(time.DateOnly, starts[0])
	end := first.AddDate(0, 0, n*step) // the day after the last interval, at most
	last, _ := time.Parse(time.DateOnly, starts[n-1])
	lastEnd := last.AddDate(0, 0, step)
	intervalOf := func(t time.Time) int {
		t = t.UTC()
		if t.Before(first) || !t.Before(end) {
			return -1
		}
		return int(t.Sub(first)/(24*time.Hour)) / step
	}
	for _, is := range issues {
		value := func(t time.Time) string {
			if dimension == "" {
				return ""
			}
			return is.valueAt(dimension, t)
		}
		// A status change counts in the issue's groups at its history row:
		// a change's rows list the status first.
		valueAt := func(field string, k int) string {
			if field == "" {
				return ""
			}
			return is.valueAtEntry(field, k)
		}
		for k, e := range is.entries {
			if e.Field != "status" {
				continue
			}
			i := intervalOf(e.At)
			if i < 0 {
				continue
			}
			switch {
			case e.OldValue == nil:
				add(rc.opened, valueAt(dimension, k), i, 1)
			case *e.NewValue == policy.StatusFixed:
				add(rc.fixed, valueAt(dimension, k), i, 1)
				sev := valueAt(trends.BySeverity, k)
				add(rc.fixCount, sev, i, 1)
				add(rc.fixSeconds, sev, i, e.At.Unix()-is.observed.Unix())
			case *e.OldValue == policy.StatusFixed:
				add(rc.reopened, valueAt(dimension, k), i, 1)
			}
		}
		for i := range n {
			// The end of interval i: the last instant before the next one
			// (the last interval ends with the range).
			next := first.AddDate(0, 0, (i+1)*step)
			if next.After(lastEnd) {
				next = lastEnd
			}
			t := next.Add(-time.Nanosecond)
			if is.valueAt("status", t) == "" {
				continue // not opened yet
			}
			if policy.IsActive(is.valueAt("status", t)) {
				add(rc.active, value(t), i, 1)
			}
		}
	}
	return rc
}

// TestTrendsMatchHistory loads an organisation with a year of weekly
// evaluations of stacks and accounts (issues open, get fixed, reopen, change
// severity with a pack version, and get triaged) and checks every count of
// the trends, by day and by week and by each grouping, against a recount
// from the issues' history; then that replaying the history (the migration's
// backfill) gives the same rollups.
func TestTrendsMatchHistory(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		ctx := context.Background()
		now := time.Now().UTC()
		res, err := demo.Load(ctx, b.Repo, demo.Options{Seed: 3, Stacks: 3, Accounts: 1, ResourcesPerEntity: 6, Runs: 53,
			Triage: 25, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		orgID := res.Org.ID
		issues := loadHistory(t, b.Repo, orgID)

		check := func(t *testing.T) {
			to := now.Format(time.DateOnly)
			from := now.AddDate(0, 0, -trends.MaxDays+1).Format(time.DateOnly)
			for _, interval := range []string{"day", "week"} {
				for _, dim := range []string{"", trends.BySeverity, trends.ByPolicyPack, trends.ByEntityType,
					trends.ByKind, trends.ByPolicyGroupName} {
					q := trends.Query{From: from, To: to, Interval: interval, GroupBy: dim}
					tr, err := b.Repo.Trends().Read(ctx, orgID, q)
					if err != nil {
						t.Fatal(err)
					}
					step := map[string]int{"day": 1, "week": 7}[interval]
					rc := recountTrends(issues, dim, tr.Intervals, step)
					compareTrends(t, fmt.Sprintf("%s by %q", interval, dim), tr, rc)
				}
			}
		}
		check(t)

		var opened int64
		if err := b.Repo.DB().Raw(`SELECT COALESCE(SUM(opened), 0) FROM issue_trends WHERE org_id = ? AND dimension = ''`, orgID).
			Scan(&opened).Error; err != nil {
			t.Fatal(err)
		}
		if opened != res.Opened || opened == 0 {
			t.Fatalf("the trends opened %d issues, the demo %d", opened, res.Opened)
		}
		if err := b.Repo.Trends().Check(ctx, orgID); err != nil {
			t.Fatal(err)
		}
		if err := b.Repo.Trends().Rebuild(ctx, orgID); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
}

func loadHistory(t *testing.T, r *repository.Repository, orgID int64) map[string]*historyIssue {
	t.Helper()
	var current []struct {
		ID, Status, Severity, PolicyPack, EntityType, Kind, PolicyGroupName string
		ObservedAt                                                          time.Time
	}
	if err := r.DB().Raw(`SELECT id, status, severity, policy_pack, entity_type, kind, policy_group_name, observed_at
		FROM policy_issues WHERE org_id = ?`, orgID).Scan(&current).Error; err != nil {
		t.Fatal(err)
	}
	issues := map[string]*historyIssue{}
	for _, c := range current {
		issues[c.ID] = &historyIssue{observed: c.ObservedAt, current: map[string]string{
			"status": c.Status, trends.BySeverity: c.Severity, trends.ByPolicyPack: c.PolicyPack,
			trends.ByEntityType: c.EntityType, trends.ByKind: c.Kind, trends.ByPolicyGroupName: c.PolicyGroupName,
		}}
	}
	var rows []trendHistoryRow
	if err := r.DB().Raw(`SELECT issue_id, at, field, old_value, new_value FROM issue_history WHERE org_id = ? ORDER BY issue_id, id`,
		orgID).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, h := range rows {
		issues[h.IssueID].entries = append(issues[h.IssueID].entries, h)
	}
	return issues
}

func compareTrends(t *testing.T, what string, tr *trends.Result, rc *trendRecount) {
	t.Helper()
	n := len(tr.Intervals)
	zero := make([]int64, n)
	or := func(xs []int64) []int64 {
		if xs == nil {
			return zero
		}
		return xs
	}
	seen := map[string]bool{}
	for _, s := range tr.Series {
		seen[s.Value] = true
		for _, c := range []struct {
			name      string
			got, want []int64
		}{
			{"activeIssues", s.ActiveIssues, rc.active[s.Value]}, {"opened", s.Opened, rc.opened[s.Value]},
			{"fixed", s.Fixed, rc.fixed[s.Value]}, {"reopened", s.Reopened, rc.reopened[s.Value]},
		} {
			if !slices.Equal(c.got, or(c.want)) {
				t.Errorf("%s, %q %s: the trend says %v, the history %v", what, s.Value, c.name, c.got, or(c.want))
			}
		}
	}
	for _, m := range []map[string][]int64{rc.active, rc.opened, rc.fixed, rc.reopened} {
		for v, xs := range m {
			if !seen[v] && !slices.Equal(xs, zero) {
				t.Errorf("%s: the history has %q (%v), the trend has no series of it", what, v, xs)
			}
		}
	}
	mttf := map[string][]*float64{}
	for _, v := range tr.MeanTimeToFix {
		mttf[v.Name] = v.Values
	}
	fixes := 0
	for sev, counts := range rc.fixCount {
		for i, c := range counts {
			got := mttf[sev]
			if c == 0 {
				if got != nil && got[i] != nil {
					t.Errorf("%s: mean time to fix of %q in interval %d is %v without fixes", what, sev, i, *got[i])
				}
				continue
			}
			fixes++
			want := math.Round(float64(rc.fixSeconds[sev][i])/float64(c)/3600*100) / 100
			if got == nil || got[i] == nil || *got[i] != want {
				t.Errorf("%s: mean time to fix of %q in interval %d: the trend says %v, the history %v", what, sev, i, got, want)
			}
		}
	}
	if fixes == 0 {
		t.Errorf("%s: no fixes in the history; the test needs some", what)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
