package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/grid"
)

// IssueColumns is the column allowlist of /issues, /issues/export and
// /issues/filters: every scalar field of the API's PolicyIssue plus
// assignedTo, which matches the assignee's login or email and sorts, groups
// and facets by login. Enums compare exactly and sort by meaning: severity
// by severity_rank (unset < low < medium < high < critical), status by
// status_rank (open, in_progress, by_design, ignored, fixed), priority p0
// before p4.
var IssueColumns = grid.Schema{
	"id":               textColumn("policy_issues.id"),
	"entityType":       enumColumn("policy_issues.entity_type", "", "stack", "insights-account"),
	"entityProject":    textColumn("policy_issues.entity_project"),
	"entityId":         textColumn("policy_issues.entity_id"),
	"stackVersion":     {Expr: "policy_issues.stack_version", Kind: grid.KindNumber, Set: true, Nullable: true},
	"resourceVersion":  {Expr: "policy_issues.resource_version", Kind: grid.KindNumber, Set: true, Nullable: true},
	"policyPack":       textColumn("policy_issues.policy_pack"),
	"policyPackTag":    textColumn("policy_issues.policy_pack_tag"),
	"policyName":       textColumn("policy_issues.policy_name"),
	"resourceURN":      textColumn("policy_issues.resource_urn"),
	"resourceProvider": textColumn("policy_issues.resource_provider"),
	"resourceType":     textColumn("policy_issues.resource_type"),
	"resourceName":     textColumn("policy_issues.resource_name"),
	"message":          textColumn("policy_issues.message"),
	"observedAt":       {Expr: "policy_issues.observed_at", Kind: grid.KindDate, Set: true},
	"lastModified":     {Expr: "policy_issues.last_modified", Kind: grid.KindDate, Set: true},
	"level":            textColumn("policy_issues.level"),
	"severity":         rankedEnumColumn("policy_issues.severity", "policy_issues.severity_rank", "", "low", "medium", "high", "critical"),
	"status":           enumColumn("policy_issues.status", "policy_issues.status_rank", StatusOpen, StatusInProgress, StatusByDesign, StatusIgnored, StatusFixed),
	"kind":             enumColumn("policy_issues.kind", "", ModeAudit, ModePreventative),
	"priority":         enumColumn("policy_issues.priority", "", "p0", "p1", "p2", "p3", "p4"),
	"policyGroupName":  textColumn("policy_issues.policy_group_name"),
	"policyGroupType":  enumColumn("policy_issues.policy_group_type", "", ModeAudit, ModePreventative),
	"assignedTo": {Expr: "policy_issues.assignee_login", MatchAlso: []string{"policy_issues.assignee_email"},
		Kind: grid.KindText, Set: true},
}

func textColumn(expr string) grid.ColumnDef {
	return grid.ColumnDef{Expr: expr, Kind: grid.KindText, Set: true}
}

// enumColumn defines an enum; with a rank expression, values are listed in
// rank order (rank = index).
func enumColumn(expr, rank string, values ...string) grid.ColumnDef {
	return grid.ColumnDef{Expr: expr, Kind: grid.KindEnum, Values: values, RankExpr: rank, Set: true}
}

// rankedEnumColumn is an enum whose set conditions match its rank: the
// sort indexes hold severity_rank but not severity, so a severity filter
// read through them stays index-only instead of a scan and sort of the
// matches (see BENCHMARKS.md, What makes it fast). See rankCondition for
// how the ranks are written.
func rankedEnumColumn(expr, rank string, values ...string) grid.ColumnDef {
	c := enumColumn(expr, rank, values...)
	c.RankMatch = rank
	return c
}

// emptySet writes a set condition without values (nothing is in it,
// everything is not) and tells whether it did.
func (w *sqlWriter) emptySet(c *grid.Condition) bool {
	if len(c.Values) > 0 {
		return false
	}
	if c.Op == grid.OpIn {
		w.sb.WriteString("1=0")
	} else {
		w.sb.WriteString("1=1")
	}
	return true
}

