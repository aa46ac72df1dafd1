package repository

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/compliance"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/store"
)

// DefaultMaxAcceptance is how far ahead a risk acceptance may end unless the
// server is configured otherwise (serve --acceptance-max-days).
const DefaultMaxAcceptance = 365 * 24 * time.Hour

// maxAcceptanceReason bounds an acceptance's reason (characters).
const maxAcceptanceReason = 1000

// The actor of the server's own changes to issues (expired acceptances).
const (
	systemActor     = "policyresults"
	systemActorType = "system"
	// ExpiredReason is the history reason of an acceptance that ended.
	ExpiredReason = "acceptance expired"
)

// Acceptance sets (Until set) or ends (Until nil) an issue's risk
// acceptance: an ignored or by_design issue accepted until a time, with a
// reason.
type Acceptance struct {
	Until  *time.Time
	Reason string
}

// check refuses an acceptance no issue could take: an end not in the future
// or beyond max from now, a missing or long reason, a reason without an end.
// A nil acceptance passes.
func (a *Acceptance) check(now time.Time, max time.Duration) error {
	if a == nil {
		return nil
	}
	a.Reason = strings.TrimSpace(a.Reason)
	if a.Until == nil {
		if a.Reason != "" {
			return invalid("acceptanceReason", "is only allowed with acceptedUntil; send acceptedUntil too, or leave acceptanceReason out")
		}
		return nil
	}
	until := a.Until.UTC().Truncate(time.Microsecond)
	a.Until = &until
	if !until.After(now) {
		return invalid("acceptedUntil", "must be in the future (it is now %s), got %s", now.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	if until.After(now.Add(max)) {
		return invalid("acceptedUntil", "must be at most %d days ahead (until %s), got %s",
			int(max/(24*time.Hour)), now.Add(max).Format(time.RFC3339), until.Format(time.RFC3339))
	}
	if a.Reason == "" {
		return invalid("acceptanceReason", "is required with acceptedUntil: say why the risk is accepted")
	}
	if err := policy.CheckText("acceptanceReason", a.Reason, maxAcceptanceReason); err != nil {
		return store.Refused(err)
	}
	return nil
}

// of answers the acceptance is holds once a (checked, possibly nil) is
// applied to it, is's status already changed: a status other than ignored
// or by_design ends any acceptance, and only those statuses take one.
func (a *Acceptance) of(is *model.Issue) (*time.Time, string, error) {
	accepting := is.Status == policy.StatusIgnored || is.Status == policy.StatusByDesign
	switch {
	case a == nil && accepting:
		return is.AcceptedUntil, is.AcceptanceReason, nil
	case a == nil, a.Until == nil:
		return nil, "", nil
	case !accepting:
		return nil, "", invalid("acceptedUntil", "only an issue with status ignored or by_design can be accepted; issue %s has status %s (send status ignored or by_design with it)", is.ID, is.Status)
	}
	return a.Until, a.Reason, nil
}

func equalTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// formatAcceptance is an acceptance's end as its history records it ("" for
// none).
func formatAcceptance(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// expiryBatch is how many expired acceptances one transaction ends.
const expiryBatch = 1000

// expiryLockKey is the PostgreSQL advisory lock (transaction scoped) that
// lets one replica at a time end expired acceptances.
const expiryLockKey = 0x706f6c6578706972 // "polexpir"

// ExpireAcceptances ends the risk acceptances that ended at or before now,
// in every organisation: each such issue is open again (an ignored or
// by_design issue is one its latest evaluation still reports: one it no
// longer reports was fixed, which ended its acceptance), recorded in its
// history with the actor "policyresults" (type system) and the reason
// "acceptance expired", its rollups following. It answers how many issues
// it opened. On PostgreSQL one replica does the work at a time: another
// that finds the work under way returns at once (its next run picks up
// anything left).
func (r *Repository) ExpireAcceptances(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Microsecond)
	total := 0
	for {
		n, more, err := r.expireBatch(ctx, now)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// expireBatch ends up to expiryBatch expired acceptances in one transaction;
// more says whether others may remain.
func (r *Repository) expireBatch(ctx context.Context, now time.Time) (n int, more bool, err error) {
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		if r.dialect.ConcurrentWrites() {
			// Replicas write at once: one at a time does the work (on
			// SQLite the write transaction holds the database).
			var got bool
			if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?)", int64(expiryLockKey)).Row().Scan(&got); err != nil {
				return err
			}
			if !got {
				return nil
			}
		}
		query := "SELECT " + issuerows.Select + " FROM policy_issues WHERE policy_issues.accepted_until IS NOT NULL" +
			" AND policy_issues.accepted_until <= ? ORDER BY policy_issues.org_id, policy_issues.id LIMIT ?" +
			r.dialect.LockRowsOf("policy_issues")
		due, err := issuerows.Scan(tx, query, now, expiryBatch)
		if err != nil {
			return err
		}
		more = len(due) == expiryBatch
		n = len(due)
		return r.expire(tx, due, now)
	})
	return n, more, err
}

