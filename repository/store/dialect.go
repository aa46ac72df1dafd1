package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3/database"
	"gorm.io/gorm"
)

// Dialect is what differs between PostgreSQL and SQLite: SQL fragments,
// how many values one statement binds, and which of the repository's
// strategies suit the database's planner and locking. Its two values are
// Postgres and SQLite; they compare with ==.
type Dialect interface {
	// String names the dialect: "postgres" or "sqlite".
	String() string

	// MaxParams is how many values one batched statement binds. The SQLite
	// driver matches each bound parameter by scanning the argument list, so
	// a statement costs the square of its parameter count; in-process
	// statements are cheap, so SQLite gets small ones. PostgreSQL takes
	// large batches, one round trip each, well under its 65,535 parameters.
	MaxParams() int
	// InListSize is how many values one IN (...) list binds.
	InListSize() int
	// MaxIDSet bounds a set of ids bound one by one (limit where each id is
	// one array element, less where each is a parameter).
	MaxIDSet(limit int) int
	// Arrays tells whether a statement binds a whole column of values as
	// one array parameter: the repository's bulk writes, text lookups,
	// exports and triage writes then take one statement each, where
	// without arrays they are batched through GORM.
	Arrays() bool
	// ConcurrentWrites tells whether write transactions run in parallel
	// (row locks) rather than one at a time (the database's write lock).
	ConcurrentWrites() bool

	// TextOrder is expr compared and sorted in byte order: SQLite's
	// default, PostgreSQL's with the "C" collation whatever the database's
	// own.
	TextOrder(expr string) string
	// Position is the 1-based position of needle in haystack (0: absent).
	Position(haystack, needle string) string
	// OffsetOnly skips rows without a limit; it binds the offset.
	OffsetOnly() string
	// Fence ends a subquery so the planner does not merge it into the outer
	// query (OFFSET 0).
	Fence() string
	// LockRowsOf locks the rows a SELECT reads from table for the
	// transaction ("" where the transaction already holds the database's
	// write lock).
	LockRowsOf(table string) string
	// LockSelected is LockRowsOf as a GORM clause.
	LockSelected(tx *gorm.DB) *gorm.DB
	// JSONTriples selects the rows (three texts each) of a bound JSON array
	// of three-string arrays.
	JSONTriples() string
	// IDsIn is ref restricted to ids, bound through bind.
	IDsIn(ref string, ids []int64, bind func(any) string) string
	// InSubquery is ref restricted to the ids a subquery selects.
	InSubquery(ref, subquery string) string
	// TextsConflict is the conflict target of the text dictionary's unique
	// key.
	TextsConflict() string
	// TextsMatch matches the dictionary's t.value to the value.
	TextsMatch(value string) string
	// GroupWithoutIndex is a GROUP BY expression the planner must not read
	// in the order of an index on it.
	GroupWithoutIndex(expr string) string

	// SegmentedPages tells whether a page sorted first by an enum column is
	// read one value of it at a time (see repository/issues_plan.go).
	SegmentedPages() bool
	// FiltersFirst tells whether a page whose filter is narrow is found by
	// filtering before sorting (see repository/issues_plan.go).
	FiltersFirst() bool
	// ExactNames tells whether an equals condition on a text column whose
	// cube column matches more than one expression is answered with the
	// cube's exact values (see repository/issues_plan.go).
	ExactNames(multiExpr bool) bool

	// readTx runs fn in a read-only transaction with one snapshot.
	readTx(db *gorm.DB, fn func(tx *gorm.DB) error) error
	// beginWrite is a write transaction's first statement.
	beginWrite(tx *gorm.DB) error
	// advisoryLock serialises processes on key for the transaction.
	advisoryLock(tx *gorm.DB, key int64) error
	// open connects GORM to dsn.
	open(dsn string, cfg *gorm.Config) (*gorm.DB, error)
	// tune sizes the connection pool.
	tune(db *sql.DB, maxOpenConns int)
	// prepare runs once after connecting.
	prepare(ctx context.Context, db *gorm.DB) error
	// gooseDialect is goose's name of the dialect.
	gooseDialect() database.Dialect
}

// Int64Array binds ids as one PostgreSQL array parameter (GORM would expand
// a slice into a list of parameters).
type Int64Array []int64

// Value is the array in PostgreSQL's text form.
func (a Int64Array) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteString("{")
	for i, id := range a {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteString("}")
	return b.String(), nil
}
