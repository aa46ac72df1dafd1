package issuequery

import (
	"slices"
	"strings"
	"time"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository/store"
	"github.com/policyresults/policyresults/repository/texts"
)

// Column is a column of a grid as the repository holds it: its
// definition for the grid parser and the SQL that reads it.
type Column struct {
	def grid.ColumnDef
	// expr is the SQL expression of the column's value, used to filter,
	// group, aggregate and (without rank) sort.
	expr string
	// matchAlso lists more expressions a filter condition also matches: a
	// row matches a positive condition (equals, contains, ...) when any of
	// expr and matchAlso does, and a negative one (notEqual, notContains,
	// isNoneOf, blank) when all do; a group key's condition matches expr
	// alone. assignedTo matches login or email.
	matchAlso []string
	// rank, for an enum, is an expression whose value is the index in
	// def.Values of the row's value; sorts and min/max use it so enums order
	// by meaning rather than alphabetically.
	rank string
	// rankMatch, for an enum with rank, is an expression of the rank that
	// set conditions (equals, notEqual, isAnyOf, isNoneOf) match with the
	// values' ranks instead of matching expr: where an index holds the rank
	// but not the value.
	rankMatch string
}

// Expr is the SQL expression of the column's value.
func (c Column) Expr() string { return c.expr }

// matched returns the expressions a condition on the column matches: expr
// alone for a group key, else expr and matchAlso.
func (c Column) matched(cond *grid.Condition) []string {
	if cond.GroupKey {
		return []string{c.expr}
	}
	return append([]string{c.expr}, c.matchAlso...)
}

// Columns are the columns of a grid by API column id: the one source of
// both the schema the grid parser checks requests against and the SQL the
// repository writes for them, so no column has one without the other.
type Columns map[string]Column

// Schema is the columns' grid.Schema.
func (cols Columns) Schema() grid.Schema {
	s := make(grid.Schema, len(cols))
	for id, c := range cols {
		s[id] = c.def
	}
	return s
}

// IssueFilterSQL is the grid's translation of filter into a condition on
// policy_issues, on the issues' own columns: without the facts ListIssues
// reads first (the text dictionary's matching ids, the issue cube's exact
// names, the entities of a type), so it reads as a straightforward
// implementation would write it. The load generator's naive baseline
// (cmd/policyresults-bench/naive) queries the issues with it. Values are
// bound: the arguments go with the condition.
func (r *Store) IssueFilterSQL(filter grid.Node) (string, []any) {
	return WhereClause(filter, issueGridColumns, r.dialect)
}

// IssueOrderSQL is the grid's ORDER BY list for sort on policy_issues,
// ending with the issue id as the tie-breaker, as ListIssues orders a page.
func (r *Store) IssueOrderSQL(sort []grid.SortKey) string {
	return OrderClause(sort, issueGridColumns, "policy_issues.id", r.dialect)
}

// IssueColumnSQL is the SQL expression of an issue grid column's value on
// policy_issues, and whether the column exists.
func IssueColumnSQL(id string) (string, bool) {
	c, ok := issueGridColumns[id]
	return c.expr, ok
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

// rankCondition writes a set condition on a column with rankMatch as equalities
// on the rank joined by OR (AND of inequalities when negative): an IN list
// on the default order's first key would be a PostgreSQL index condition
// that costs the scan its order (a page sorted 153,000 rows instead of
// reading them in order), whereas an OR is tested on each index entry;
// each equality keeps its statistics (an expression such as rank + 0
// would not, and misled the planner elsewhere).
func (w *sqlWriter) rankCondition(col Column, c *grid.Condition) {
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
		w.sb.WriteString(col.rankMatch + op + w.bind(slices.Index(col.def.Values, v.(string))))
	}
	w.sb.WriteString(")")
}

func aggregateSQL(a grid.Aggregate, cols Columns, d store.Dialect) string {
	col := cols[a.ColID]
	if a.Func == grid.AggCount {
		return "COUNT(" + col.expr + ")"
	}
	return strings.ToUpper(string(a.Func)) + "(" + gridSortExpr(col, d) + ")"
}

