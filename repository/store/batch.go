package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// BatchRows is how many rows of cols columns one multi-row statement
// writes on d (see Dialect.MaxParams).
func BatchRows(d Dialect, cols int) int {
	return max(1, min(1000, d.MaxParams()/cols))
}

// Chunk splits s into slices of at most n elements.
func Chunk[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// SortedChanges returns the keys of m whose value is not zero, in compare's
// order: every transaction writes the rows of a shared table (rollups,
// trends) in one order, so concurrent writers cannot deadlock.
func SortedChanges[K, V comparable](m map[K]V, compare func(a, b K) int) []K {
	var zero V
	keys := make([]K, 0, len(m))
	for k, v := range m {
		if v != zero {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compare)
	return keys
}

// ExecArrays runs a statement on the transaction's connection as written,
// with the driver's placeholders, bypassing GORM: a slice binds as one array
// (Dialect.Arrays) rather than expanding into a list, and a long argument
// list binds without GORM's reflection over it.
func ExecArrays(tx *gorm.DB, sql string, args ...any) error {
	_, err := tx.Statement.ConnPool.ExecContext(statementContext(tx), sql, args...)
	return err
}

// QueryArrays is ExecArrays for a query.
func QueryArrays(tx *gorm.DB, query string, args ...any) (*sql.Rows, error) {
	return tx.Statement.ConnPool.QueryContext(statementContext(tx), query, args...)
}

// statementContext is the context of the transaction's statements.
func statementContext(tx *gorm.DB) context.Context {
	if ctx := tx.Statement.Context; ctx != nil {
		return ctx
	}
	return context.Background()
}

// ArrayRows is how many rows one statement of unnest arrays carries: large
// enough to amortise the round trip, small enough to keep each statement's
// memory modest.
const ArrayRows = 5000

// UnnestInsertSQL is INSERT INTO table (names) SELECT * FROM
// unnest($first::types[0][], ...) followed by suffix (an ON CONFLICT clause
// or ""): one statement text whatever the number of rows, each column
// bound as one array, with the parameters numbered from first.
func UnnestInsertSQL(table string, names, types []string, suffix string, first int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") SELECT * FROM unnest(")
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i) + "::" + t + "[]")
	}
	b.WriteString(")")
	if suffix != "" {
		b.WriteString(" " + suffix)
	}
	return b.String()
}
