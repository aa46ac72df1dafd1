package store

import (
	"strconv"
	"strings"
)

// Arrays accumulates rows column by column for an insert from unnest: one
// array per column is a single statement text whatever the number of rows,
// and pgx binds each Go slice as one array (run it with ExecArrays).
type Arrays struct {
	names []string
	types []string
	// Args are the column arrays, the statement's parameters in order.
	Args []any
}

// Add appends a column: its name, its PostgreSQL element type and its
// values, a slice with one element per row.
func (c *Arrays) Add(name, typ string, values any) {
	c.names = append(c.names, name)
	c.types = append(c.types, typ)
	c.Args = append(c.Args, values)
}

// InsertSQL is INSERT INTO table (names) SELECT * FROM unnest($1::t1[], ...)
// followed by suffix (an ON CONFLICT clause or "").
func (c *Arrays) InsertSQL(table, suffix string) string {
	return c.InsertSQLFrom(table, suffix, 1)
}

// InsertSQLFrom is InsertSQL with the parameters numbered from first, for a
// statement that carries other parameters before them.
func (c *Arrays) InsertSQLFrom(table, suffix string, first int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(c.names, ", ") + ") SELECT * FROM unnest(")
	for i, t := range c.types {
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
