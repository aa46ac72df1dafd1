package trends

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/store"
)

// Store reads, checks and rebuilds the trends of a database's
// organisations.
type Store struct {
	store *store.Store
}

// New returns the trends of the database s.
func New(s *store.Store) *Store { return &Store{store: s} }

// The trends of organisations that existed before issue_trends are
// replayed from their issues' history. The migration that created the
// tables queues them (trend_backfills) and Backfill replays them here, in
// Go: an issue's severity, kind and policy group at each of its changes
// are its current values walked back through its later changes, which SQL
// could only express with correlated lookups per history row and field,
// while Go reads the history once in issue order.

// Backfill replays the trends of each organisation the migrations queued,
// one transaction per organisation that also takes it off the queue
// (another process migrating at once finds it gone and moves on).
func (t *Store) Backfill(ctx context.Context) error {
	var orgs []int64
	if err := t.store.DB().WithContext(ctx).Raw(`SELECT org_id FROM trend_backfills ORDER BY org_id`).Scan(&orgs).Error; err != nil {
		return err
	}
	for _, orgID := range orgs {
		err := t.store.Transaction(ctx, func(tx *gorm.DB) error {
			res := tx.Exec(`DELETE FROM trend_backfills WHERE org_id = ?`, orgID)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			if err := t.replay(tx, orgID); err != nil {
				return err
			}
			var packs []string
			if err := tx.Raw(`SELECT DISTINCT pack_name FROM entity_pack_counts WHERE org_id = ?`, orgID).
				Scan(&packs).Error; err != nil {
				return err
			}
			return SnapshotCompliance(tx, orgID, Day(time.Now()), packs)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Rebuild recomputes the organisation's issue trends from its issues'
// history (the compliance trend, which has no history, stays). Writes
// through the repository keep them exact; this is for data written around
// it. Run it while no evaluation or triage of the organisation is in
// flight.
func (t *Store) Rebuild(ctx context.Context, orgID int64) error {
	return t.store.Transaction(ctx, func(tx *gorm.DB) error { return t.replay(tx, orgID) })
}

// replay replaces the organisation's issue_trends rows with the replay of
// its history.
func (t *Store) replay(tx *gorm.DB, orgID int64) error {
	for _, table := range []string{"issue_trends", "issue_trend_totals"} {
		if err := tx.Exec("DELETE FROM "+table+" WHERE org_id = ?", orgID).Error; err != nil {
			return err
		}
	}
	d, err := replayHistory(tx, orgID)
	if err != nil {
		return err
	}
	return Write(tx, t.store.Dialect(), orgID, d)
}

// replayHistory replays the organisation's history into issue_trends
// changes.
func replayHistory(tx *gorm.DB, orgID int64) (Delta, error) {
	rows, err := tx.Raw(`SELECT h.issue_id, h.at, h.field, h.old_value, h.new_value, i.status, i.severity, i.policy_pack,
		       i.entity_type, i.kind, i.policy_group_name, i.observed_at
		FROM issue_history h JOIN policy_issues i ON i.org_id = h.org_id AND i.id = h.issue_id
		WHERE h.org_id = ? AND h.field IN ('status', 'severity', 'kind', 'policyGroupName')
		ORDER BY h.issue_id, h.id`, orgID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	d := Delta{}
	var issue []entry
	for rows.Next() {
		var e entry
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

// Check compares the organisation's issue_trends rows with a replay of its
// history and reports any difference as an error (tests and operators use
// it; it reads the organisation's history).
func (t *Store) Check(ctx context.Context, orgID int64) error {
	db := t.store.DB().WithContext(ctx)
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
	got := Delta{}
	for _, s := range stored {
		got[key{s.Dimension, s.Value, s.Day}] = counts{s.Opened, s.Fixed, s.Reopened, s.ActiveChange, s.FixSeconds}
	}
	var problems []string
	var totals []struct {
		Dimension, Value string
		Active           int64
	}
	if err := db.Raw(`SELECT dimension, value, active FROM issue_trend_totals WHERE org_id = ?`, orgID).Scan(&totals).Error; err != nil {
		return err
	}
	sums := map[key]int64{}
	for k, c := range want {
		sums[key{k.dimension, k.value, ""}] += c.active
	}
	for _, tot := range totals {
		k := key{tot.Dimension, tot.Value, ""}
		if sums[k] != tot.Active {
			problems = append(problems, fmt.Sprintf("issue_trend_totals %s=%q: stored %d, replayed %d", tot.Dimension, tot.Value, tot.Active, sums[k]))
		}
		delete(sums, k)
	}
	for _, k := range store.SortedChanges(sums, compareKeys) {
		problems = append(problems, fmt.Sprintf("issue_trend_totals %s=%q: stored nothing, replayed %d", k.dimension, k.value, sums[k]))
	}
	for _, k := range store.SortedChanges(want, compareKeys) {
		if got[k] != want[k] {
			problems = append(problems, fmt.Sprintf("issue_trends %v: stored %+v, replayed %+v", k, got[k], want[k]))
		}
	}
	for _, k := range store.SortedChanges(got, compareKeys) {
		if _, ok := want[k]; !ok {
			problems = append(problems, fmt.Sprintf("issue_trends %v: stored %+v, replayed nothing", k, got[k]))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("trends differ from the history:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}
