package issuequery

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/store"
	"github.com/policyresults/policyresults/repository/texts"
)

// How a grid query runs at a million issues (see docs/performance.md):
//
//   - Counts and facets read the issue cube (issue_counts) when every
//     column the filter and the facet name is one of the cube's: the same
//     filter, translated onto the cube's columns, selects the cube cells of
//     exactly the matching issues, and SUM(n) is their number.
//   - Pages sorted first by severity (the default order) or priority are
//     read one value of that column at a time ("segments"): the cube tells
//     how many matching issues each value has, so the page's rows are found
//     by an equality on the value and the remaining sort keys, which an
//     index serves in order, at an offset within the value instead of from
//     the top. Filters correlated with the sort (a low-severity policy in
//     the default order) no longer scan every more severe issue first.
//   - Counts, segments and rows of one request read one snapshot (a
//     read-only repeatable-read transaction on PostgreSQL, a read
//     transaction on SQLite), so they agree with each other under
//     concurrent ingest.

// cubeColumns are the columns of issueGridColumns the cube holds, with their
// expressions on issue_counts (alias c).
var cubeColumns = func() Columns {
	cols := Columns{}
	onCube := func(e string) string { return "c." + strings.TrimPrefix(e, "policy_issues.") }
	for id, col := range issueGridColumns {
		expr, ok := strings.CutPrefix(col.expr, "policy_issues.")
		if !ok {
			continue
		}
		switch expr {
		case "entity_type", "policy_pack", "policy_pack_tag", "policy_name", "resource_provider", "resource_type",
			"level", "severity", "status", "kind", "priority", "assignee_login", "policy_group_name", "policy_group_type":
		default:
			continue
		}
		c := col
		c.expr = "c." + expr
		if c.rank != "" {
			c.rank = onCube(c.rank)
		}
		if c.rankMatch != "" {
			c.rankMatch = c.rank
		}
		c.matchAlso = nil
		for _, e := range col.matchAlso {
			c.matchAlso = append(c.matchAlso, onCube(e))
		}
		cols[id] = c
	}
	return cols
}()

// onCube tells whether every column of the filter is one of the cube's, so
// that the filter selects cube cells too (cubeWhere).
func onCube(n grid.Node) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *grid.And:
		for _, c := range n.Children {
			if !onCube(c) {
				return false
			}
		}
		return true
	case *grid.Or:
		for _, c := range n.Children {
			if !onCube(c) {
				return false
			}
		}
		return true
	case *grid.Not:
		return onCube(n.Child)
	case *grid.Condition:
		_, ok := cubeColumns[n.ColID]
		return ok
	}
	return false
}

// cubeWhere is the condition selecting the organisation's cube cells that
// match filter (whose columns are all on the cube: onCube).
func cubeWhere(orgID int64, filter grid.Node, d store.Dialect) (string, []any) {
	cond, args := "c.org_id = ? AND c.n <> 0", []any{orgID}
	if w, wargs := WhereClause(filter, cubeColumns, d); w != "" {
		cond += " AND " + w
		args = append(args, wargs...)
	}
	return cond, args
}

// issueWhere is the condition selecting the organisation's issues matching
// filter, with implied conditions that let an index serve it: an
// entityProject equals or set condition at the top level also restricts
// entity_ref to the entities of those projects (an issue's entity_project
// is always its entity's project), and a narrow entity type (see
// entityTypeNarrow) to the entities of that type, so the unique key's
// (org_id, entity_ref) prefix finds the rows. An equals on a text column
// of the cube is written as the values it matches where given
// (exactNames), text matches as the sets of texts where given (textSets),
// subqueries on the dictionary otherwise. facts may be nil.
func issueWhere(orgID int64, filter grid.Node, d store.Dialect, facts *filterFacts) (string, []any) {
	if facts == nil {
		facts = &filterFacts{}
	}
	cond, args := "policy_issues.org_id = ?", []any{orgID}
	if w, wargs := issueFilter(orgID, filter, d, facts); w != "" {
		cond += " AND " + w
		args = append(args, wargs...)
	}
	for _, c := range topConditions(filter) {
		if c == facts.narrowType {
			entityType := model.EntityStack
			if c.Values[0] != "stack" {
				entityType = model.EntityAccount
			}
			cond += " AND policy_issues.entity_ref IN (SELECT e.id FROM entities e WHERE e.org_id = ? AND e.type = ?)"
			args = append(args, orgID, entityType)
			continue
		}
		if c.ColID != "entityProject" {
			continue
		}
		switch {
		case c.Op == grid.OpEquals && len(c.Values) == 1:
			cond += " AND policy_issues.entity_ref IN (SELECT e.id FROM entities e WHERE e.org_id = ? AND lower(e.project) = lower(?))"
			args = append(args, orgID, c.Values[0])
		case c.Op == grid.OpIn && len(c.Values) > 0:
			cond += " AND policy_issues.entity_ref IN (SELECT e.id FROM entities e WHERE e.org_id = ? AND e.project IN (" +
				strings.TrimSuffix(strings.Repeat("?, ", len(c.Values)), ", ") + "))"
			args = append(append(args, orgID), c.Values...)
		}
	}
	return cond, args
}

