package repository

import "context"

// Analyze refreshes the query planner's statistics of every table. After a
// bulk load (policyresults demo) the planner otherwise plans the grid for
// the empty tables it last saw: SQLite has no statistics until ANALYZE
// runs, and PostgreSQL's autovacuum gets to them a while later.
func (r *Repository) Analyze(ctx context.Context) error {
	return r.db.WithContext(ctx).Exec("ANALYZE").Error
}
