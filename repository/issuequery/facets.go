package issuequery

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/grid"
)

// MaxFacetValues bounds the values IssueFacets returns (the most frequent).
const MaxFacetValues = 1000

// FacetValue is one distinct value of a field and its number of issues.
type FacetValue struct {
	Name  string
	Count int64
}

// IssueFacets returns the distinct values of field (a column of IssueSchema)
// among the issues matching filter, with their counts, most frequent first
// then by value (at most MaxFacetValues). Conditions on field itself are
// left out of the filter (faceted search: a dropdown keeps showing the
// field's other values; see grid.WithoutColumn). Empty and NULL values are
// returned as "".
func (r *Store) IssueFacets(ctx context.Context, orgID int64, field string, filter grid.Node) ([]FacetValue, error) {
	if _, err := IssueSchema.Column(field, "field"); err != nil {
		return nil, err
	}
	col := issueGridColumns[field]
	filter = grid.WithoutColumn(filter, field)
	var out []FacetValue
	err := r.readTx(ctx, func(tx *gorm.DB) error {
		var err error
		if cubeCol, ok := cubeColumns[field]; ok && onCube(filter) {
			out, err = r.cubeFacets(tx, orgID, cubeCol, filter)
			return err
		}
		out, err = r.scanIssueFacets(tx, orgID, col, filter)
		return err
	})
	return out, err
}

// scanIssueFacets counts the distinct values of col among the issues
// matching filter.
func (r *Store) scanIssueFacets(db *gorm.DB, orgID int64, col Column, filter grid.Node) ([]FacetValue, error) {
	cond, args, err := r.Condition(db, orgID, filter)
	if err != nil {
		return nil, err
	}
	group := r.dialect.GroupWithoutIndex(col.expr)
	return r.facetQuery(db, col, "SELECT "+col.expr+", COUNT(*) FROM policy_issues WHERE "+cond+" GROUP BY "+group, "COUNT(*)", args)
}

// cubeFacets counts the values of a cube column among the issues matching
// a cube filter.
func (r *Store) cubeFacets(db *gorm.DB, orgID int64, col Column, filter grid.Node) ([]FacetValue, error) {
	cond, args := cubeWhere(orgID, filter, r.dialect)
	return r.facetQuery(db, col, "SELECT "+col.expr+", CAST(SUM(c.n) AS bigint) FROM issue_counts c WHERE "+cond+" GROUP BY "+col.expr+
		" HAVING SUM(c.n) > 0", "SUM(c.n)", args)
}

// facetQuery orders and runs a facet query: the most frequent values first,
// then by value (byte order on both databases).
func (r *Store) facetQuery(db *gorm.DB, col Column, query, count string, args []any) ([]FacetValue, error) {
	name := col.expr
	if col.def.Kind == grid.KindText {
		name = r.dialect.TextOrder(name)
	}
	query += " ORDER BY " + count + " DESC, " + name + orderDirection(false, col.def.Nullable) + " LIMIT " + strconv.Itoa(MaxFacetValues)
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []FacetValue{}
	for rows.Next() {
		var v any
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		value, err := scanColumnValue(col.def, v)
		if err != nil {
			return nil, err
		}
		out = append(out, FacetValue{Name: facetString(value), Count: n})
	}
	return out, rows.Err()
}

func facetString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
