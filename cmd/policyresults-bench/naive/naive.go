// Package naive is the baseline the load generator measures the grid
// against: what a straightforward implementation runs on the same tables
// and data. A page is one statement (WHERE + ORDER BY + LIMIT/OFFSET over
// policy_issues) and a count of every match (COUNT(*)); a facet is one
// GROUP BY over the matching issues. They use the grid's filter and sort
// translation (issuequery.Store.IssueFilterSQL, IssueOrderSQL, IssueColumnSQL) but none of its
// rollups, segments, text dictionary or hints.
package naive

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/issuequery"
)

// Page runs the naive page and count of q over the organisation's issues.
func Page(ctx context.Context, repo *repository.Repository, orgID int64, q *grid.Query) ([]model.Issue, int64, error) {
	cond, args := where(repo, orgID, q.Where())
	query := "SELECT * FROM policy_issues WHERE " + cond + " ORDER BY " + repo.Issues.IssueOrderSQL(q.Sort)
	if q.Limit >= 0 {
		query += " LIMIT " + strconv.Itoa(q.Limit)
	}
	if q.Offset > 0 {
		query += " OFFSET " + strconv.Itoa(q.Offset)
	}
	db := repo.DB().WithContext(ctx)
	var page []model.Issue
	if err := db.Raw(query, args...).Scan(&page).Error; err != nil {
		return nil, 0, err
	}
	var count int64
	if err := db.Raw("SELECT COUNT(*) FROM policy_issues WHERE "+cond, args...).Scan(&count).Error; err != nil {
		return nil, 0, err
	}
	return page, count, nil
}

// Facets runs the naive facet query of POST /issues/filters: the values of
// field among the organisation's issues matching filterModel without its
// own conditions, with their counts, most frequent first.
func Facets(ctx context.Context, repo *repository.Repository, orgID int64, field string, filterModel json.RawMessage) ([]issuequery.FacetValue, error) {
	if _, err := issuequery.IssueSchema.Column(field, "field"); err != nil {
		return nil, err
	}
	expr, _ := issuequery.IssueColumnSQL(field)
	filter, err := grid.ParseFilter(filterModel, issuequery.IssueSchema)
	if err != nil {
		return nil, err
	}
	cond, args := where(repo, orgID, grid.WithoutColumn(filter, field))
	rows, err := repo.DB().WithContext(ctx).Raw("SELECT "+expr+", COUNT(*) FROM policy_issues WHERE "+cond+
		" GROUP BY "+expr+" ORDER BY 2 DESC, 1 LIMIT "+strconv.Itoa(issuequery.MaxFacetValues), args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []issuequery.FacetValue{}
	for rows.Next() {
		var v sql.NullString
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		out = append(out, issuequery.FacetValue{Name: v.String, Count: n})
	}
	return out, rows.Err()
}

// where is the condition selecting the organisation's issues matching
// filter.
func where(repo *repository.Repository, orgID int64, filter grid.Node) (string, []any) {
	cond, args := "policy_issues.org_id = ?", []any{orgID}
	if w, wargs := repo.Issues.IssueFilterSQL(filter); w != "" {
		cond += " AND " + w
		args = append(args, wargs...)
	}
	return cond, args
}
