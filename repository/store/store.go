// Package store opens policyresults' database (PostgreSQL or the embedded
// SQLite), migrates it, runs its transactions and defines the errors the
// repository returns; what differs between the two databases is behind
// Dialect.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DefaultSQLitePath is where the embedded database lives when no
// DATABASE_URL is given.
const DefaultSQLitePath = "data/policyresults.db"

// Store is one open database.
type Store struct {
	db      *gorm.DB
	dialect Dialect
}

// Options tunes Open.
type Options struct {
	// MaxOpenConns bounds the PostgreSQL pool (default 20).
	MaxOpenConns int
	// Logger receives slow queries; nil means slog.Default().
	Logger *slog.Logger
	// SlowQuery is how long a query runs before it is logged as slow
	// (default 500ms; negative: every query).
	SlowQuery time.Duration
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
			return nil, "", fmt.Errorf("DATABASE_URL: %w", err)
		}
		return Postgres, databaseURL, nil
	case strings.HasPrefix(databaseURL, "sqlite://"):
		return SQLite, strings.TrimPrefix(databaseURL, "sqlite://"), nil
	case strings.HasPrefix(databaseURL, "sqlite:"):
		return SQLite, strings.TrimPrefix(databaseURL, "sqlite:"), nil
	}
	return nil, "", errors.New("DATABASE_URL must start with postgres://, postgresql:// or sqlite:")
}

// Open connects to the database named by databaseURL (see ParseURL). It does
// not migrate; call Migrate.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
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
		Logger:         newGormLogger(log, opts.SlowQuery),
		NowFunc:        func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	db, err := dialect.open(dsn, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	dialect.tune(sqlDB, opts.MaxOpenConns)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	if err := dialect.prepare(ctx, db); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return &Store{db: db, dialect: dialect}, nil
}

// Dialect reports the database behind s.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB is the GORM handle.
func (s *Store) DB() *gorm.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Transaction runs fn in a write transaction; every read-then-write
// transaction of the repository goes through it. On SQLite its first
// statement takes the database's write lock (see the dialect's beginWrite).
func (s *Store) Transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.dialect.beginWrite(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// ReadTx runs fn in a read-only transaction with one snapshot; on
// PostgreSQL its statements are planned for their values every time.
func (s *Store) ReadTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.dialect.readTx(s.db.WithContext(ctx), fn)
}

// gormLogger reports slow queries and errors other than "not found" to slog.
type gormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func newGormLogger(log *slog.Logger, slow time.Duration) logger.Interface {
	if slow == 0 {
		slow = 500 * time.Millisecond
	}
	return &gormLogger{log: log, slow: slow}
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