// WhereClause translates a filter tree on cols to an SQL condition with
// bound values. Only the columns' expressions reach the SQL text. An empty
// string means no condition.
func WhereClause(n grid.Node, cols Columns, d store.Dialect) (string, []any) {
	if n == nil {
		return "", nil
	}
	w := &sqlWriter{dialect: d, cols: cols}
	w.node(n)
	return w.sb.String(), w.args
}

// issueFilter is WhereClause for a filter on the issues of one
// organisation (orgID 0: none): text conditions on resource names, URNs
// and messages select their issues through the text dictionary
// (repository/texts), with the sets of texts where given; equals conditions on the
// cube's text columns match the exact values where given (exactNames).
func issueFilter(orgID int64, n grid.Node, d store.Dialect, facts *filterFacts) (string, []any) {
	if n == nil {
		return "", nil
	}
	if facts == nil {
		facts = &filterFacts{}
	}
	w := &sqlWriter{dialect: d, cols: issueGridColumns, textsOf: orgID, texts: facts.texts, exact: facts.exactNames}
	w.node(n)
	return w.sb.String(), w.args
}

type sqlWriter struct {
	dialect store.Dialect
	// cols are the columns the conditions are on.
	cols Columns
	sb   strings.Builder
	args []any
	// textsOf is the organisation whose text dictionary answers text
	// matches; 0 matches the columns themselves.
	textsOf int64
	// texts holds the dictionary ids matching parts, where they were read
	// before the query was written (Store.textSets).
	texts texts.Sets
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
	col := w.cols[c.ColID]
	if values, ok := w.exact[c]; ok {
		if exprs := col.matched(c); len(exprs) > 1 {
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
	if col.rankMatch != "" && (c.Op == grid.OpIn || c.Op == grid.OpNotIn) {
		w.rankCondition(col, c)
		return
	}
	if len(col.matchAlso) == 0 || c.GroupKey {
		w.single(col.expr, c)
		return
	}
	exprs := col.matched(c)
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
		if alts, ok := texts.Alternatives(e, c.Op, s); ok && w.textsOf != 0 {
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
		pattern, ok := texts.LikePattern(c.Op, s)
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

// textMatch writes a text match answered by the dictionary: any of the
// alternatives, each all of its parts, a part being the issues whose
// reference is one of the values matching its pattern. On PostgreSQL the
// values are collected first (an init plan) and looked up as an index
// condition, which a count over many issues reads from the reference index
// alone.
func (w *sqlWriter) textMatch(alts [][]texts.Part, negate bool) {
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
			ref := texts.RefColumns[p.Field]
			if ids, ok := w.texts[p]; ok {
				w.sb.WriteString(w.dialect.IDsIn(ref, ids, w.bind))
				continue
			}
			values := "SELECT t.id FROM issue_texts t WHERE t.org_id = " + w.bind(w.textsOf) + " AND t.field = '" + p.Field +
				"' AND lower(t.value) LIKE lower(" + w.bind(p.Pattern) + `) ESCAPE '\'`
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
func (w *sqlWriter) knownEmpty(parts []texts.Part) bool {
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
func gridSortExpr(col Column, d store.Dialect) string {
	switch {
	case col.rank != "":
		return col.rank
	case col.def.Kind == grid.KindText:
		return d.TextOrder(col.expr)
	}
	return col.expr
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

// OrderClause writes the ORDER BY list of keys followed by the tie-breaker
// column (in the direction of the last key, so an index ending with it serves
// the whole order).
func OrderClause(keys []grid.SortKey, cols Columns, tie string, d store.Dialect) string {
	desc := true
	if len(keys) > 0 {
		desc = keys[len(keys)-1].Desc
	}
	return orderClauseTie(keys, cols, tie, d, desc)
}

// orderClauseTie is OrderClause with the tie-breaker's direction given:
// the rest of an order whose first keys are fixed keeps the whole order's
// tie-breaker.
func orderClauseTie(keys []grid.SortKey, cols Columns, tie string, d store.Dialect, tieDesc bool) string {
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		col := cols[k.ColID]
		parts = append(parts, gridSortExpr(col, d)+orderDirection(k.Desc, k.Column.Nullable))
		if col.expr == tie {
			return strings.Join(parts, ", ")
		}
	}
	return strings.Join(append(parts, tie+orderDirection(tieDesc, false)), ", ")
}
