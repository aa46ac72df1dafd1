package grid

import (
	"sort"
	"strings"
)

// Kind is the type of a column's values; it decides which conditions apply
// and how values are parsed.
type Kind int

// The column kinds.
const (
	// KindText columns compare case-insensitively.
	KindText Kind = iota
	// KindNumber columns hold integers or decimals.
	KindNumber
	// KindDate columns hold instants (stored UTC).
	KindDate
	// KindEnum columns hold one of ColumnDef.Values and compare exactly.
	KindEnum
	// KindBool columns hold booleans.
	KindBool
)

func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindNumber:
		return "number"
	case KindDate:
		return "date"
	case KindEnum:
		return "enum"
	case KindBool:
		return "boolean"
	}
	return "unknown"
}

// ColumnDef defines a column a client may filter, sort, group or aggregate
// on. Its expressions are trusted SQL constants chosen by the server.
type ColumnDef struct {
	// Expr is the SQL expression of the column's value, used to filter,
	// group, aggregate and (without RankExpr) sort.
	Expr string
	// MatchAlso lists more expressions a filter condition also matches: a
	// row matches a positive condition (equals, contains, ...) when any of
	// Expr and MatchAlso does, and a negative one (notEqual, notContains,
	// isNoneOf, blank) when all do. assignedTo matches login or email.
	MatchAlso []string
	// Kind is the type of the values.
	Kind Kind
	// Values are the allowed values of an enum, canonical lower case. With
	// RankExpr, a value's index in Values is its rank.
	Values []string
	// RankExpr, for an enum, is an expression whose value is the index in
	// Values of the row's value; sorts and min/max use it so enums order by
	// meaning rather than alphabetically.
	RankExpr string
	// RankMatch, for an enum with RankExpr, is an expression of the rank
	// that set conditions (equals, notEqual, isAnyOf, isNoneOf) match with
	// the values' ranks instead of matching Expr: where an index holds the
	// rank but not the value.
	RankMatch string
	// Set allows set conditions (values, isAnyOf, isNoneOf).
	Set bool
	// Nullable tells the column may be NULL (for ordering NULLs the same on
	// every database, and for isNoneOf keeping NULL rows).
	Nullable bool
}

// Exprs returns Expr followed by MatchAlso.
func (c ColumnDef) Exprs() []string {
	return append([]string{c.Expr}, c.MatchAlso...)
}

// enumValue returns the canonical enum value for s (case-insensitive).
func (c ColumnDef) enumValue(s string) (string, bool) {
	for _, v := range c.Values {
		if strings.EqualFold(v, s) {
			return v, true
		}
	}
	return "", false
}

// Schema is a column allowlist: API column id → definition.
type Schema map[string]ColumnDef

// Names returns the column ids, sorted.
func (s Schema) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Column looks up a column id; the error names field and lists the allowed
// columns.
func (s Schema) Column(id, field string) (ColumnDef, error) {
	if c, ok := s[id]; ok {
		return c, nil
	}
	return ColumnDef{}, errorf(field, "unknown column %q in %s; allowed: %s", id, field, strings.Join(s.Names(), ", "))
}
