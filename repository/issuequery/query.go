// Package issuequery answers the issue grid: its columns (IssueSchema, for
// the grid parser, and the SQL of each), pages of issues and of groups
// (ListIssues), the export (ExportIssues), the distinct values of a column
// (IssueFacets), the planner that keeps them fast at a million issues, and
// the translation of a grid's filter and sort into SQL through a column
// table (WhereClause, OrderClause), which other grids share.
package issuequery

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/store"
	"github.com/policyresults/policyresults/repository/texts"
)

// Store answers the issue grid's queries on one database.
type Store struct {
	store   *store.Store
	db      *gorm.DB
	dialect store.Dialect
	texts   *texts.Dictionary
}

// New returns the issue grid of s's database, whose text matches the
// dictionary t answers.
func New(s *store.Store, t *texts.Dictionary) *Store {
	return &Store{store: s, db: s.DB(), dialect: s.Dialect(), texts: t}
}

// issueGridColumns are the columns of /issues, /issues/export and
// /issues/filters, declared with the columns of policy_issues
// (issueColumnTable).
var issueGridColumns = issueGridColumnsOf(issuerows.GridColumns)

// issueGridColumnsOf is the issue grid's columns of policy_issues' columns
// by API field id, their expressions qualified with the table's name.
func issueGridColumnsOf(table []issuerows.GridColumn) Columns {
	qualified := func(name string) string {
		if name == "" {
			return ""
		}
		return "policy_issues." + name
	}
	out := Columns{}
	for _, c := range table {
		g := Column{def: c.Def, expr: qualified(c.Name), rank: qualified(c.Rank), rankMatch: qualified(c.RankMatch)}
		for _, also := range c.MatchAlso {
			g.matchAlso = append(g.matchAlso, qualified(also))
		}
		out[c.Field] = g
	}
	return out
}

// IssueSchema is the column allowlist of /issues, /issues/export and
// /issues/filters, for the grid parser.
var IssueSchema = issueGridColumns.Schema()

// TextColumn defines a text column.
func TextColumn(expr string) Column {
	return Column{expr: expr, def: grid.ColumnDef{Kind: grid.KindText, Set: true}}
}

// NumberColumn defines a number column.
func NumberColumn(expr string) Column {
	return Column{expr: expr, def: grid.ColumnDef{Kind: grid.KindNumber, Set: true}}
}

// EnumColumn defines an enum; with a rank expression, values are listed in
// rank order (rank = index).
func EnumColumn(expr, rank string, values ...string) Column {
	return Column{expr: expr, rank: rank, def: grid.ColumnDef{Kind: grid.KindEnum, Values: values, Set: true}}
}

// IssueDefaultSort is the default order of issues: severity (critical
// first), then observedAt newest first; ties break on id.
var IssueDefaultSort = []grid.SortItem{{ColID: "severity", Sort: "desc"}, {ColID: "observedAt", Sort: "desc"}}

// issueTies orders the ties of an order that ends with severity by
// observedAt in the same direction (then id): the default order's index
// then serves severity in both directions (read backwards for ascending),
// and PostgreSQL keeps no index of its own for it.
var issueTies = map[string]string{"severity": "observedAt"}

// IssueGridOptions are the grid.Parse options of POST /issues.
var IssueGridOptions = grid.Options{DefaultSort: IssueDefaultSort, Ties: issueTies}

// IssueExportOptions are the grid.Parse options of POST /issues/export: the
// whole result unless startRow/endRow are given.
var IssueExportOptions = grid.Options{DefaultSort: IssueDefaultSort, Unbounded: true, Ties: issueTies}

// IssuePage is one page of issues, or of groups when the query groups.
type IssuePage struct {
	// Issues are the rows (empty when grouping).
	Issues []model.Issue
	// Groups are the groups of the requested level: {<colId>: value,
	// "count": rows, <valueCol id>: aggregate, ...}.
	Groups []map[string]any
	// RowCount is the exact number of matching rows, or of groups.
	RowCount int64
}

