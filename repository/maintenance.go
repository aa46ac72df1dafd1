package repository

import "context"

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