// filterFacts are what Condition reads before a filter's SQL is
// written.
type filterFacts struct {
	texts      texts.Sets
	narrowType *grid.Condition
	// exactNames are, for equals conditions on the cube's text columns,
	// the values of the cube they match: one per row for a column of one
	// expression, the values of every expression (expr, then matchAlso)
	// for a column of several.
	exactNames map[*grid.Condition][][]string
}

// exactNames reads, for each equals condition of the filter on a text
// column of the cube (policyPack, policyName, policyGroupName, level,
// assignedTo...), the values of the organisation's issues it matches
// (case-insensitively) from the cube. Written as an exact set, such a
// condition is estimated from the column's statistics (PostgreSQL has none
// for lower(col) without an index on it, and guessed that a pack holding
// 30% of the issues held 0.5%: a scan and sort of them all for a deep
// page), answered by the column's index where it has one
// (policy_issues_policy_name, policy_issues_group, policy_issues_assignee),
// and compared without lower() on each row an ordered read passes. On
// SQLite, whose sort indexes carry these columns, the exact value is
// compared on the index entries an ordered read passes (instead of reading
// the policy's rows through lower(policy_name) and sorting them; see
// docs/performance.md); assignedTo stays on SQLite's
// lower() indexes, since a member's issues are few. assignedTo, which
// matches the login or the email, is written as the (login, email) pairs
// of the cube that match: exact even for issues triaged before a member
// changed email. A condition no value matches gets an empty set (no issue
// matches it).
func (r *Store) exactNames(db *gorm.DB, orgID int64, filter grid.Node) (map[*grid.Condition][][]string, error) {
	var out map[*grid.Condition][][]string
	var err error
	grid.Walk(filter, func(c *grid.Condition) {
		cubeCol, ok := cubeColumns[c.ColID]
		if err != nil || !ok || c.Column.Kind != grid.KindText || c.Op != grid.OpEquals || len(c.Values) != 1 {
			return
		}
		if !r.dialect.ExactNames(len(cubeCol.matchAlso) > 0) {
			return
		}
		exprs := cubeCol.matched(c)
		match := make([]string, len(exprs))
		args := []any{orgID}
		for i, e := range exprs {
			match[i] = "lower(" + e + ") = lower(?)"
			args = append(args, c.Values[0])
		}
		var rows *sql.Rows
		rows, err = db.Raw("SELECT DISTINCT "+strings.Join(exprs, ", ")+" FROM issue_counts c WHERE c.org_id = ? AND ("+
			strings.Join(match, " OR ")+") AND c.n > 0", args...).Rows()
		if err != nil {
			return
		}
		defer rows.Close()
		values := [][]string{}
		for rows.Next() {
			row := make([]string, len(exprs))
			dest := make([]any, len(exprs))
			for i := range row {
				dest[i] = &row[i]
			}
			if err = rows.Scan(dest...); err != nil {
				return
			}
			values = append(values, row)
		}
		if err = rows.Err(); err != nil {
			return
		}
		if out == nil {
			out = map[*grid.Condition][][]string{}
		}
		out[c] = values
	})
	return out, err
}