// ListIssues answers a grid query over the organisation's issues: a page of
// rows in the query's order (ties broken on id), or, when q.Group is set, a
// page of groups. RowCount is exact. See plan.go for how it stays
// fast at a million issues.
func (r *Store) ListIssues(ctx context.Context, orgID int64, q *grid.Query) (*IssuePage, error) {
	if q.Group != nil {
		return r.issueGroups(ctx, orgID, q)
	}
	page := &IssuePage{Issues: []model.Issue{}, Groups: []map[string]any{}}
	err := r.readTx(ctx, func(tx *gorm.DB) error {
		page.Issues, page.RowCount = page.Issues[:0], 0
		filter := q.Where()
		onTheCube := onCube(filter)
		where, args, err := r.Condition(tx, orgID, filter)
		if err != nil {
			return err
		}
		segCol, segmented := segmentColumns[q.Sort[0].ColID]
		if segmented && onTheCube {
			segs, err := r.cubeSegments(tx, orgID, segCol.cube, filter)
			if err != nil {
				return err
			}
			return r.segmentedPage(tx, orgID, q, segs, where, args, false, page)
		}
		// Filters beyond the cube's columns (text search, entities, dates)
		// are counted first: the count is needed anyway, and when it is
		// small the page is found faster by filtering first. Under an
		// order by segments they are counted per segment, so a broad
		// filter whose matches sit among the last segments (a message of
		// low-severity policies) is read there, not through every more
		// severe issue first (PostgreSQL: SQLite plans the per-segment
		// reads of a text match poorly, and reads its ordered covering
		// index fast enough at the sizes it serves).
		total := int64(-1)
		filterFirst := false
		if !onTheCube {
			var segs []segment
			segmented = segmented && r.dialect.SegmentedPages()
			if segmented {
				if segs, err = issueSegments(tx, segCol.issue, where, args); err != nil {
					return err
				}
				total = 0
				for _, s := range segs {
					total += s.n
				}
			} else if err := tx.Raw("SELECT COUNT(*) FROM policy_issues WHERE "+where, args...).Row().Scan(&total); err != nil {
				return err
			}
			filterFirst = r.filterFirst(total)
			if segmented && !filterFirst && total > 0 && q.Limit != 0 {
				return r.segmentedPage(tx, orgID, q, segs, where, args, true, page)
			}
		}
		if onTheCube && q.Offset > 0 && q.Limit != 0 {
			// A page past the end is answered from the count: found by
			// reading, it costs a scan of the order's whole index (see
			// docs/performance.md).
			if total, err = r.cubeCount(tx, orgID, filter); err != nil {
				return err
			}
		}
		if q.Limit != 0 && total != 0 && (total < 0 || int64(q.Offset) < total) {
			if onTheCube {
				narrow, err := r.narrowCount(tx, orgID, filter)
				if err != nil {
					return err
				}
				filterFirst = r.filterFirst(narrow)
			}
			keys, offset, limit := q.Sort, q.Offset, q.Limit
			backwards := total >= 0 && limit > 0 && fromTheEnd(total, int64(offset))
			if backwards {
				keys, offset, limit = reversed(keys), int(max(0, total-int64(offset+limit))), int(min(int64(limit), total-int64(offset)))
			}
			lclause, largs := r.limitClause(limit, offset)
			query := pageSQL(r.dialect, where, OrderClause(keys, issueGridColumns, "policy_issues.id", r.dialect), lclause, filterFirst)
			issues, err := issuerows.Scan(tx, query, append(append([]any(nil), args...), largs...)...)
			if err != nil {
				return err
			}
			if backwards {
				slices.Reverse(issues)
			}
			page.Issues = append(page.Issues, issues...)
		}
		if total >= 0 {
			page.RowCount = total
			return nil
		}
		// A short, non-empty page (or a short first page) tells the total
		// without counting.
		if n := len(page.Issues); q.Limit != 0 && (q.Limit < 0 || n < q.Limit) && (n > 0 || q.Offset == 0) {
			page.RowCount = int64(q.Offset + n)
			return nil
		}
		page.RowCount, err = r.cubeCount(tx, orgID, filter)
		return err
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// fromTheEnd tells whether a page at offset among n rows is nearer the
// end: it is then read in the reverse order from the end and reversed,
// since an offset costs the rows it skips (AG Grid asks for the last block
// when the user drags the scrollbar to the bottom). The counts and the
// rows come from one snapshot, so both ways give the same rows.
func fromTheEnd(n, offset int64) bool {
	return offset > n/2
}

// reversed is an order read backwards: every key's direction flipped,
// which also mirrors where NULLs go (orderDirection: first ascending,
// last descending).
func reversed(keys []grid.SortKey) []grid.SortKey {
	out := slices.Clone(keys)
	for i := range out {
		out[i].Desc = !out[i].Desc
	}
	return out
}

// limitClause pages a query: LIMIT and OFFSET, a negative limit meaning
// every row.
func (r *Store) limitClause(limit, offset int) (string, []any) {
	switch {
	case limit >= 0:
		return " LIMIT ? OFFSET ?", []any{limit, offset}
	case offset == 0:
		return "", nil
	}
	return r.dialect.OffsetOnly(), []any{offset}
}

// ExportIssues streams the rows of q (ignoring its grouping, within its group
// keys) in q's order, one at a time, so memory stays constant whatever the
// size; each may stop the export by returning an error. The issue passed to
// each is reused for the next row.
func (r *Store) ExportIssues(ctx context.Context, orgID int64, q *grid.Query, each func(*model.Issue) error) error {
	if q.Limit == 0 {
		return nil
	}
	where, args, err := r.Condition(r.db.WithContext(ctx), orgID, q.Where())
	if err != nil {
		return err
	}
	limit, largs := r.limitClause(q.Limit, q.Offset)
	query := "SELECT " + issuerows.Select + " FROM policy_issues WHERE " + where + " ORDER BY " + OrderClause(q.Sort, issueGridColumns, "policy_issues.id", r.dialect) + limit
	if r.dialect.Arrays() {
		return r.exportPG(ctx, query, append(args, largs...), each)
	}
	return issuerows.Each(r.db.WithContext(ctx), query, append(args, largs...), each)
}

// issueGroups answers the groups of one level: grouped on the level's
// column, with a count and the value columns' aggregates, ordered by the
// group sort keys and then the group value, and paged.
func (r *Store) issueGroups(ctx context.Context, orgID int64, q *grid.Query) (*IssuePage, error) {
	g := q.Group
	col := issueGridColumns[g.ColID]
	cond, args, err := r.Condition(r.db.WithContext(ctx), orgID, q.Where())
	if err != nil {
		return nil, err
	}
	from := " FROM policy_issues WHERE " + cond + " GROUP BY " + col.expr
	sel := []string{col.expr, "COUNT(*)"}
	for _, a := range g.Aggregates {
		sel = append(sel, aggregateSQL(a, issueGridColumns, r.dialect))
	}
	valueOrder := func(desc bool) string {
		return "MIN(" + gridSortExpr(col, r.dialect) + ")" + orderDirection(desc, g.Column.Nullable)
	}
	var order []string
	byValue := false
	for _, k := range g.Sort {
		if k.Aggregate < 0 {
			order, byValue = append(order, valueOrder(k.Desc)), true
			continue
		}
		order = append(order, aggregateSQL(g.Aggregates[k.Aggregate], issueGridColumns, r.dialect)+orderDirection(k.Desc, true))
	}
	if !byValue {
		order = append(order, valueOrder(false))
	}
	query := "SELECT " + strings.Join(sel, ", ") + from + " ORDER BY " + strings.Join(order, ", ")
	pageArgs := append([]any(nil), args...)
	switch {
	case q.Limit >= 0:
		query += " LIMIT ? OFFSET ?"
		pageArgs = append(pageArgs, q.Limit, q.Offset)
	case q.Offset > 0:
		query += r.dialect.OffsetOnly()
		pageArgs = append(pageArgs, q.Offset)
	}
	page := &IssuePage{Issues: []model.Issue{}, Groups: []map[string]any{}}
	if q.Limit != 0 {
		rows, err := r.db.WithContext(ctx).Raw(query, pageArgs...).Rows()
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]any, len(sel))
			ptrs := make([]any, len(sel))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			group, err := gridGroupData(g, vals)
			if err != nil {
				return nil, err
			}
			page.Groups = append(page.Groups, group)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if n := len(page.Groups); q.Limit != 0 && (q.Limit < 0 || n < q.Limit) && (n > 0 || q.Offset == 0) {
		page.RowCount = int64(q.Offset + n)
		return page, nil
	}
	if err := r.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM (SELECT 1"+from+") g", args...).Row().Scan(&page.RowCount); err != nil {
		return nil, err
	}
	return page, nil
}

// gridGroupData builds one group's object from its row: group value, count,
// aggregates.
func gridGroupData(g *grid.Group, vals []any) (map[string]any, error) {
	value, err := scanColumnValue(g.Column, vals[0])
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", g.ColID, err)
	}
	count, err := scanInt(vals[1])
	if err != nil {
		return nil, fmt.Errorf("group %s count: %w", g.ColID, err)
	}
	out := map[string]any{g.ColID: value, "count": count}
	for i, a := range g.Aggregates {
		v, err := aggregateValue(a, vals[2+i])
		if err != nil {
			return nil, fmt.Errorf("aggregate %s(%s): %w", a.Func, a.ColID, err)
		}
		out[a.Key] = v
	}
	return out, nil
}

func aggregateValue(a grid.Aggregate, v any) (any, error) {
	if a.Func == grid.AggCount {
		return scanInt(v)
	}
	if v == nil || issueGridColumns[a.ColID].rank == "" {
		return scanColumnValue(a.Column, v)
	}
	rank, err := scanInt(v)
	if err != nil {
		return nil, err
	}
	if rank < 0 || rank >= int64(len(a.Column.Values)) {
		return nil, fmt.Errorf("rank %d out of range", rank)
	}
	return a.Column.Values[rank], nil
}
