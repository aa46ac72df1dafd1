package grid

// Query is a parsed, validated grid request.
type Query struct {
	// Filter is the filter model as a tree; nil means no filter.
	Filter Node
	// KeyFilter holds the conditions rowGroupCols[i] = groupKeys[i] of the
	// expanded groups (exact matches); empty at the top level.
	KeyFilter []*Condition
	// Sort is the order of leaf rows: the sort model without duplicate
	// columns, or the default order. A translator appends its own
	// tie-breaker.
	Sort []SortKey
	// Offset is the first row (startRow).
	Offset int
	// Limit is the number of rows (endRow - startRow); -1 means all rows.
	Limit int
	// Group is set when the request asks for groups (groupKeys shorter than
	// rowGroupCols); nil when it asks for rows.
	Group *Group
}

// Where returns Filter and KeyFilter joined by AND; nil when both are empty.
func (q *Query) Where() Node {
	var nodes []Node
	if q.Filter != nil {
		nodes = append(nodes, q.Filter)
	}
	for _, c := range q.KeyFilter {
		nodes = append(nodes, c)
	}
	switch len(nodes) {
	case 0:
		return nil
	case 1:
		return nodes[0]
	}
	return &And{Children: nodes}
}

// SortKey orders rows by one column.
type SortKey struct {
	// ColID is the schema column id.
	ColID string
	// Column is its definition.
	Column ColumnDef
	// Desc sorts descending.
	Desc bool
}

// Group asks for the groups of one level.
type Group struct {
	// Level is the grouping level (the number of group keys).
	Level int
	// ColID is the column grouped on at this level.
	ColID string
	// Column is its definition.
	Column ColumnDef
	// Aggregates are the value columns' aggregates, in request order.
	Aggregates []Aggregate
	// Sort orders the groups; a translator breaks ties on the group value.
	Sort []GroupSortKey
}

// AggFunc is an aggregate function of a value column.
type AggFunc string

// The supported aggregates.
const (
	AggCount AggFunc = "count"
	AggMin   AggFunc = "min"
	AggMax   AggFunc = "max"
)

// Aggregate is one value column of a grouped request.
type Aggregate struct {
	// Key is the key of the aggregate in each group's data: the value
	// column's id.
	Key string
	// ColID is the aggregated schema column.
	ColID string
	// Column is its definition.
	Column ColumnDef
	// Func is the aggregate function.
	Func AggFunc
}

// GroupSortKey orders groups by their value (Aggregate < 0) or by one of
// Group.Aggregates (its index).
type GroupSortKey struct {
	Aggregate int
	Desc      bool
}

// Node is a filter tree node: *And, *Or, *Not or *Condition.
type Node interface{ node() }

// And matches when every child matches (an empty And matches everything).
type And struct{ Children []Node }

// Or matches when any child matches (an empty Or matches nothing).
type Or struct{ Children []Node }

// Not matches when its child does not.
type Not struct{ Child Node }

// Op is the operator of a Condition.
type Op string

// The condition operators, after parsing. Text operators are
// case-insensitive; In and NotIn are exact (enums, set filters, group keys).
const (
	OpEquals             Op = "equals"
	OpNotEqual           Op = "notEqual"
	OpContains           Op = "contains"
	OpNotContains        Op = "notContains"
	OpStartsWith         Op = "startsWith"
	OpEndsWith           Op = "endsWith"
	OpLessThan           Op = "lessThan"
	OpLessThanOrEqual    Op = "lessThanOrEqual"
	OpGreaterThan        Op = "greaterThan"
	OpGreaterThanOrEqual Op = "greaterThanOrEqual"
	// OpInRange matches Values[0] <= value <= Values[1].
	OpInRange Op = "inRange"
	// OpBlank matches NULL and, for text and enums, ''.
	OpBlank    Op = "blank"
	OpNotBlank Op = "notBlank"
	// OpIn matches a value exactly equal to one of Values (none: no row).
	OpIn Op = "in"
	// OpNotIn matches a value equal to none of Values; NULL values of a
	// nullable column match.
	OpNotIn Op = "notIn"
)

// Negative reports whether op excludes rows: on a column whose rows hold
// several values to match (assignedTo: a login and an email), a negative
// operator matches when every value does, a positive one when any does.
func (op Op) Negative() bool {
	switch op {
	case OpNotEqual, OpNotContains, OpNotIn, OpBlank:
		return true
	}
	return false
}

// Condition is a leaf of the filter tree: one column, one operator and its
// typed values. Values hold string (text, enum), int64 or float64 (number),
// time.Time in UTC (date) or bool (boolean).
type Condition struct {
	ColID  string
	Column ColumnDef
	Op     Op
	Values []any
	// GroupKey marks the condition of an expanded group's key: it matches
	// the value the rows were grouped by, exactly, and none of the other
	// values a filter on the column matches (assignedTo's email).
	GroupKey bool
}

func (*And) node()       {}
func (*Or) node()        {}
func (*Not) node()       {}
func (*Condition) node() {}

// Walk calls f for every condition of the tree rooted at n.
func Walk(n Node, f func(*Condition)) {
	switch n := n.(type) {
	case *And:
		for _, c := range n.Children {
			Walk(c, f)
		}
	case *Or:
		for _, c := range n.Children {
			Walk(c, f)
		}
	case *Not:
		Walk(n.Child, f)
	case *Condition:
		f(n)
	}
}

// WithoutColumn returns the tree with every condition on colID treated as
// matching everything, simplified: an And drops it, an Or containing it
// matches everything and so disappears, a Not of it disappears. Faceted
// search uses it so a field's dropdown keeps showing the field's other
// values. The result is nil when nothing constrains the rows any more.
func WithoutColumn(n Node, colID string) Node {
	switch n := n.(type) {
	case *And:
		var kept []Node
		for _, c := range n.Children {
			if c = WithoutColumn(c, colID); c != nil {
				kept = append(kept, c)
			}
		}
		switch len(kept) {
		case 0:
			return nil
		case 1:
			return kept[0]
		}
		return &And{Children: kept}
	case *Or:
		kept := make([]Node, 0, len(n.Children))
		for _, c := range n.Children {
			c = WithoutColumn(c, colID)
			if c == nil {
				return nil
			}
			kept = append(kept, c)
		}
		if len(kept) == 1 {
			return kept[0]
		}
		return &Or{Children: kept}
	case *Not:
		c := WithoutColumn(n.Child, colID)
		if c == nil {
			return nil
		}
		return &Not{Child: c}
	case *Condition:
		if n.ColID == colID {
			return nil
		}
		return n
	}
	return nil
}
