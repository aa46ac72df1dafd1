package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3/database"
	"gorm.io/gorm"
)

// SQLite is the embedded SQLite dialect.
var SQLite Dialect = sqliteDialect{}

type sqliteDialect struct{}

func (sqliteDialect) String() string  { return "sqlite" }
func (sqliteDialect) MaxParams() int  { return 400 }
func (sqliteDialect) InListSize() int { return 400 }

// MaxIDSet is at most a thousand: each id is a parameter.
func (sqliteDialect) MaxIDSet(limit int) int       { return min(limit, 1000) }
func (sqliteDialect) Arrays() bool                 { return false }
func (sqliteDialect) ConcurrentWrites() bool       { return false }
func (sqliteDialect) TextOrder(expr string) string { return expr }
func (sqliteDialect) Position(haystack, needle string) string {
	return "instr(" + haystack + ", " + needle + ")"
}
func (sqliteDialect) OffsetOnly() string                { return " LIMIT -1 OFFSET ?" }
func (sqliteDialect) Fence() string                     { return " LIMIT -1 OFFSET 0" }
func (sqliteDialect) LockRowsOf(string) string          { return "" }
func (sqliteDialect) LockSelected(tx *gorm.DB) *gorm.DB { return tx }
func (sqliteDialect) JSONTriples() string {
	return "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)"
}
func (sqliteDialect) IDsIn(ref string, ids []int64, bind func(any) string) string {
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = bind(id)
	}
	return ref + " IN (" + strings.Join(marks, ", ") + ")"
}
func (sqliteDialect) InSubquery(ref, subquery string) string { return ref + " IN (" + subquery + ")" }
func (sqliteDialect) TextsConflict() string                  { return "(org_id, field, value)" }
func (sqliteDialect) TextsMatch(value string) string         { return "t.value = " + value }

// GroupWithoutIndex adds a unary plus: it keeps SQLite from reading the
// issues in the order of an index on the column to group without sorting:
// that index does not find the filter's rows, so it read all of them, where
// the filter's own index and a sort of the few values are far cheaper (see
// docs/performance.md).
func (sqliteDialect) GroupWithoutIndex(expr string) string { return "+" + expr }

// SegmentedPages is false: SQLite plans the per-segment reads of a text
// match poorly, and reads its ordered covering index fast enough at the
// sizes it serves.
func (sqliteDialect) SegmentedPages() bool { return false }

// FiltersFirst is false: SQLite plans the fenced subquery poorly (it reads
// the filter through the sort index and its table), and at the sizes it
// serves the ordered read of the default order's index, which carries the
// filter columns, is fast.
func (sqliteDialect) FiltersFirst() bool { return false }

// ExactNames leaves conditions on columns matched through several
// expressions on SQLite's lower() indexes.
func (sqliteDialect) ExactNames(multiExpr bool) bool { return !multiExpr }

func (sqliteDialect) readTx(db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.Transaction(fn)
}

// beginWrite takes the database's write lock, waiting on the busy timeout:
// the driver ignores the DSN's _txlock=immediate when _time_format is also
// given (glebarez/go-sqlite returns early from its parameter parsing), and a
// deferred transaction that reads before it writes fails with SQLITE_BUSY
// instead of waiting when another writer commits first. A write that matches
// no row still takes the write lock.
func (sqliteDialect) beginWrite(tx *gorm.DB) error {
	return tx.Exec("UPDATE organizations SET name = name WHERE id = -1").Error
}

// advisoryLock does nothing: a write transaction holds the database.
func (sqliteDialect) advisoryLock(*gorm.DB, int64) error { return nil }

func (sqliteDialect) open(dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	if dir := filepath.Dir(dsn); dir != "." && dsn != ":memory:" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	return gorm.Open(sqlite.Open(sqliteDSN(dsn)), cfg)
}

func sqliteDSN(path string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return "file:" + path + sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
}

// tune lets readers run in parallel under WAL; write transactions take the
// lock first (beginWrite) and queue on the busy timeout, so clients never
// see "database is locked".
func (sqliteDialect) tune(db *sql.DB, _ int) {
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
}

// prepare refreshes the planner's statistics where they are stale, so the
// grid's indexes are chosen on a database loaded since the last start.
func (sqliteDialect) prepare(ctx context.Context, db *gorm.DB) error {
	if err := db.WithContext(ctx).Exec("PRAGMA optimize").Error; err != nil {
		return fmt.Errorf("optimize sqlite database: %w", err)
	}
	return nil
}

func (sqliteDialect) gooseDialect() database.Dialect { return database.DialectSQLite3 }