// entityTypeNarrow returns the filter's top-level condition on one entity
// type when that type has at most NarrowLimit issues, else nil. Restricted
// to the type's entities, such a filter's issues are found through the
// entities (the planner then reads 20 accounts' issues sorted by priority
// through the entities instead of the priority index, where they are a
// few among 200,000); the same restriction on the bulk of the issues
// (every stack) would only add a check to each row of an ordered read
// (see docs/performance.md).
func (r *Store) entityTypeNarrow(db *gorm.DB, orgID int64, filter grid.Node) (*grid.Condition, error) {
	for _, c := range topConditions(filter) {
		if c.ColID != "entityType" || (c.Op != grid.OpIn && c.Op != grid.OpEquals) || len(c.Values) != 1 {
			continue
		}
		if !onCube(c) {
			return nil, nil
		}
		n, err := r.cubeCount(db, orgID, c)
		if err != nil || n > NarrowLimit {
			return nil, err
		}
		return c, nil
	}
	return nil, nil
}

// topConditions lists the conditions every matching row satisfies: those
// joined by AND at the top of the tree.
func topConditions(n grid.Node) []*grid.Condition {
	switch n := n.(type) {
	case *grid.And:
		var out []*grid.Condition
		for _, c := range n.Children {
			out = append(out, topConditions(c)...)
		}
		return out
	case *grid.Condition:
		return []*grid.Condition{n}
	}
	return nil
}

// readTx runs fn in a read-only transaction with one snapshot (see
// store.Store.ReadTx).
func (r *Store) readTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return r.store.ReadTx(ctx, fn)
}

// pageSQL selects a page of issues: the ids are found first (an index-only
// scan where the index holds the sort and filter columns, which makes deep
// offsets cheap), then their rows. cond may reference policy_issues. With
// filterFirst the matching rows are found before they are sorted (see
// narrowCount).
func pageSQL(d store.Dialect, cond, order, limit string, filterFirst bool) string {
	from := "policy_issues WHERE " + cond
	if filterFirst {
		// OFFSET 0 keeps the subquery from being merged into the outer
		// query, so it is planned for its filter alone.
		from = "(SELECT * FROM policy_issues WHERE " + cond + d.Fence() + ") policy_issues"
	}
	return "SELECT " + issuerows.Select + " FROM policy_issues JOIN (SELECT policy_issues.org_id AS k_org, policy_issues.id AS k_id" +
		" FROM " + from + " ORDER BY " + order + limit + ") k" +
		" ON policy_issues.org_id = k.k_org AND policy_issues.id = k.k_id ORDER BY " + order
}

// NarrowLimit is the largest number of rows a page finds by filtering
// first and sorting after (a variable for tests).
var NarrowLimit int64 = 20000

// filterFirst tells whether a page whose narrowest indexed condition
// selects n issues is found by filtering first. Only on PostgreSQL: SQLite
// plans the fenced subquery poorly (it reads the filter through the sort
// index and its table), and at the sizes it serves the ordered read of the
// default order's index, which carries the filter columns, is fast.
func (r *Store) filterFirst(n int64) bool {
	return r.dialect.FiltersFirst() && n >= 0 && n <= NarrowLimit
}

// coveredColumns are the columns the indexes of policyName and
// policyGroupName carry (PostgreSQL's policy_issues_policy_name and
// policy_issues_group) that filters use.
var coveredColumns = map[string]bool{"status": true, "priority": true, "policyName": true, "policyGroupName": true}

// coveredFilter tells whether a filter is an AND of conditions on
// coveredColumns with an equals on policyName or policyGroupName among
// them: its matches in one segment are found in that condition's index
// alone. A segment holding few of them is then read filtering first: a
// policy of 78,000 issues sorted by priority has 24 of them among the
// 180,000 issues of priority p1, which reading the segment in order finds
// only at its end, and its index at once (see docs/performance.md).
func coveredFilter(n grid.Node) bool {
	narrow := false
	var walk func(grid.Node) bool
	walk = func(n grid.Node) bool {
		switch n := n.(type) {
		case *grid.And:
			for _, c := range n.Children {
				if !walk(c) {
					return false
				}
			}
			return true
		case *grid.Condition:
			if !coveredColumns[n.ColID] {
				return false
			}
			if (n.ColID == "policyName" || n.ColID == "policyGroupName") && n.Op == grid.OpEquals {
				narrow = true
			}
			return true
		}
		return false
	}
	return walk(n) && narrow
}