// rankCondition writes a set condition on a RankMatch column as equalities
// on the rank joined by OR (AND of inequalities when negative): an IN list
// on the default order's first key would be a PostgreSQL index condition
// that costs the scan its order (a page sorted 153,000 rows instead of
// reading them in order), whereas an OR is tested on each index entry;
// each equality keeps its statistics (an expression such as rank + 0
// would not, and misled the planner elsewhere).
func (w *sqlWriter) rankCondition(c *grid.Condition) {
	if w.emptySet(c) {
		return
	}
	op, sep := " = ", " OR "
	if c.Op == grid.OpNotIn {
		op, sep = " <> ", " AND "
	}
	w.sb.WriteString("(")
	for i, v := range c.Values {
		if i > 0 {
			w.sb.WriteString(sep)
		}
		w.sb.WriteString(c.Column.RankMatch + op + w.bind(slices.Index(c.Column.Values, v.(string))))
	}
	w.sb.WriteString(")")
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

// MaxFacetValues bounds the values IssueFacets returns (the most frequent).
const MaxFacetValues = 1000

// IssuePage is one page of issues, or of groups when the query groups.
type IssuePage struct {
	// Issues are the rows (empty when grouping).
	Issues []Issue
	// Groups are the groups of the requested level: {<colId>: value,
	// "count": rows, <valueCol id>: aggregate, ...}.
	Groups []map[string]any
	// RowCount is the exact number of matching rows, or of groups.
	RowCount int64
}

// FacetValue is one distinct value of a field and its number of issues.
type FacetValue struct {
	Name  string
	Count int64
}

// ListIssues answers a grid query over the organisation's issues: a page of
// rows in the query's order (ties broken on id), or, when q.Group is set, a
// page of groups. RowCount is exact. See issues_plan.go for how it stays
// fast at a million issues.
func (r *Repository) ListIssues(ctx context.Context, orgID int64, q *grid.Query) (*IssuePage, error) {
	if q.Group != nil {
		return r.issueGroups(ctx, orgID, q)
	}
	page := &IssuePage{Issues: []Issue{}, Groups: []map[string]any{}}
	err := r.readTx(ctx, func(tx *gorm.DB) error {
		page.Issues, page.RowCount = page.Issues[:0], 0
		cubeFilter, onTheCube := onCube(q.Where())
		where, args, err := r.issueCondition(tx, orgID, q.Where())
		if err != nil {
			return err
		}
		segCol, segmented := segmentColumns[q.Sort[0].ColID]
		if segmented && onTheCube {
			segs, err := r.cubeSegments(tx, orgID, segCol.cube, cubeFilter)
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
			// BENCHMARKS.md, What makes it fast).
			if total, err = r.cubeCount(tx, orgID, cubeFilter); err != nil {
				return err
			}
		}
		if q.Limit != 0 && total != 0 && (total < 0 || int64(q.Offset) < total) {
			if onTheCube {
				narrow, err := r.narrowCount(tx, orgID, q.Where())
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
			query := pageSQL(r.dialect, where, orderClause(keys, "policy_issues.id", r.dialect), lclause, filterFirst)
			issues, err := scanIssues(tx, query, append(append([]any(nil), args...), largs...)...)
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
		page.RowCount, err = r.cubeCount(tx, orgID, cubeFilter)
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
func (r *Repository) limitClause(limit, offset int) (string, []any) {
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
func (r *Repository) ExportIssues(ctx context.Context, orgID int64, q *grid.Query, each func(*Issue) error) error {
	if q.Limit == 0 {
		return nil
	}
	where, args, err := r.issueCondition(r.db.WithContext(ctx), orgID, q.Where())
	if err != nil {
		return err
	}
	limit, largs := r.limitClause(q.Limit, q.Offset)
	query := "SELECT " + issueSelect + " FROM policy_issues WHERE " + where + " ORDER BY " + orderClause(q.Sort, "policy_issues.id", r.dialect) + limit
	if r.dialect.Arrays() {
		return r.exportPG(ctx, query, append(args, largs...), each)
	}
	return eachIssue(r.db.WithContext(ctx), query, append(args, largs...), each)
}

// IssueFacets returns the distinct values of field among the issues matching
// filterModel, with their counts, most frequent first then by value (at most
// MaxFacetValues). Conditions on field itself are left out of the filter
// (faceted search: a dropdown keeps showing the field's other values; see
// grid.WithoutColumn). Empty and NULL values are returned as "".
func (r *Repository) IssueFacets(ctx context.Context, orgID int64, field string, filterModel json.RawMessage) ([]FacetValue, error) {
	col, filter, err := parseFacetRequest(field, filterModel)
	if err != nil {
		return nil, err
	}
	var out []FacetValue
	err = r.readTx(ctx, func(tx *gorm.DB) error {
		var err error
		if cubeCol, ok := cubeColumns[field]; ok {
			if cubeFilter, ok := onCube(filter); ok {
				out, err = r.cubeFacets(tx, orgID, cubeCol, cubeFilter)
				return err
			}
		}
		out, err = r.scanIssueFacets(tx, orgID, col, filter)
		return err
	})
	return out, err
}

// parseFacetRequest checks a facet's field against the issue columns and
// parses its filter, leaving out the field's own conditions.
func parseFacetRequest(field string, filterModel json.RawMessage) (grid.ColumnDef, grid.Node, error) {
	col, err := IssueColumns.Column(field, "field")
	if err != nil {
		return grid.ColumnDef{}, nil, err
	}
	filter, err := grid.ParseFilter(filterModel, IssueColumns)
	if err != nil {
		return grid.ColumnDef{}, nil, err
	}
	return col, grid.WithoutColumn(filter, field), nil
}

// issueGroups answers the groups of one level: grouped on the level's
// column, with a count and the value columns' aggregates, ordered by the
// group sort keys and then the group value, and paged.
func (r *Repository) issueGroups(ctx context.Context, orgID int64, q *grid.Query) (*IssuePage, error) {
	g := q.Group
	cond, args, err := r.issueCondition(r.db.WithContext(ctx), orgID, q.Where())
	if err != nil {
		return nil, err
	}
	from := " FROM policy_issues WHERE " + cond + " GROUP BY " + g.Column.Expr
	sel := []string{g.Column.Expr, "COUNT(*)"}
	for _, a := range g.Aggregates {
		sel = append(sel, aggregateSQL(a, r.dialect))
	}
	valueOrder := func(desc bool) string {
		return "MIN(" + gridSortExpr(g.Column, r.dialect) + ")" + orderDirection(desc, g.Column.Nullable)
	}
	var order []string
	byValue := false
	for _, k := range g.Sort {
		if k.Aggregate < 0 {
			order, byValue = append(order, valueOrder(k.Desc)), true
			continue
		}
		order = append(order, aggregateSQL(g.Aggregates[k.Aggregate], r.dialect)+orderDirection(k.Desc, true))
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
	page := &IssuePage{Issues: []Issue{}, Groups: []map[string]any{}}
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

func aggregateSQL(a grid.Aggregate, d Dialect) string {
	if a.Func == grid.AggCount {
		return "COUNT(" + a.Column.Expr + ")"
	}
	return strings.ToUpper(string(a.Func)) + "(" + gridSortExpr(a.Column, d) + ")"
}

func aggregateValue(a grid.Aggregate, v any) (any, error) {
	if a.Func == grid.AggCount {
		return scanInt(v)
	}
	if v == nil || a.Column.RankExpr == "" {
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

// scanIssueFacets counts the distinct values of col among the issues
// matching filter.
func (r *Repository) scanIssueFacets(db *gorm.DB, orgID int64, col grid.ColumnDef, filter grid.Node) ([]FacetValue, error) {
	cond, args, err := r.issueCondition(db, orgID, filter)
	if err != nil {
		return nil, err
	}
	group := r.dialect.GroupWithoutIndex(col.Expr)
	return r.facetQuery(db, col, "SELECT "+col.Expr+", COUNT(*) FROM policy_issues WHERE "+cond+" GROUP BY "+group, "COUNT(*)", args)
}

// cubeFacets counts the values of a cube column among the issues matching
// a cube filter.
func (r *Repository) cubeFacets(db *gorm.DB, orgID int64, col grid.ColumnDef, filter grid.Node) ([]FacetValue, error) {
	cond, args := cubeWhere(orgID, filter, r.dialect)
	return r.facetQuery(db, col, "SELECT "+col.Expr+", CAST(SUM(c.n) AS bigint) FROM issue_counts c WHERE "+cond+" GROUP BY "+col.Expr+
		" HAVING SUM(c.n) > 0", "SUM(c.n)", args)
}

// facetQuery orders and runs a facet query: the most frequent values first,
// then by value (byte order on both databases).
func (r *Repository) facetQuery(db *gorm.DB, col grid.ColumnDef, query, count string, args []any) ([]FacetValue, error) {
	name := col.Expr
	if col.Kind == grid.KindText {
		name = r.dialect.TextOrder(name)
	}
	query += " ORDER BY " + count + " DESC, " + name + orderDirection(false, col.Nullable) + " LIMIT " + strconv.Itoa(MaxFacetValues)
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
		value, err := scanColumnValue(col, v)
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

// scanColumnValue converts a scanned value to the Go type of the column's kind:
// string, int64 or float64, time.Time (UTC), bool; NULL stays nil.
func scanColumnValue(col grid.ColumnDef, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch col.Kind {
	case grid.KindText, grid.KindEnum:
		switch v := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
		return fmt.Sprint(v), nil
	case grid.KindNumber:
		return scanNumber(v)
	case grid.KindDate:
		return scanTime(v)
	case grid.KindBool:
		switch v := v.(type) {
		case bool:
			return v, nil
		case int64:
			return v != 0, nil
		}
	}
	return nil, fmt.Errorf("unexpected value %T for a %s column", v, col.Kind)
}

func scanInt(v any) (int64, error) {
	n, err := scanNumber(v)
	if err != nil {
		return 0, err
	}
	switch n := n.(type) {
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("unexpected number %v", n)
}

func scanNumber(v any) (any, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int:
		return int64(v), nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), nil
		}
		return v, nil
	case []byte:
		return scanNumber(string(v))
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	}
	return nil, fmt.Errorf("unexpected number type %T", v)
}

// sqliteTimeLayouts are the ways SQLite hands back a time stored as text
// (aggregates lose the column's declared type, so the driver does not parse
// them).
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

func scanTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case []byte:
		return scanTime(string(v))
	case string:
		for _, l := range sqliteTimeLayouts {
			if t, err := time.Parse(l, v); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not a time", v)
	}
	return time.Time{}, fmt.Errorf("unexpected time type %T", v)
}

// whereClause translates a filter tree to an SQL condition with bound
// values. Only the schema's expressions reach the SQL text. An empty string
// means no condition.
func whereClause(n grid.Node, d Dialect) (string, []any) {
	return issueFilter(0, n, d, nil)
}

// issueFilter is whereClause for a filter on the issues of one
// organisation (orgID 0: none): text conditions on resource names, URNs
// and messages select their issues through the text dictionary
// (texts.go), with the sets of texts where given; equals conditions on the
// cube's text columns match the exact values where given (exactNames).
func issueFilter(orgID int64, n grid.Node, d Dialect, facts *filterFacts) (string, []any) {
	if n == nil {
		return "", nil
	}
	if facts == nil {
		facts = &filterFacts{}
	}
	w := &sqlWriter{dialect: d, textsOf: orgID, texts: facts.texts, exact: facts.exactNames}
	w.node(n)
	return w.sb.String(), w.args
}

type sqlWriter struct {
	dialect Dialect
	sb      strings.Builder
	args    []any
	// textsOf is the organisation whose text dictionary answers text
	// matches; 0 matches the columns themselves.
	textsOf int64
	// texts holds the dictionary ids matching parts, where they were read
	// before the query was written (textSets).
	texts textSets
	// exact holds the values equals conditions match exactly, where they
	// were read before the query was written (exactNames).
	exact map[*grid.Condition][][]string
}

func (w *sqlWriter) node(n grid.Node) {
	switch n := n.(type) {
	case *grid.And:
		w.join(n.Children, " AND ", "1=1")
	case *grid.Or:
		w.join(n.Children, " OR ", "1=0")
	case *grid.Not:
		w.sb.WriteString("NOT (")
		w.node(n.Child)
		w.sb.WriteString(")")
	case *grid.Condition:
		w.condition(n)
	default:
		w.sb.WriteString("1=1")
	}
}

func (w *sqlWriter) join(children []grid.Node, sep, empty string) {
	if len(children) == 0 {
		w.sb.WriteString(empty)
		return
	}
	w.sb.WriteString("(")
	for i, c := range children {
		if i > 0 {
			w.sb.WriteString(sep)
		}
		w.node(c)
	}
	w.sb.WriteString(")")
}

// condition writes one condition; on a column with several expressions a
// positive operator matches when any expression does, a negative one when
// all do.
func (w *sqlWriter) condition(c *grid.Condition) {
	if values, ok := w.exact[c]; ok {
		if exprs := c.Column.Exprs(); len(exprs) > 1 {
			w.tuples(exprs, values)
			return
		}
		in := *c
		in.Op, in.Values = grid.OpIn, make([]any, len(values))
		for i, v := range values {
			in.Values[i] = v[0]
		}
		c = &in
	}
	if c.Column.RankMatch != "" && (c.Op == grid.OpIn || c.Op == grid.OpNotIn) {
		w.rankCondition(c)
		return
	}
	exprs := c.Column.Exprs()
	if len(exprs) == 1 {
		w.single(exprs[0], c)
		return
	}
	sep := " OR "
	if c.Op.Negative() {
		sep = " AND "
	}
	w.sb.WriteString("(")
	for i, e := range exprs {
		if i > 0 {
			w.sb.WriteString(sep)
		}
		w.single(e, c)
	}
	w.sb.WriteString(")")
}

// tuples writes a match of exprs to any of the tuples of values (none:
// nothing matches).
func (w *sqlWriter) tuples(exprs []string, tuples [][]string) {
	if len(tuples) == 0 {
		w.sb.WriteString("1=0")
		return
	}
	w.sb.WriteString("(")
	for i, t := range tuples {
		if i > 0 {
			w.sb.WriteString(" OR ")
		}
		w.sb.WriteString("(")
		for j, e := range exprs {
			if j > 0 {
				w.sb.WriteString(" AND ")
			}
			w.sb.WriteString(e + " = " + w.bind(t[j]))
		}
		w.sb.WriteString(")")
	}
	w.sb.WriteString(")")
}

// likeEscaper escapes LIKE wildcards for ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (w *sqlWriter) single(e string, c *grid.Condition) {
	textual := c.Column.Kind == grid.KindText || c.Column.Kind == grid.KindEnum
	nullOr := func(s string) string {
		if c.Column.Nullable {
			return "(" + e + " IS NULL OR " + s + ")"
		}
		return s
	}
	switch c.Op {
	case grid.OpBlank:
		if textual {
			w.sb.WriteString("(" + e + " IS NULL OR " + e + " = '')")
		} else {
			w.sb.WriteString(e + " IS NULL")
		}
		return
	case grid.OpNotBlank:
		if textual {
			w.sb.WriteString("(" + e + " IS NOT NULL AND " + e + " <> '')")
		} else {
			w.sb.WriteString(e + " IS NOT NULL")
		}
		return
	case grid.OpIn, grid.OpNotIn:
		if w.emptySet(c) {
			return
		}
		marks := make([]string, len(c.Values))
		for i, v := range c.Values {
			marks[i] = w.bind(v)
		}
		if len(marks) == 1 {
			if c.Op == grid.OpIn {
				w.sb.WriteString(e + " = " + marks[0])
			} else {
				w.sb.WriteString(nullOr(e + " <> " + marks[0]))
			}
			return
		}
		list := "(" + strings.Join(marks, ", ") + ")"
		if c.Op == grid.OpIn {
			w.sb.WriteString(e + " IN " + list)
		} else {
			w.sb.WriteString(nullOr(e + " NOT IN " + list))
		}
		return
	}
	if c.Column.Kind == grid.KindText {
		s, _ := c.Values[0].(string)
		if alts, ok := textAlternatives(e, c.Op, s); ok && w.textsOf != 0 {
			w.textMatch(alts, c.Op == grid.OpNotContains || c.Op == grid.OpNotEqual)
			return
		}
		switch c.Op {
		case grid.OpEquals:
			w.sb.WriteString("lower(" + e + ") = lower(" + w.bind(s) + ")")
			return
		case grid.OpNotEqual:
			w.sb.WriteString(nullOr("lower(" + e + ") <> lower(" + w.bind(s) + ")"))
			return
		}
		pattern, ok := likePattern(c.Op, s)
		switch {
		case !ok:
			w.sb.WriteString("1=0")
		case c.Op == grid.OpNotContains:
			w.sb.WriteString(nullOr("lower(" + e + ") NOT LIKE lower(" + w.bind(pattern) + `) ESCAPE '\'`))
		default:
			w.sb.WriteString("lower(" + e + ") LIKE lower(" + w.bind(pattern) + `) ESCAPE '\'`)
		}
		return
	}
	switch c.Op {
	case grid.OpInRange:
		w.sb.WriteString("(" + e + " >= " + w.bind(c.Values[0]) + " AND " + e + " <= " + w.bind(c.Values[1]) + ")")
		return
	}
	ops := map[grid.Op]string{
		grid.OpEquals: "=", grid.OpNotEqual: "<>", grid.OpLessThan: "<", grid.OpLessThanOrEqual: "<=",
		grid.OpGreaterThan: ">", grid.OpGreaterThanOrEqual: ">=",
	}
	op, ok := ops[c.Op]
	if !ok || len(c.Values) == 0 {
		w.sb.WriteString("1=0")
		return
	}
	w.sb.WriteString(e + " " + op + " " + w.bind(c.Values[0]))
}

// likePattern is the LIKE pattern of a text match operator.
func likePattern(op grid.Op, s string) (string, bool) {
	switch op {
	case grid.OpContains, grid.OpNotContains:
		return "%" + likeEscaper.Replace(s) + "%", true
	case grid.OpStartsWith:
		return likeEscaper.Replace(s) + "%", true
	case grid.OpEndsWith:
		return "%" + likeEscaper.Replace(s), true
	}
	return "", false
}

// textMatch writes a text match answered by the dictionary: any of the
// alternatives, each all of its parts, a part being the issues whose
// reference is one of the values matching its pattern. On PostgreSQL the
// values are collected first (an init plan) and looked up as an index
// condition, which a count over many issues reads from the reference index
// alone.
func (w *sqlWriter) textMatch(alts [][]textPart, negate bool) {
	if negate {
		w.sb.WriteString("NOT ")
	}
	w.sb.WriteString("(")
	written := 0
	for _, parts := range alts {
		if w.knownEmpty(parts) {
			// A part no value matches: the alternative never holds, and
			// leaving it out keeps the rest usable by the indexes.
			continue
		}
		if written > 0 {
			w.sb.WriteString(" OR ")
		}
		written++
		w.sb.WriteString("(")
		for j, p := range parts {
			if j > 0 {
				w.sb.WriteString(" AND ")
			}
			ref := textRefColumns[p.field]
			if ids, ok := w.texts[p]; ok {
				w.sb.WriteString(w.dialect.IDsIn(ref, ids, w.bind))
				continue
			}
			values := "SELECT t.id FROM issue_texts t WHERE t.org_id = " + w.bind(w.textsOf) + " AND t.field = '" + p.field +
				"' AND lower(t.value) LIKE lower(" + w.bind(p.pattern) + `) ESCAPE '\'`
			w.sb.WriteString(w.dialect.InSubquery(ref, values))
		}
		w.sb.WriteString(")")
	}
	if written == 0 {
		w.sb.WriteString("1=0")
	}
	w.sb.WriteString(")")
}

// knownEmpty tells whether a part of an alternative is known to match no
// value.
func (w *sqlWriter) knownEmpty(parts []textPart) bool {
	for _, p := range parts {
		if ids, ok := w.texts[p]; ok && len(ids) == 0 {
			return true
		}
	}
	return false
}

// bind adds a value and returns its placeholder. Times are bound in UTC (how
// SQLite stores and compares them as text); decimals are cast so PostgreSQL
// compares them with integer columns instead of failing to convert.
func (w *sqlWriter) bind(v any) string {
	switch t := v.(type) {
	case time.Time:
		v = t.UTC()
	case float64:
		w.args = append(w.args, t)
		return "CAST(? AS double precision)"
	}
	w.args = append(w.args, v)
	return "?"
}

// gridSortExpr is what a column sorts (and min/max aggregates) by: its rank for
// ranked enums, byte order for text on PostgreSQL (as SQLite sorts, whatever
// the database's collation), else the expression.
func gridSortExpr(col grid.ColumnDef, d Dialect) string {
	switch {
	case col.RankExpr != "":
		return col.RankExpr
	case col.Kind == grid.KindText:
		return d.TextOrder(col.Expr)
	}
	return col.Expr
}

// orderDirection writes ASC/DESC with NULLs ordered as the smallest values on
// both databases.
func orderDirection(desc, nullable bool) string {
	switch {
	case desc && nullable:
		return " DESC NULLS LAST"
	case desc:
		return " DESC"
	case nullable:
		return " ASC NULLS FIRST"
	}
	return " ASC"
}

// orderClause writes the ORDER BY list of keys followed by the tie-breaker
// column (in the direction of the last key, so an index ending with it serves
// the whole order).
func orderClause(keys []grid.SortKey, tie string, d Dialect) string {
	desc := true
	if len(keys) > 0 {
		desc = keys[len(keys)-1].Desc
	}
	return orderClauseTie(keys, tie, d, desc)
}

// orderClauseTie is orderClause with the tie-breaker's direction given:
// the rest of an order whose first keys are fixed keeps the whole order's
// tie-breaker.
func orderClauseTie(keys []grid.SortKey, tie string, d Dialect, tieDesc bool) string {
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, gridSortExpr(k.Column, d)+orderDirection(k.Desc, k.Column.Nullable))
		if k.Column.Expr == tie {
			return strings.Join(parts, ", ")
		}
	}
	return strings.Join(append(parts, tie+orderDirection(tieDesc, false)), ", ")
}
