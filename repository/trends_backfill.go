package repository

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The trends of organisations that existed before issue_trends are
// replayed from their issues' history. The migration that created the
// tables queues them (trend_backfills) and Migrate replays them here, in Go:
// an issue's severity, kind and policy group at each of its changes are
// its current values walked back through its later changes, which SQL
// could only express with correlated lookups per history row and field,
// while Go reads the history once in issue order.

// backfillTrends replays the trends of each queued organisation, one
// transaction per organisation that also takes it off the queue (another
// process migrating at once finds it gone and moves on).
func (r *Repository) backfillTrends(ctx context.Context) error {
	var orgs []int64
	if err := r.db.WithContext(ctx).Raw(`SELECT org_id FROM trend_backfills ORDER BY org_id`).Scan(&orgs).Error; err != nil {
		return err
	}
	for _, orgID := range orgs {
		err := r.transaction(ctx, func(tx *gorm.DB) error {
			res := tx.Exec(`DELETE FROM trend_backfills WHERE org_id = ?`, orgID)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			if err := r.replayTrends(tx, orgID); err != nil {
				return err
			}
			var packs []string
			if err := tx.Raw(`SELECT DISTINCT pack_name FROM entity_pack_counts WHERE org_id = ?`, orgID).
				Scan(&packs).Error; err != nil {
				return err
			}
			return r.snapshotCompliance(tx, orgID, trendDay(time.Now()), packs)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// RebuildTrends recomputes the organisation's issue trends from its
// issues' history (the compliance trend, which has no history, stays).
// Writes through the repository keep them exact; this is for data written
// around it. Run it while no evaluation or triage of the organisation is in
// flight.
func (r *Repository) RebuildTrends(ctx context.Context, orgID int64) error {
	return r.transaction(ctx, func(tx *gorm.DB) error { return r.replayTrends(tx, orgID) })
}

// trendEntry is a history row with the issue's current values.
type trendEntry struct {
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

// replayTrends replaces the organisation's issue_trends rows with the
// replay of its history.
func (r *Repository) replayTrends(tx *gorm.DB, orgID int64) error {
	for _, table := range []string{"issue_trends", "issue_trend_totals"} {
		if err := tx.Exec("DELETE FROM "+table+" WHERE org_id = ?", orgID).Error; err != nil {
			return err
		}
	}
	d, err := replayHistory(tx, orgID)
	if err != nil {
		return err
	}
	return r.writeTrends(tx, orgID, d)
}

// replayHistory replays the organisation's history into issue_trends
// changes.
func replayHistory(tx *gorm.DB, orgID int64) (trendDelta, error) {
	rows, err := tx.Raw(`SELECT h.issue_id, h.at, h.field, h.old_value, h.new_value, i.status, i.severity, i.policy_pack,
		       i.entity_type, i.kind, i.policy_group_name, i.observed_at
		FROM issue_history h JOIN policy_issues i ON i.org_id = h.org_id AND i.id = h.issue_id
		WHERE h.org_id = ? AND h.field IN ('status', 'severity', 'kind', 'policyGroupName')
		ORDER BY h.issue_id, h.id`, orgID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	d := trendDelta{}
	var issue []trendEntry
	for rows.Next() {
		var e trendEntry
		if err := tx.ScanRows(rows, &e); err != nil {
			return nil, err
		}
		if len(issue) > 0 && issue[0].IssueID != e.IssueID {
			d.replay(issue)
			issue = issue[:0]
		}
		issue = append(issue, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	d.replay(issue)
	return d, nil
}

// CheckTrends compares the organisation's issue_trends rows with a replay
// of its history and reports any difference as an error (tests and
// operators use it; it reads the organisation's history).
func (r *Repository) CheckTrends(ctx context.Context, orgID int64) error {
	db := r.db.WithContext(ctx)
	want, err := replayHistory(db, orgID)
	if err != nil {
		return err
	}
	var stored []struct {
		Dimension, Value, Day                             string
		Opened, Fixed, Reopened, ActiveChange, FixSeconds int64
	}
	if err := db.Raw(`SELECT dimension, value, day, opened, fixed, reopened, active_change, fix_seconds FROM issue_trends
		WHERE org_id = ?`, orgID).Scan(&stored).Error; err != nil {
		return err
	}
	got := trendDelta{}
	for _, s := range stored {
		got[trendKey{s.Dimension, s.Value, s.Day}] = trendCounts{s.Opened, s.Fixed, s.Reopened, s.ActiveChange, s.FixSeconds}
	}
	var problems []string
	var totals []struct {
		Dimension, Value string
		Active           int64
	}
	if err := db.Raw(`SELECT dimension, value, active FROM issue_trend_totals WHERE org_id = ?`, orgID).Scan(&totals).Error; err != nil {
		return err
	}
	sums := map[trendKey]int64{}
	for k, c := range want {
		sums[trendKey{k.dimension, k.value, ""}] += c.active
	}
	for _, t := range totals {
		k := trendKey{t.Dimension, t.Value, ""}
		if sums[k] != t.Active {
			problems = append(problems, fmt.Sprintf("issue_trend_totals %s=%q: stored %d, replayed %d", t.Dimension, t.Value, t.Active, sums[k]))
		}
		delete(sums, k)
	}
	for _, k := range sortedChanges(sums, compareTrendKeys) {
		problems = append(problems, fmt.Sprintf("issue_trend_totals %s=%q: stored nothing, replayed %d", k.dimension, k.value, sums[k]))
	}
	for _, k := range sortedChanges(want, compareTrendKeys) {
		if got[k] != want[k] {
			problems = append(problems, fmt.Sprintf("issue_trends %v: stored %+v, replayed %+v", k, got[k], want[k]))
		}
	}
	for _, k := range sortedChanges(got, compareTrendKeys) {
		if _, ok := want[k]; !ok {
			problems = append(problems, fmt.Sprintf("issue_trends %v: stored %+v, replayed nothing", k, got[k]))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("trends differ from the history:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}

// trendField is the index in trendState.values of a history field, -1 for
// the status.
var trendField = map[string]int{"status": -1, "severity": 1, "kind": 4, "policyGroupName": 5}

// replay adds one issue's history (its rows in order) to d, one row at a
// time: the issue's state before each row is its current state with the
// later rows undone.
func (d trendDelta) replay(entries []trendEntry) {
	if len(entries) == 0 {
		return
	}
	cur := entries[0]
	states := make([]trendState, len(entries)+1) // states[k]: after entries[:k]
	states[len(entries)] = trendState{status: cur.Status,
		values: [...]string{"", cur.Severity, cur.PolicyPack, cur.EntityType, cur.Kind, cur.PolicyGroupName}}
	for k := len(entries) - 1; k >= 0; k-- {
		s := states[k+1]
		old := ""
		if entries[k].OldValue != nil {
			old = *entries[k].OldValue
		}
		if i := trendField[entries[k].Field]; i < 0 {
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
