package repository

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Analyze refreshes the query planner's statistics of every table. After a
// bulk load (policyresults demo) the planner otherwise plans the grid for
// the empty tables it last saw: SQLite has no statistics until ANALYZE
// runs, and PostgreSQL's autovacuum gets to them a while later.
func (r *Repository) Analyze(ctx context.Context) error {
	return r.db.WithContext(ctx).Exec("ANALYZE").Error
}

// IssueCountsByStatus counts the issues of every organisation by status, for
// the operator's metrics (not for any organisation's caller). The (org_id,
// status) index makes it an index-only scan on PostgreSQL.
func (r *Repository) IssueCountsByStatus(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	if err := r.db.WithContext(ctx).Raw(`SELECT status, COUNT(*) AS n FROM policy_issues GROUP BY status`).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, row := range rows {
		out[row.Status] = row.N
	}
	return out, nil
}

// RebuildRollups recomputes the organisation's counts (see package
// compliance) from its issues, outcomes and resources, and its text
// dictionary references. Writes that go through the repository keep them
// exact; this is for data written around it (test fixtures, repairs). Run
// it while no evaluation or triage of the organisation is in flight.
func (r *Repository) RebuildRollups(ctx context.Context, orgID int64) error {
	return r.transaction(ctx, func(tx *gorm.DB) error {
		if err := r.texts.Rebuild(tx, orgID); err != nil {
			return err
		}
		return r.Compliance.Rebuild(tx, orgID)
	})
}

// CheckRollups recounts the organisation's counts (see package compliance)
// and its text dictionary references from the issues, outcomes and
// resources, and reports any difference as an error (tests and operators
// use it; it scans the organisation's issues).
func (r *Repository) CheckRollups(ctx context.Context, orgID int64) error {
	problems, err := r.Compliance.Problems(ctx, orgID)
	if err != nil {
		return err
	}
	if err := r.texts.Check(r.db.WithContext(ctx), orgID, &problems); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("rollups differ from a recount:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}