// narrowCount tells how many issues the narrowest indexed condition of a
// filter selects on its own: an equals on assignedTo, policyName or
// policyGroupName (their case-insensitive indexes), statuses other than
// open (the status index) or kinds (the kind index), joined by AND at the
// top of the filter; -1 when there is none.
// Reading a page in the sort's index order and filtering costs rows
// visited, which a filter correlated with the order (issues assigned in
// one sweep, a policy of one severity) makes the whole index; a narrow
// indexed condition bounds the cost of filtering first instead.
func (r *Store) narrowCount(tx *gorm.DB, orgID int64, filter grid.Node) (int64, error) {
	best := int64(-1)
	for _, c := range topConditions(filter) {
		switch {
		case (c.ColID == "assignedTo" || c.ColID == "policyName" || c.ColID == "policyGroupName") && c.Op == grid.OpEquals:
		case c.ColID == "status" && c.Op == grid.OpIn && !slices.Contains(c.Values, any(policy.StatusOpen)):
		case c.ColID == "kind" && c.Op == grid.OpIn:
		default:
			continue
		}
		if !onCube(c) {
			continue
		}
		n, err := r.cubeCount(tx, orgID, c)
		if err != nil {
			return 0, err
		}
		if best < 0 || n < best {
			best = n
		}
	}
	return best, nil
}

// cubeCount counts the issues matching a cube filter.
func (r *Store) cubeCount(tx *gorm.DB, orgID int64, filter grid.Node) (int64, error) {
	cond, args := cubeWhere(orgID, filter, r.dialect)
	var n int64
	err := tx.Raw("SELECT CAST(COALESCE(SUM(c.n), 0) AS bigint) FROM issue_counts c WHERE "+cond, args...).Row().Scan(&n)
	return n, err
}

// SmallSegment is the largest segment of a filter outside the cube whose
// matches are found before they are sorted: reading the segment in order
// until a page is full may read the whole segment when its few matches
// sit at its end (a variable for tests).
var SmallSegment int64 = 2000

// segmentColumns are the columns a page is read by segments of: the first
// sort key's column on the cube and on the issues.
var segmentColumns = map[string]struct{ cube, issue string }{
	"severity": {"c.severity_rank", "policy_issues.severity_rank"},
	"priority": {"c.priority", "policy_issues.priority"},
}

// segment is the number of matching issues with one value of the first
// sort key.
type segment struct {
	value any
	n     int64
}

// cubeSegments counts the issues matching a cube filter per value of the
// segment column.
func (r *Store) cubeSegments(tx *gorm.DB, orgID int64, col string, cubeFilter grid.Node) ([]segment, error) {
	cond, args := cubeWhere(orgID, cubeFilter, r.dialect)
	return scanSegments(tx, "SELECT "+col+", CAST(SUM(c.n) AS bigint) FROM issue_counts c WHERE "+cond+" GROUP BY "+col, args)
}

// issueSegments counts the issues matching a condition on policy_issues
// per value of the segment column (for filters outside the cube).
func issueSegments(tx *gorm.DB, col, where string, args []any) ([]segment, error) {
	return scanSegments(tx, "SELECT "+col+", COUNT(*) FROM policy_issues WHERE "+where+" GROUP BY "+col, args)
}

