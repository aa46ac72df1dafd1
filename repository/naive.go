package repository

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/policyresults/policyresults/grid"
)

// The naive queries are the baseline the load generator (policyresults
// bench) measures the grid against: what a straightforward implementation
// runs on the same tables and data. One statement fetches the page (WHERE +
// ORDER BY + OFFSET/LIMIT over policy_issues), another counts every match
// (COUNT(*)); a facet is one GROUP BY over the matching issues. They use
// the same filter and sort translation as the grid but none of its
// rollups, segments or hints.

// NaiveIssuePage runs the naive page and count of q and returns the number
// of rows read and the count.
func (r *Repository) NaiveIssuePage(ctx context.Context, orgID int64, q *grid.Query) (rows int, count int64, err error) {
	cond, args := "policy_issues.org_id = ?", []any{orgID}
	if w, wargs := whereClause(q.Where(), r.dialect); w != "" {
		cond += " AND " + w
		args = append(args, wargs...)
	}
	query := "SELECT * FROM policy_issues WHERE " + cond + " ORDER BY " + orderClause(q.Sort, "policy_issues.id", r.dialect)
	if q.Limit >= 0 {
		query += " LIMIT " + strconv.Itoa(q.Limit)
	}
	if q.Offset > 0 {
		query += " OFFSET " + strconv.Itoa(q.Offset)
	}
	var page []Issue
	if err := r.db.WithContext(ctx).Raw(query, args...).Scan(&page).Error; err != nil {
		return 0, 0, err
	}
	if err := r.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM policy_issues WHERE "+cond, args...).Scan(&count).Error; err != nil {
		return 0, 0, err
	}
	return len(page), count, nil
}

// NaiveIssueFacets runs the naive facet query: the values of field among
// the issues matching filterModel (without its own conditions), with their
// counts, over policy_issues.
func (r *Repository) NaiveIssueFacets(ctx context.Context, orgID int64, field string, filterModel json.RawMessage) ([]FacetValue, error) {
	col, filter, err := parseFacetRequest(field, filterModel)
	if err != nil {
		return nil, err
	}
	cond, args := "policy_issues.org_id = ?", []any{orgID}
	if w, wargs := whereClause(filter, r.dialect); w != "" {
		cond += " AND " + w
		args = append(args, wargs...)
	}
	return r.facetQuery(r.db.WithContext(ctx), col, "SELECT "+col.Expr+", COUNT(*) FROM policy_issues WHERE "+cond+
		" GROUP BY "+col.Expr, "COUNT(*)", args)
}
