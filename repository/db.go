// Package repository stores policyresults' data with GORM on PostgreSQL or
// the embedded SQLite database, and computes every score and aggregate in SQL.
package repository

import (
	"context"
	"fmt"
	"io/fs"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/compliance"
	"github.com/policyresults/policyresults/repository/groups"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/migrations"
	"github.com/policyresults/policyresults/repository/packs"
	"github.com/policyresults/policyresults/repository/store"
	"github.com/policyresults/policyresults/repository/texts"
	"github.com/policyresults/policyresults/repository/trends"
)

// Dialect names the database behind a Repository (see store.Dialect).
type Dialect = store.Dialect

// The supported dialects.
var (
	Postgres = store.Postgres
	SQLite   = store.SQLite
)

// DefaultSQLitePath is where the embedded database lives when no
// DATABASE_URL is given.
const DefaultSQLitePath = store.DefaultSQLitePath

// Repository is the data layer of one database. The accounts, the policy
// packs, the policy groups, the issue grid and the compliance reads are
// served by their packages, as the fields Accounts, Packs, Groups, Issues
// and Compliance; the issues' writes and what they keep (ingest, triage,
// the counts, trends) by Repository's own methods. The fields are named rather than embedded so that a call
// names the package that serves it: repo.Packs.CreatePolicyPackVersion is
// found in repository/packs.
type Repository struct {
	// Accounts serves organisations, users, memberships and tokens, and
	// authenticates a request's token.
	Accounts *accounts.Store
	// Packs serves policy packs, their versions and archives, and the
	// registry's listing.
	Packs *packs.Store
	// Groups serves policy groups and what applies to an entity through
	// them.
	Groups *groups.Store
	// Issues answers the issue grid: pages, groups, export and facets.
	Issues *issuequery.Store
	// Compliance answers the compliance matrix, the metadata, the
	// violations and per-policy compliance from the counts the
	// repository's writes of issues keep through it.
	Compliance *compliance.Store

	store   *store.Store
	db      *gorm.DB
	dialect Dialect
	texts   *texts.Dictionary
	trends  *trends.Store
}

// Options tunes Open.
type Options = store.Options

// ParseURL tells the dialect of a DATABASE_URL and the DSN its driver takes.
// An empty URL means the embedded SQLite database at DefaultSQLitePath;
// "sqlite:PATH" (or "sqlite://PATH") an SQLite file at PATH.
func ParseURL(databaseURL string) (Dialect, string, error) { return store.ParseURL(databaseURL) }

// Open connects to the database named by databaseURL (see ParseURL). It does
// not migrate; call Migrate.
func Open(ctx context.Context, databaseURL string, opts Options) (*Repository, error) {
	s, err := store.Open(ctx, databaseURL, opts)
	if err != nil {
		return nil, err
	}
	dictionary := texts.New(s)
	return &Repository{Accounts: accounts.New(s), Packs: packs.New(s), Groups: groups.New(s), Issues: issuequery.New(s, dictionary),
		Compliance: compliance.New(s), store: s, db: s.DB(), dialect: s.Dialect(), texts: dictionary, trends: trends.New(s)}, nil
}

// Dialect reports the database behind r.
func (r *Repository) Dialect() Dialect { return r.dialect }

// DB exposes the GORM handle for tools that need raw access (benchmarks,
// tests).
func (r *Repository) DB() *gorm.DB { return r.db }

// Trends reads, checks and rebuilds the organisations' trends, which the
// repository's writes of issues keep.
func (r *Repository) Trends() *trends.Store { return r.trends }

// Ping checks that the database answers.
func (r *Repository) Ping(ctx context.Context) error { return r.store.Ping(ctx) }

// Close closes the connection pool.
func (r *Repository) Close() error { return r.store.Close() }

// Migrate applies every pending migration (see store.Store.Migrate), then
// replays the trends of organisations that have none from their history.
func (r *Repository) Migrate(ctx context.Context) error {
	if err := r.store.Migrate(ctx); err != nil {
		return err
	}
	if err := r.trends.Backfill(ctx); err != nil {
		return fmt.Errorf("migrate: replay the trends from the history: %w", err)
	}
	return nil
}

// MigrationsCurrent reports whether the database schema is at the latest
// version this binary knows.
func (r *Repository) MigrationsCurrent(ctx context.Context) (bool, error) {
	return r.store.MigrationsCurrent(ctx)
}

// MigrationFiles exposes the embedded migrations, one directory per
// dialect (for test templates).
func MigrationFiles() fs.FS { return migrations.FS }

// transaction runs fn in a write transaction (see store.Store.Transaction).
func (r *Repository) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return r.store.Transaction(ctx, fn)
}
