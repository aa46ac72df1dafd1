package grid

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Paging defaults.
const (
	// DefaultPageSize is the page size when endRow is absent.
	DefaultPageSize = 100
	// DefaultMaxPageSize is the largest page a request may ask for.
	DefaultMaxPageSize = 1000
)

// autoColumnPrefix is the id AG Grid gives its generated group column; a sort
// on it sorts the groups by their value.
const autoColumnPrefix = "ag-Grid-AutoColumn"

// Options tunes Parse for an endpoint.
type Options struct {
	// DefaultSort is the order when the sort model is null or empty.
	DefaultSort []SortItem
	// PageSize is the number of rows when endRow is absent (default
	// DefaultPageSize).
	PageSize int
	// MaxPageSize is the largest endRow - startRow (default
	// DefaultMaxPageSize).
	MaxPageSize int
	// Unbounded (export) lifts MaxPageSize and, when endRow is absent, means
	// every row from startRow on.
	Unbounded bool
	// Ties names, for a column, the column that orders its ties when the
	// order ends with it: appended in the same direction unless the order
	// holds it already (the translator's own tie-breaker follows).
	Ties map[string]string
}

// Parse validates a request against schema and returns the typed query.
// Errors are *Error values naming the offending input and what is allowed.
func Parse(req Request, schema Schema, opts Options) (*Query, error) {
	q := &Query{}
	var err error
	if q.Filter, err = ParseFilter(req.FilterModel, schema); err != nil {
		return nil, err
	}
	if err := parsePaging(q, req, opts); err != nil {
		return nil, err
	}
	if err := parseGrouping(q, req, schema); err != nil {
		return nil, err
	}
	items, field := req.SortModel, "sortModel"
	if len(items) == 0 {
		items, field = opts.DefaultSort, "default sort"
	}
	if err := parseSort(q, items, field, len(req.SortModel) == 0, req, schema); err != nil {
		return nil, err
	}
	if n := len(q.Sort); n > 0 {
		last := q.Sort[n-1]
		if id, ok := opts.Ties[last.ColID]; ok && !slices.ContainsFunc(q.Sort, func(k SortKey) bool { return k.ColID == id }) {
			col, err := schema.Column(id, "sortModel")
			if err != nil {
				return nil, err
			}
			q.Sort = append(q.Sort, SortKey{ColID: id, Column: col, Desc: last.Desc})
		}
	}
	return q, nil
}

func parsePaging(q *Query, req Request, opts Options) error {
	size, max := opts.PageSize, opts.MaxPageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	if max <= 0 {
		max = DefaultMaxPageSize
	}
	start := 0
	if req.StartRow != nil {
		start = *req.StartRow
		if start < 0 {
			return errorf("startRow", "startRow %d is negative", start)
		}
	}
	q.Offset = start
	if req.EndRow == nil {
		if opts.Unbounded {
			q.Limit = -1
		} else {
			q.Limit = size
		}
		return nil
	}
	end := *req.EndRow
	if end < start {
		return errorf("endRow", "endRow %d is before startRow %d (startRow is inclusive, endRow exclusive)", end, start)
	}
	if n := end - start; !opts.Unbounded && n > max {
		return errorf("endRow", "a page of %d rows (startRow %d, endRow %d) is larger than the maximum of %d", n, start, end, max)
	}
	q.Limit = end - start
	return nil
}

func columnID(c Column) string {
	if c.ID != "" {
		return c.ID
	}
	return c.Field
}

