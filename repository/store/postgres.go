package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/pressly/goose/v3/database"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Postgres is the PostgreSQL dialect.
var Postgres Dialect = postgresDialect{}

type postgresDialect struct{}

func (postgresDialect) String() string               { return "postgres" }
func (postgresDialect) MaxParams() int               { return 30000 }
func (postgresDialect) InListSize() int              { return 5000 }
func (postgresDialect) MaxIDSet(limit int) int       { return limit }
func (postgresDialect) Arrays() bool                 { return true }
func (postgresDialect) ConcurrentWrites() bool       { return true }
func (postgresDialect) TextOrder(expr string) string { return expr + ` COLLATE "C"` }
func (postgresDialect) Position(haystack, needle string) string {
	return "strpos(" + haystack + ", " + needle + ")"
}
func (postgresDialect) OffsetOnly() string             { return " OFFSET ?" }
func (postgresDialect) Fence() string                  { return " OFFSET 0" }
func (postgresDialect) LockRowsOf(table string) string { return " FOR UPDATE OF " + table }
func (postgresDialect) LockSelected(tx *gorm.DB) *gorm.DB {
	return tx.Clauses(clause.Locking{Strength: "UPDATE"})
}
func (postgresDialect) JSONTriples() string {
	return "SELECT k->>0, k->>1, k->>2 FROM jsonb_array_elements(CAST(? AS jsonb)) AS k"
}
func (postgresDialect) IDsIn(ref string, ids []int64, bind func(any) string) string {
	return ref + " = ANY(CAST(" + bind(Int64Array(ids)) + " AS bigint[]))"
}
func (postgresDialect) InSubquery(ref, subquery string) string {
	return ref + " = ANY(ARRAY(" + subquery + "))"
}
func (postgresDialect) TextsConflict() string { return "(org_id, field, md5(value))" }
func (postgresDialect) TextsMatch(value string) string {
	return "md5(t.value) = md5(" + value + ") AND t.value = " + value
}
func (postgresDialect) GroupWithoutIndex(expr string) string { return expr }
func (postgresDialect) SegmentedPages() bool                 { return true }
func (postgresDialect) FiltersFirst() bool                   { return true }
func (postgresDialect) ExactNames(bool) bool                 { return true }

// readTx plans its statements for their values every time: the driver
// prepares each statement, and after five runs PostgreSQL may switch to a
// generic plan that ignores the values, which for the grid means ignoring
// how rare the filtered values are (a filter on ignored issues scanning the
// whole default order).
func (postgresDialect) readTx(db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL plan_cache_mode = force_custom_plan").Error; err != nil {
			return err
		}
		return fn(tx)
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

func (postgresDialect) beginWrite(*gorm.DB) error { return nil }

func (postgresDialect) advisoryLock(tx *gorm.DB, key int64) error {
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", key).Error
}

func (postgresDialect) open(dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	return gorm.Open(postgres.New(postgres.Config{DSN: dsn}), cfg)
}

func (postgresDialect) tune(db *sql.DB, maxOpenConns int) {
	n := maxOpenConns
	if n <= 0 {
		n = 20
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

func (postgresDialect) prepare(context.Context, *gorm.DB) error { return nil }

func (postgresDialect) gooseDialect() database.Dialect { return database.DialectPostgres }
