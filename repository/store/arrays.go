package store

// Arrays accumulates rows column by column for an insert from unnest
// (UnnestInsertSQL; run it with ExecArrays).
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

// InsertSQL is the insert of c's rows into table, followed by suffix (an
// ON CONFLICT clause or ""), its parameters numbered from first.
func (c *Arrays) InsertSQL(table, suffix string, first int) string {
	return UnnestInsertSQL(table, c.names, c.types, suffix, first)
}
