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
// on: what checking and typing a request's use of it needs. How a column is
// read is the translator's.
type ColumnDef struct {
	// Kind is the type of the values.
	Kind Kind
	// Values are the allowed values of an enum, canonical lower case, in
	// the order of their meaning (a translator may rank them by index).
	Values []string
	// Set allows set conditions (values, isAnyOf, isNoneOf).
	Set bool
	// Nullable tells the column may have no value (ordered as the smallest
	// value, and kept by isNoneOf).
	Nullable bool
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