func parseGrouping(q *Query, req Request, schema Schema) error {
	n, k := len(req.RowGroupCols), len(req.GroupKeys)
	if k > n {
		return errorf("groupKeys", "groupKeys has %d keys but rowGroupCols only %d columns", k, n)
	}
	groupIDs := make([]string, n)
	groupCols := make([]ColumnDef, n)
	for i, c := range req.RowGroupCols {
		id := columnID(c)
		col, err := schema.Column(id, fmt.Sprintf("rowGroupCols[%d].id", i))
		if err != nil {
			return err
		}
		groupIDs[i], groupCols[i] = id, col
	}
	type valueCol struct {
		id  string
		col ColumnDef
		fn  AggFunc
	}
	values := make([]valueCol, 0, len(req.ValueCols))
	for i, c := range req.ValueCols {
		id := columnID(c)
		col, err := schema.Column(id, fmt.Sprintf("valueCols[%d].id", i))
		if err != nil {
			return err
		}
		fn := AggFunc(strings.ToLower(c.AggFunc))
		switch fn {
		case AggCount, AggMin, AggMax:
		default:
			return errorf(fmt.Sprintf("valueCols[%d].aggFunc", i), "unsupported aggFunc %q for column %s in valueCols[%d].aggFunc; allowed: count, min, max", c.AggFunc, id, i)
		}
		values = append(values, valueCol{id, col, fn})
	}
	for i, key := range req.GroupKeys {
		c, err := keyCondition(groupIDs[i], groupCols[i], key, fmt.Sprintf("groupKeys[%d]", i))
		if err != nil {
			return err
		}
		q.KeyFilter = append(q.KeyFilter, c)
	}
	if k == n {
		return nil
	}
	g := &Group{Level: k, ColID: groupIDs[k], Column: groupCols[k]}
	seen := map[string]bool{}
	for i, v := range values {
		field := fmt.Sprintf("valueCols[%d].id", i)
		if v.id == g.ColID {
			return errorf(field, "valueCols[%d] aggregates %s, the column grouped on at this level; its value is the group's key", i, v.id)
		}
		if seen[v.id] {
			return errorf(field, "duplicate value column %s in valueCols[%d]; each column may be aggregated once", v.id, i)
		}
		seen[v.id] = true
		g.Aggregates = append(g.Aggregates, Aggregate{Key: v.id, ColID: v.id, Column: v.col, Func: v.fn})
	}
	q.Group = g
	return nil
}

// keyCondition turns a group key, always a string, into an exact condition on
// the grouped value.
func keyCondition(id string, col ColumnDef, key, field string) (*Condition, error) {
	c := &Condition{ColID: id, Column: col, Op: OpIn, GroupKey: true}
	switch col.Kind {
	case KindText:
		c.Values = []any{key}
		return c, nil
	case KindEnum:
		v, ok := col.enumValue(key)
		if !ok {
			return nil, errorf(field, "group key %q in %s is not a value of %s; allowed: %s", key, field, id, quoteAll(col.Values))
		}
		c.Values = []any{v}
		return c, nil
	}
	if key == "" || key == "null" {
		c.Op = OpBlank
		return c, nil
	}
	var v any
	var err error
	switch col.Kind {
	case KindNumber:
		v, err = numberFromString(key)
	case KindDate:
		var d dateValue
		d, err = parseDate(key)
		v = d.t
	case KindBool:
		v, err = strconv.ParseBool(key)
	}
	if err != nil {
		return nil, errorf(field, "group key %q in %s is not a %s value for %s: %v", key, field, col.Kind, id, err)
	}
	c.Values = []any{v}
	return c, nil
}

// parseSort sets the leaf order and the group order: groups sort by the sort
// model's keys on the group column or on an aggregate; the default order only
// gives the group column's direction.
func parseSort(q *Query, items []SortItem, field string, isDefault bool, req Request, schema Schema) error {
	seen := map[string]bool{}
	for i, item := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		var desc bool
		switch strings.ToLower(item.Sort) {
		case "asc":
		case "desc":
			desc = true
		default:
			return errorf(f+".sort", "invalid sort direction %q in %s.sort; allowed: asc, desc", item.Sort, f)
		}
		id := item.ColID
		if strings.HasPrefix(id, autoColumnPrefix) && len(req.RowGroupCols) > 0 {
			if q.Group == nil {
				continue // leaf rows of fully expanded groups: the key is fixed
			}
			id = q.Group.ColID
		}
		col, err := schema.Column(id, f+".colId")
		if err != nil {
			return err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		q.Sort = append(q.Sort, SortKey{ColID: id, Column: col, Desc: desc})
		if q.Group == nil {
			continue
		}
		if id == q.Group.ColID {
			q.Group.Sort = append(q.Group.Sort, GroupSortKey{Aggregate: -1, Desc: desc})
			continue
		}
		for j, a := range q.Group.Aggregates {
			if a.Key == id && !isDefault {
				q.Group.Sort = append(q.Group.Sort, GroupSortKey{Aggregate: j, Desc: desc})
			}
		}
	}
	return nil
}

func quoteAll(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
