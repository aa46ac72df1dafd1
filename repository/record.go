package repository

import (
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/compliance"
	"github.com/policyresults/policyresults/repository/store"
	"github.com/policyresults/policyresults/repository/trends"
)

// changeCause says why issues changed.
type changeCause string

const (
	// causeEvaluation: an evaluation opened, changed, reopened or fixed issues.
	causeEvaluation changeCause = "evaluation"
	// causePerson: a person triaged one issue (UpdateIssue).
	causePerson changeCause = "person"
	// causeBatch: a person triaged a selection of issues at once.
	causeBatch changeCause = "batch"
	// causeExpiry: risk acceptances passed their end.
	causeExpiry changeCause = "expiry"
)

// issueChange is one issue written: before is nil for an issue opened.
type issueChange struct{ before, after *model.Issue }

// issueChanges is what one transaction changed in an organisation's issues,
// and why: every path that writes policy_issues (ingest, triage, batch,
// expiry) builds one and hands it to record.
type issueChanges struct {
	orgID int64
	cause changeCause
	// actor is the person's login or token name, or ingest.HistoryActor.
	actor string
	// evaluationID is the evaluation record's id when cause is causeEvaluation.
	evaluationID int64
	// batchID is the batch's id when cause is causeBatch.
	batchID string
	// changes are the issues written: opened, or with a column changed
	// (recorded in history or not). Issues an evaluation only moved to its
	// version are left out.
	changes []issueChange
	// history are the recorded changes, one row per field.
	history []model.HistoryEntry
	// rollup is what the changes (and, for an evaluation, its outcomes and
	// resources) make to the rollups.
	rollup *compliance.Delta
	// inlined says recordCTEs put the history and the issue counts into
	// the statement that changed the issue, so record leaves them out.
	inlined bool
}

// addTriage adds one triaged issue to c: its change, its history entries
// and what it makes to the rollups.
func (c *issueChanges) addTriage(before, after *model.Issue, history []model.HistoryEntry) {
	c.changes = append(c.changes, issueChange{before: before, after: after})
	c.history = append(c.history, history...)
	c.rollup.Change(before, after)
}

// record writes c's history rows and applies its rollup deltas inside tx,
// after the issues are written: every path that changes issues calls it
// once per transaction. On PostgreSQL each part is one set-based statement
// (unnest over arrays), whatever the number of issues.
//
// A part added here that must commit with the change also goes in
// recordCTEs: the PostgreSQL triage path writes a change in one statement
// without a transaction, and calls record afterwards with c.inlined set.
func (r *Repository) record(tx *gorm.DB, c *issueChanges) error {
	if !c.inlined {
		if err := r.insertHistory(tx, c.history); err != nil {
			return err
		}
		if err := writeHookEvents(tx, c); err != nil {
			return err
		}
	}
	if c.rollup != nil {
		if err := r.Compliance.Apply(tx, c.orgID, c.rollup); err != nil {
			return err
		}
	}
	// The trends change only with a change between active and inactive or
	// of an issue's status, severity, kind or group, which the inlined
	// triage path never carries.
	return r.recordTrends(tx, c)
}

// recordCTEs appends to a PostgreSQL statement that changes one issue
// (q holds "WITH updated AS (UPDATE ... RETURNING ...)", args its
// parameters) the CTEs writing c's history and its change to the issue
// counts, each applied only when cond (a WHERE clause) holds. It takes those
// parts out of c: record(tx, c) afterwards writes only what remains (the
// recounts a change between active and inactive needs).
func recordCTEs(c *issueChanges, q *strings.Builder, args []any, cond string) []any {
	h := historyArrays(c.history)
	q.WriteString(", history AS (" + h.InsertSQL("issue_history", cond, len(args)+1) + ")")
	args = append(args, h.Args...)
	if c.rollup != nil {
		if counts, countArgs := c.rollup.TakeCounts(c.orgID, len(args)+1, cond); counts != "" {
			q.WriteString(", counts AS (" + counts + ")")
			args = append(args, countArgs...)
		}
	}
	args = hookEventCTE(c, q, args, cond)
	c.inlined = true
	return args
}

// insertHistory appends history rows: unnest arrays on PostgreSQL,
// multi-row inserts on SQLite.
func (r *Repository) insertHistory(tx *gorm.DB, rows []model.HistoryEntry) error {
	if len(rows) == 0 {
		return nil
	}
	if r.dialect.Arrays() {
		return insertHistoryPG(tx, rows)
	}
	for _, batch := range store.Chunk(rows, store.BatchRows(r.dialect, 10)) {
		if err := tx.Create(&batch).Error; err != nil {
			return err
		}
	}
	return nil
}

// recordTrends writes the trend changes of c, after its rollups: its
// issues' changes to issue_trends, then the day's compliance snapshot of
// the packs whose compliance cells c recounted. The snapshot's day is that
// of c's latest change (an evaluation's observedAt, a person's request),
// or today when no issue changed.
func (r *Repository) recordTrends(tx *gorm.DB, c *issueChanges) error {
	d := trends.Delta{}
	var at time.Time
	for _, ch := range c.changes {
		d.Change(ch.before, ch.after)
		if ch.after.LastModified.After(at) {
			at = ch.after.LastModified
		}
	}
	if err := trends.Write(tx, r.dialect, c.orgID, d); err != nil {
		return err
	}
	if c.rollup == nil {
		return nil
	}
	packs := c.rollup.CellPacks()
	if len(packs) == 0 {
		return nil
	}
	if at.IsZero() {
		at = time.Now()
	}
	return trends.SnapshotCompliance(tx, c.orgID, trends.Day(at), packs)
}
