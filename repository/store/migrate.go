package store

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/migrations"
)

// The schema is one baseline migration per dialect (00001_schema.sql) and
// the migrations after it, recorded by goose in versionTable.
const versionTable = "goose_schema_version"

// Databases migrated before the baseline existed hold the chain of
// migrations it was folded from, recorded in goose's default table. The
// chain's last version is the baseline's schema exactly
// (scripts/schema-diff.sh compares the two), so such a database takes the
// baseline as applied; at an earlier version it holds part of the schema
// and is refused.
const (
	chainTable   = "goose_db_version"
	chainVersion = 17
	// chainLock serialises processes converting one PostgreSQL database.
	chainLock = 727275
)

// migrationProvider returns the goose provider for the store's dialect and
// the store of its version table.
func (s *Store) migrationProvider() (*goose.Provider, database.Store, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, nil, err
	}
	fsys, err := fs.Sub(migrations.FS, s.dialect.String())
	if err != nil {
		return nil, nil, err
	}
	store, err := database.NewStore(s.dialect.gooseDialect(), versionTable)
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectCustom, sqlDB, fsys, goose.WithStore(store))
	return p, store, err
}

// Migrate applies every pending migration. A database at the last version
// of the chain the baseline was folded from takes the baseline as applied
// first; one at an earlier version of it is an error that says what to do.
func (s *Store) Migrate(ctx context.Context) error {
	p, store, err := s.migrationProvider()
	if err != nil {
		return err
	}
	if err := s.adoptChain(ctx, store); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// adoptChain records the baseline as applied in a database the earlier
// chain migrated to its last version and drops the chain's version table,
// in one transaction. It does nothing where there is no chain table.
func (s *Store) adoptChain(ctx context.Context, store database.Store) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.dialect.advisoryLock(tx, chainLock); err != nil {
			return err
		}
		if !tx.Migrator().HasTable(chainTable) {
			return nil
		}
		var version int64
		if err := tx.Raw("SELECT COALESCE(MAX(version_id), 0) FROM " + chainTable + " WHERE is_applied").
			Scan(&version).Error; err != nil {
			return err
		}
		if version != chainVersion {
			return fmt.Errorf("the database is at version %d of the migrations of an earlier policyresults build, "+
				"and this build starts from one baseline equal to their version %d: migrate it to version %d with "+
				"an earlier build first (one whose last migration is 00017_pack_evaluation_cell_index.sql), "+
				"or start from an empty database", version, chainVersion, chainVersion)
		}
		conn := tx.Statement.ConnPool
		if tx.Migrator().HasTable(versionTable) {
			// A readiness check (MigrationsCurrent) may have created it
			// empty; anything applied in it means both tables are in use.
			var applied int64
			if err := tx.Raw("SELECT COUNT(*) FROM " + versionTable + " WHERE version_id > 0").Scan(&applied).Error; err != nil {
				return err
			}
			if applied > 0 {
				return fmt.Errorf("the database has both %s and %s: drop %s if %s is current", chainTable, versionTable,
					chainTable, versionTable)
			}
		} else {
			if err := store.CreateVersionTable(ctx, conn); err != nil {
				return err
			}
			if err := store.Insert(ctx, conn, database.InsertRequest{Version: 0}); err != nil {
				return err
			}
		}
		if err := store.Insert(ctx, conn, database.InsertRequest{Version: 1}); err != nil {
			return err
		}
		return tx.Exec("DROP TABLE " + chainTable).Error
	})
}

// MigrationsCurrent reports whether the database schema is at the latest
// version this binary knows.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	p, _, err := s.migrationProvider()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, err
	}
	return !pending, nil
}