// expire opens the issues due (ordered by organisation) and records it, one
// record per organisation.
func (r *Repository) expire(tx *gorm.DB, due []model.Issue, now time.Time) error {
	befores := make([]model.Issue, len(due))
	copy(befores, due)
	actor := Actor{Name: systemActor, Type: systemActorType}
	reason := ExpiredReason
	open := policy.StatusOpen
	u := &IssueUpdate{Status: &open, Now: now}
	for start := 0; start < len(due); {
		orgID := due[start].OrgID
		end := start + 1
		for end < len(due) && due[end].OrgID == orgID {
			end++
		}
		c := &issueChanges{orgID: orgID, cause: causeExpiry, actor: systemActor, rollup: compliance.NewDelta()}
		rows := make([]triageRow, 0, end-start)
		for i := start; i < end; i++ {
			is := &due[i]
			updates, history, err := applyTriage(is, nil, "", actor, u, "")
			if err != nil {
				return err
			}
			if updates == nil {
				continue
			}
			for j := range history {
				history[j].Reason = &reason
			}
			c.addTriage(&befores[i], is, history)
			rows = append(rows, triageRow{is: is, updates: updates})
		}
		if err := r.writeTriageRows(tx, orgID, rows); err != nil {
			return err
		}
		if err := r.record(tx, c); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// RunAcceptanceExpiry ends expired acceptances now (what expired while the
// server was stopped), then every interval until ctx ends, by the clock now.
// The first run's error is returned; later errors are logged.
func (r *Repository) RunAcceptanceExpiry(ctx context.Context, interval time.Duration, now func() time.Time, log *slog.Logger) error {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	if n, err := r.ExpireAcceptances(ctx, now()); err != nil {
		return err
	} else if n > 0 {
		log.Info("acceptances expired", "issues", n)
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				n, err := r.ExpireAcceptances(ctx, now())
				if err != nil && ctx.Err() == nil {
					log.Error("acceptance expiry failed", "error", err)
				} else if n > 0 {
					log.Info("acceptances expired", "issues", n)
				}
			}
		}
	}()
	return nil
}

// triageRow is one issue a batch or the expiry changes, with its columns to
// write.
type triageRow struct {
	is      *model.Issue
	updates map[string]any
}

// triageColumns are the columns a person's triage writes, in the order
// writeTriageRows binds them.
var triageColumns = []string{"status", "status_rank", "active", "priority", "assignee_id", "assignee_login",
	"assignee_email", "accepted_until", "acceptance_reason", "revision", "last_modified"}

// writeTriageRows writes the triage columns of rows (issues of orgID): on
// PostgreSQL one UPDATE ... FROM unnest per store.ArrayRows rows, every triage
// column set from the issue's new values; on SQLite one UPDATE per issue
// with the columns that changed (in-process statements are cheap there).
func (r *Repository) writeTriageRows(tx *gorm.DB, orgID int64, rows []triageRow) error {
	if len(rows) == 0 {
		return nil
	}
	// Rows are written in id order, the order a concurrent writer locks
	// them in too.
	slices.SortFunc(rows, func(a, b triageRow) int { return cmp.Compare(a.is.ID, b.is.ID) })
	if !r.dialect.Arrays() {
		for _, row := range rows {
			if err := tx.Model(&model.Issue{}).Where("org_id = ? AND id = ?", orgID, row.is.ID).Updates(row.updates).Error; err != nil {
				return err
			}
		}
		return nil
	}
	for _, batch := range store.Chunk(rows, store.ArrayRows) {
		n := len(batch)
		ids, status, priority, login, email, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		statusRank, revision := make([]int32, n), make([]int32, n)
		active := make([]bool, n)
		assignee := make([]*int64, n)
		until := make([]*time.Time, n)
		modified := make([]time.Time, n)
		for i, row := range batch {
			is := row.is
			ids[i], status[i], statusRank[i], active[i] = is.ID, is.Status, int32(is.StatusRank), is.Active
			priority[i], assignee[i], login[i], email[i] = is.Priority, is.AssigneeID, is.AssigneeLogin, is.AssigneeEmail
			until[i], reason[i], revision[i], modified[i] = is.AcceptedUntil, is.AcceptanceReason, int32(is.Revision), is.LastModified.UTC()
		}
		set := make([]string, len(triageColumns))
		for i, col := range triageColumns {
			set[i] = col + " = u." + col
		}
		if err := store.ExecArrays(tx, `UPDATE policy_issues SET `+strings.Join(set, ", ")+`
			FROM unnest($2::text[], $3::text[], $4::smallint[], $5::boolean[], $6::text[], $7::bigint[], $8::text[],
				$9::text[], $10::timestamptz[], $11::text[], $12::integer[], $13::timestamptz[])
				AS u(id, `+strings.Join(triageColumns, ", ")+`)
			WHERE policy_issues.org_id = $1 AND policy_issues.id = u.id`,
			orgID, ids, status, statusRank, active, priority, assignee, login, email, until, reason, revision, modified); err != nil {
			return err
		}
	}
	return nil
}
