package repository

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// migrationProvider returns the goose provider for the repository's dialect.
func (r *Repository) migrationProvider() (*goose.Provider, error) {
	sqlDB, err := r.db.DB()
	if err != nil {
		return nil, err
	}
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	if r.dialect == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, sqlDB, fsys)
}

// Migrate applies every pending migration.
func (r *Repository) Migrate(ctx context.Context) error {
	p, err := r.migrationProvider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// MigrationsCurrent reports whether the database schema is at the latest
// version this binary knows.
func (r *Repository) MigrationsCurrent(ctx context.Context) (bool, error) {
	p, err := r.migrationProvider()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, err
	}
	return !pending, nil
}

// MigrationFiles exposes the embedded migrations (for test templates).
func MigrationFiles() fs.FS { return migrations }
