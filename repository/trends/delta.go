// Package trends keeps the daily trend counts of an organisation's issues
// and its compliance, and answers the trends query from them.
//
// Trends (tables of migrations/*/00004_trends.sql) answer how the issues
// and the compliance of an organisation moved over time, per UTC day,
// without reading the history:
//
//   - issue_trends: per (dimension, value, day), the issues opened, fixed
//     and reopened that day, the net change of active issues (whose running
//     sum is the active issues at the end of each day) and the time the
//     day's fixes took. The dimension is "" (the organisation's totals) or a
//     column a trend groups by, valued as the issue was at the change.
//   - compliance_trends: per (pack, day), the organisation's compliance
//     cells of the pack and the sum of their scores at the end of the day.
//
// Both are written in the transactions that change issues (the repository
// builds a Delta of its changes and calls Write and SnapshotCompliance), so
// they commit or roll back with the change. issue_trends follows from the
// history alone: a migration replays it for the organisations that existed
// before (Store.Backfill), and a test replays the history of a generated
// organisation and compares. The compliance cells have no history, so
// compliance_trends starts on the day the migration ran with the cells as
// they were.
package trends

import (
	"cmp"
	"strings"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

// The dimensions a trend groups by (GetPolicyResultsTrends' groupBy).
const (
	BySeverity        = "severity"
	ByPolicyPack      = "policyPack"
	ByEntityType      = "entityType"
	ByKind            = "kind"
	ByPolicyGroupName = "policyGroupName"
)

// dimensions are the dimensions of issue_trends rows, "" (the totals)
// first; state.values follows this order.
var dimensions = [...]string{"", BySeverity, ByPolicyPack, ByEntityType, ByKind, ByPolicyGroupName}

// state is what the trends read of an issue: its status and its value of
// each dimension.
type state struct {
	status string
	values [len(dimensions)]string
}

func stateOf(is *model.Issue) state {
	return state{status: is.Status,
		values: [...]string{"", is.Severity, is.PolicyPack, is.EntityType, is.Kind, is.PolicyGroupName}}
}

// Day is the UTC day of t as the trend tables store it.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

type key struct{ dimension, value, day string }

func compareKeys(a, b key) int {
	return cmp.Or(strings.Compare(a.dimension, b.dimension), strings.Compare(a.value, b.value), strings.Compare(a.day, b.day))
}

// counts is a change of one issue_trends row.
type counts struct{ opened, fixed, reopened, active, fixSeconds int64 }

// Delta accumulates what a transaction changes in issue_trends; Write
// adds it to the tables.
type Delta map[key]counts

// bump applies f to the rows of every dimension of the issue state s.
func (d Delta) bump(s *state, day string, f func(*counts)) {
	for i, dim := range dimensions {
		k := key{dim, s.values[i], day}
		c := d[k]
		f(&c)
		d[k] = c
	}
}

// change counts an issue's move from before (nil: the issue was opened) to
// after, made at the time at; observedAt is when the issue was first
// reported, from which a fix's time is measured.
//
// A fix or a reopen counts in the groups the issue was in before the
// change: a change's history lists the status first, so that is the
// issue's state at the status entry, the one a replay of the history can
// tell apart even when two changes have the same time. The active issues
// move from the groups before to those after.
func (d Delta) change(before *state, after state, at, observedAt time.Time) {
	day := Day(at)
	if before == nil {
		d.bump(&after, day, func(c *counts) { c.opened++ })
		if policy.IsActive(after.status) {
			d.bump(&after, day, func(c *counts) { c.active++ })
		}
		return
	}
	wasFixed, isFixed := before.status == policy.StatusFixed, after.status == policy.StatusFixed
	switch {
	case !wasFixed && isFixed:
		// Whole seconds of each time, so the replay of the stored times agrees
		// with the change made from the times in memory.
		seconds := max(0, at.Unix()-observedAt.Unix())
		d.bump(before, day, func(c *counts) { c.fixed++; c.fixSeconds += seconds })
	case wasFixed && !isFixed:
		d.bump(before, day, func(c *counts) { c.reopened++ })
	}
	wasActive, isActive := policy.IsActive(before.status), policy.IsActive(after.status)
	if wasActive && isActive && before.values == after.values {
		return
	}
	if wasActive {
		d.bump(before, day, func(c *counts) { c.active-- })
	}
	if isActive {
		d.bump(&after, day, func(c *counts) { c.active++ })
	}
}

// Change adds an issue written by a transaction: before is nil for an
// issue opened. The change happened at after's LastModified, which every
// path that records a change sets to the change's time.
func (d Delta) Change(before, after *model.Issue) {
	s := stateOf(after)
	if before == nil {
		d.change(nil, s, after.ObservedAt, after.ObservedAt)
		return
	}
	b := stateOf(before)
	if b == s {
		return
	}
	d.change(&b, s, after.LastModified, after.ObservedAt)
}

// entry is a history row with the issue's current values, as the replay
// reads it.
type entry struct {
	IssueID         string
	At              time.Time
	Field           string
	OldValue        *string
	NewValue        *string
	Status          string
	Severity        string
	PolicyPack      string
	EntityType      string
	Kind            string
	PolicyGroupName string
	ObservedAt      time.Time
}

// historyField is the index in state.values of a history field, -1 for
// the status.
var historyField = map[string]int{"status": -1, "severity": 1, "kind": 4, "policyGroupName": 5}

// replay adds one issue's history (its rows in order) to d, one row at a
// time: the issue's state before each row is its current state with the
// later rows undone.
func (d Delta) replay(entries []entry) {
	if len(entries) == 0 {
		return
	}
	cur := entries[0]
	states := make([]state, len(entries)+1) // states[k]: after entries[:k]
	states[len(entries)] = state{status: cur.Status,
		values: [...]string{"", cur.Severity, cur.PolicyPack, cur.EntityType, cur.Kind, cur.PolicyGroupName}}
	for k := len(entries) - 1; k >= 0; k-- {
		s := states[k+1]
		old := ""
		if entries[k].OldValue != nil {
			old = *entries[k].OldValue
		}
		if i := historyField[entries[k].Field]; i < 0 {
			s.status = old
		} else {
			s.values[i] = old
		}
		states[k] = s
	}
	for k, e := range entries {
		switch {
		case e.Field == "status" && e.OldValue == nil:
			d.change(nil, states[k+1], e.At, cur.ObservedAt)
		case states[k] != states[k+1]:
			d.change(&states[k], states[k+1], e.At, cur.ObservedAt)
		}
	}
}