// scanSegments reads the non-empty segments a query counts.
func scanSegments(tx *gorm.DB, query string, args []any) ([]segment, error) {
	rows, err := tx.Raw(query, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var segs []segment
	for rows.Next() {
		var s segment
		if err := rows.Scan(&s.value, &s.n); err != nil {
			return nil, err
		}
		if s.n > 0 {
			segs = append(segs, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range segs {
		switch v := segs[i].value.(type) {
		case []byte:
			segs[i].value = string(v)
		case int32:
			segs[i].value = int64(v)
		case int16:
			segs[i].value = int64(v)
		}
	}
	return segs, nil
}

// segmentedPage reads a page of issues sorted first by severity or
// priority, one value of that column at a time (segs: the issues matching
// where per value), and counts the matches. With smallFirst, a segment of
// at most SmallSegment matches is found by filtering first (filters
// outside the cube, whose indexes find a segment's matches directly, and
// covered filters).
func (r *Store) segmentedPage(tx *gorm.DB, orgID int64, q *grid.Query, segs []segment, where string, wargs []any,
	smallFirst bool, page *IssuePage) error {
	first := q.Sort[0]
	col := segmentColumns[first.ColID]
	slices.SortFunc(segs, func(a, b segment) int {
		var c int
		switch av := a.value.(type) {
		case int64:
			c = cmp.Compare(av, b.value.(int64))
		case string:
			c = strings.Compare(av, b.value.(string))
		}
		if first.Desc {
			return -c
		}
		return c
	})
	for _, s := range segs {
		page.RowCount += s.n
	}
	tieDesc := q.Sort[len(q.Sort)-1].Desc
	order := orderClauseTie(q.Sort[1:], issueGridColumns, "policy_issues.id", r.dialect, tieDesc)
	reverseOrder := orderClauseTie(reversed(q.Sort[1:]), issueGridColumns, "policy_issues.id", r.dialect, !tieDesc)
	narrow, err := r.narrowCount(tx, orgID, q.Where())
	if err != nil {
		return err
	}
	filterFirst := r.filterFirst(narrow)
	smallFirst = smallFirst || r.dialect.FiltersFirst() && coveredFilter(q.Where())
	skip, want := int64(q.Offset), int64(q.Limit)
	for _, s := range segs {
		if want == 0 {
			break
		}
		if skip >= s.n {
			skip -= s.n
			continue
		}
		take := min(want, s.n-skip)
		segmentFirst := filterFirst || (smallFirst && s.n <= SmallSegment)
		segOrder, segSkip := order, skip
		backwards := fromTheEnd(s.n, skip)
		if backwards {
			segOrder, segSkip = reverseOrder, s.n-skip-take
		}
		part, err := issuerows.Scan(tx, pageSQL(r.dialect, where+" AND "+col.issue+" = ?", segOrder, " LIMIT ? OFFSET ?", segmentFirst),
			append(append([]any(nil), wargs...), s.value, take, segSkip)...)
		if err != nil {
			return err
		}
		if backwards {
			slices.Reverse(part)
		}
		page.Issues = append(page.Issues, part...)
		if int64(len(part)) < take {
			// The cube and the issues disagree only if they were written
			// apart; never expected.
			return fmt.Errorf("segment %v: %d rows at offset %d, the counts promised %d", s.value, len(part), skip, take)
		}
		want -= take
		skip = 0
	}
	return nil
}

// textParts lists the dictionary parts of a filter's text conditions.
func textParts(n grid.Node) []texts.Part {
	var parts []texts.Part
	switch n := n.(type) {
	case *grid.And:
		for _, c := range n.Children {
			parts = append(parts, textParts(c)...)
		}
	case *grid.Or:
		for _, c := range n.Children {
			parts = append(parts, textParts(c)...)
		}
	case *grid.Not:
		parts = textParts(n.Child)
	case *grid.Condition:
		if n.Column.Kind != grid.KindText || len(n.Values) == 0 {
			return nil
		}
		needle, _ := n.Values[0].(string)
		for _, e := range issueGridColumns[n.ColID].matched(n) {
			alts, _ := texts.Alternatives(e, n.Op, needle)
			for _, alt := range alts {
				parts = append(parts, alt...)
			}
		}
	}
	return parts
}

// textSets reads the dictionary ids matching the parts of the filter's
// text matches (texts.Dictionary.Sets).
func (r *Store) textSets(db *gorm.DB, orgID int64, filter grid.Node) (texts.Sets, error) {
	return r.texts.Sets(db, orgID, textParts(filter))
}

// Condition is the SQL condition selecting the organisation's issues that
// match filter (issueWhere), with the facts it uses read first: the
// filter's text matches from the dictionary (textSets), its entity type's
// size (entityTypeNarrow) and the exact values of its equals conditions on
// text columns (exactNames) from the cube.
func (r *Store) Condition(db *gorm.DB, orgID int64, filter grid.Node) (string, []any, error) {
	var facts filterFacts
	var err error
	if facts.texts, err = r.textSets(db, orgID, filter); err != nil {
		return "", nil, err
	}
	if facts.narrowType, err = r.entityTypeNarrow(db, orgID, filter); err != nil {
		return "", nil, err
	}
	if facts.exactNames, err = r.exactNames(db, orgID, filter); err != nil {
		return "", nil, err
	}
	cond, args := issueWhere(orgID, filter, r.dialect, &facts)
	return cond, args, nil
}
