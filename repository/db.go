// Package repository stores policyresults' data with GORM on PostgreSQL or
// the embedded SQLite database, and computes every score and aggregate in SQL.
package repository

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database behind a Repository.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DefaultSQLitePath is where the embedded database lives when no
// DATABASE_URL is given.
const DefaultSQLitePath = "data/policyresults.db"

// Repository is the data layer of one database.
type Repository struct {
	db      *gorm.DB
	dialect Dialect
	texts   textCache
}

// Options tunes Open.
type Options struct {
	// MaxOpenConns bounds the PostgreSQL pool (default 20).
	MaxOpenConns int
	// Logger receives slow queries; nil means slog.Default().
	Logger *slog.Logger
}

// ParseURL tells the dialect of a DATABASE_URL and the DSN its driver takes.
// An empty URL means the embedded SQLite database at DefaultSQLitePath;
// "sqlite:PATH" (or "sqlite://PATH") an SQLite file at PATH.
func ParseURL(databaseURL string) (Dialect, string, error) {
	switch {
	case databaseURL == "":
		return SQLite, DefaultSQLitePath, nil
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		if _, err := url.Parse(databaseURL); err != nil {
			return "", "", fmt.Errorf("DATABASE_URL: %w", err)
		}
		return Postgres, databaseURL, nil
	case strings.HasPrefix(databaseURL, "sqlite://"):
		return SQLite, strings.TrimPrefix(databaseURL, "sqlite://"), nil
	case strings.HasPrefix(databaseURL, "sqlite:"):
		return SQLite, strings.TrimPrefix(databaseURL, "sqlite:"), nil
	}
	return "", "", errors.New("DATABASE_URL must start with postgres://, postgresql:// or sqlite:")
}

// Open connects to the database named by databaseURL (see ParseURL). It does
// not migrate; call Migrate.
func Open(ctx context.Context, databaseURL string, opts Options) (*Repository, error) {
	dialect, dsn, err := ParseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg := &gorm.Config{
		TranslateError: true,
		Logger:         newGormLogger(log),
		NowFunc:        func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var db *gorm.DB
	switch dialect {
	case Postgres:
		db, err = gorm.Open(postgres.New(postgres.Config{DSN: dsn}), cfg)
	case SQLite:
		if dir := filepath.Dir(dsn); dir != "." && dsn != ":memory:" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("create %s: %w", dir, err)
			}
		}
		db, err = gorm.Open(sqlite.Open(sqliteDSN(dsn)), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	switch dialect {
	case Postgres:
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	case SQLite:
		// Readers run in parallel under WAL; write transactions take the lock
		// first (see transaction) and queue on the busy timeout, so clients
		// never see "database is locked".
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		// Refresh the planner's statistics where they are stale, so the grid's
		// indexes are chosen on a database loaded since the last start.
		if err := db.WithContext(ctx).Exec("PRAGMA optimize").Error; err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("optimize sqlite database: %w", err)
		}
	}
	return &Repository{db: db, dialect: dialect}, nil
}

func sqliteDSN(path string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return "file:" + path + sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
}

// Dialect reports the database behind r.
func (r *Repository) Dialect() Dialect { return r.dialect }

// DB exposes the GORM handle for tools that need raw access (benchmarks,
// tests).
func (r *Repository) DB() *gorm.DB { return r.db }

// Ping checks that the database answers.
func (r *Repository) Ping(ctx context.Context) error {
	sqlDB, err := r.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool.
func (r *Repository) Close() error {
	sqlDB, err := r.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// gormLogger reports slow queries and errors other than "not found" to slog.
type gormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func newGormLogger(log *slog.Logger) logger.Interface {
	return &gormLogger{log: log, slow: 500 * time.Millisecond}
}

func (l *gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.InfoContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled) && !errors.Is(err, gorm.ErrDuplicatedKey):
		sql, _ := fc()
		l.log.DebugContext(ctx, "query failed", "error", err, "elapsed", elapsed, "sql", truncate(sql, 500))
	case elapsed > l.slow:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow query", "elapsed", elapsed, "rows", rows, "sql", truncate(sql, 500))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// transaction runs fn in a write transaction; every read-then-write
// transaction of the repository goes through it. On SQLite its first
// statement takes the database's write lock, waiting on the busy timeout: the
// driver ignores the DSN's _txlock=immediate when _time_format is also given
// (glebarez/go-sqlite returns early from its parameter parsing), and a
// deferred transaction that reads before it writes fails with SQLITE_BUSY
// instead of waiting when another writer commits first.
func (r *Repository) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if r.dialect == SQLite {
			// A write that matches no row still takes the write lock.
			if err := tx.Exec("UPDATE organizations SET name = name WHERE id = -1").Error; err != nil {
				return err
			}
		}
		return fn(tx)
	})
}
