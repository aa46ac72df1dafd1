package repository_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestMigrateFreshDatabase migrates an empty database: every embedded
// migration is recorded, the schema is current, and migrating again
// changes nothing.
func TestMigrateFreshDatabase(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d repository.Dialect) {
		ctx := context.Background()
		repo := openEmpty(t, d)
		if current, err := repo.MigrationsCurrent(ctx); err != nil || current {
			t.Fatalf("an empty database is current: %v, %v", current, err)
		}
		for range 2 {
			if err := repo.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := appliedVersions(t, repo), embeddedVersions(t, d); !slices.Equal(got, want) {
				t.Fatalf("versions applied %v, want the embedded migrations' %v", got, want)
			}
		}
		if current, err := repo.MigrationsCurrent(ctx); err != nil || !current {
			t.Fatalf("a migrated database is not current: %v, %v", current, err)
		}
	})
}

// TestMigrateAdoptsEarlierChain opens a database an earlier build migrated
// to the last version of the chain the baseline was folded from: the
// baseline is recorded as applied without running, the chain's version
// table goes, the data stays and the repository works on it.
func TestMigrateAdoptsEarlierChain(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d repository.Dialect) {
		ctx := context.Background()
		repo := openEmpty(t, d)
		migrateAsChain(t, repo, 17)
		before, err := repo.Accounts.CreateOrganization(ctx, "before-upgrade")
		if err != nil {
			t.Fatal(err)
		}
		// A replica's readiness check may run before the migration.
		if current, err := repo.MigrationsCurrent(ctx); err != nil || current {
			t.Fatalf("a database of the earlier chain is current: %v, %v", current, err)
		}
		if err := repo.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if repo.DB().Migrator().HasTable("goose_db_version") {
			t.Error("the earlier chain's version table is still there")
		}
		if got, want := appliedVersions(t, repo), embeddedVersions(t, d); !slices.Equal(got, want) {
			t.Errorf("versions applied %v, want the embedded migrations' %v", got, want)
		}
		if current, err := repo.MigrationsCurrent(ctx); err != nil || !current {
			t.Errorf("the adopted database is not current: %v, %v", current, err)
		}
		o, err := repo.Accounts.OrganizationByName(ctx, "before-upgrade")
		if err != nil || o.ID != before.ID {
			t.Errorf("the organisation made before the upgrade: %v, %v", o, err)
		}
		if _, err := repo.Accounts.CreateOrganization(ctx, "after-upgrade"); err != nil {
			t.Errorf("after the upgrade: %v", err)
		}
		if err := repo.CheckRollups(ctx, before.ID); err != nil {
			t.Errorf("after the upgrade: %v", err)
		}
	})
}

// TestMigrateRefusesPartOfEarlierChain opens a database an earlier build
// left at a version before the chain's last: Migrate refuses with what to
// do, and changes nothing.
func TestMigrateRefusesPartOfEarlierChain(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d repository.Dialect) {
		ctx := context.Background()
		repo := openEmpty(t, d)
		migrateAsChain(t, repo, 12)
		err := repo.Migrate(ctx)
		if err == nil {
			t.Fatal("Migrate accepted version 12 of the earlier chain")
		}
		for _, want := range []string{"version 12", "version 17", "00017_pack_evaluation_cell_index.sql", "empty database"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q: %v", want, err)
			}
		}
		if !repo.DB().Migrator().HasTable("goose_db_version") || repo.DB().Migrator().HasTable("goose_schema_version") {
			t.Error("the refused migration changed the version tables")
		}
		if current, err := repo.MigrationsCurrent(ctx); err != nil || current {
			t.Errorf("a database of part of the earlier chain is current: %v, %v", current, err)
		}
	})
}

// TestSchemasHaveTheSameColumns checks that the two dialects' schemas have
// the same tables with the same columns in the same order (their indexes
// differ by design).
func TestSchemasHaveTheSameColumns(t *testing.T) {
	backends := repotest.Backends(t)
	if len(backends) < 2 {
		t.Skip("needs SQLite and PostgreSQL")
	}
	columns := func(b *repotest.Backend) map[string][]string {
		m := b.Repo.DB().Migrator()
		tables, err := m.GetTables()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, table := range tables {
			if strings.HasPrefix(table, "goose_") || table == "sqlite_sequence" {
				continue
			}
			cols, err := m.ColumnTypes(table)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cols {
				out[table] = append(out[table], c.Name())
			}
		}
		return out
	}
	sqlite, pg := columns(backends[0]), columns(backends[1])
	if len(sqlite) == 0 {
		t.Fatal("no tables")
	}
	for table, cols := range sqlite {
		if !slices.Equal(cols, pg[table]) {
			t.Errorf("%s: SQLite %v, PostgreSQL %v", table, cols, pg[table])
		}
	}
	for table := range pg {
		if _, ok := sqlite[table]; !ok {
			t.Errorf("%s is only on PostgreSQL", table)
		}
	}
}

// migrateAsChain leaves repo's database as an earlier build left it at
// version of the chain of migrations the baseline was folded from: the
// versions recorded in goose's default table, over the baseline's schema
// (the chain's schema at its last version; scripts/schema-diff.sh compares
// them).
func migrateAsChain(t *testing.T, repo *repository.Repository, version int64) {
	t.Helper()
	ctx := context.Background()
	sqlDB, err := repo.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fs.Sub(repository.MigrationFiles(), repo.Dialect().String())
	if err != nil {
		t.Fatal(err)
	}
	dialect := map[repository.Dialect]database.Dialect{
		repository.SQLite: database.DialectSQLite3, repository.Postgres: database.DialectPostgres,
	}[repo.Dialect()]
	p, err := goose.NewProvider(dialect, sqlDB, fsys, goose.WithTableName("goose_db_version"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	store, err := database.NewStore(dialect, "goose_db_version")
	if err != nil {
		t.Fatal(err)
	}
	for v := int64(2); v <= version; v++ {
		if err := store.Insert(ctx, sqlDB, database.InsertRequest{Version: v}); err != nil {
			t.Fatal(err)
		}
	}
}

// appliedVersions are the migrations recorded in the database, in order.
func appliedVersions(t *testing.T, repo *repository.Repository) []int64 {
	t.Helper()
	var out []int64
	if err := repo.DB().Raw("SELECT version_id FROM goose_schema_version WHERE version_id > 0 AND is_applied ORDER BY version_id").
		Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// embeddedVersions are the versions of the dialect's embedded migrations.
func embeddedVersions(t *testing.T, d repository.Dialect) []int64 {
	t.Helper()
	entries, err := fs.ReadDir(repository.MigrationFiles(), d.String())
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, e := range entries {
		v, err := goose.NumericComponent(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	if len(out) == 0 || out[0] != 1 {
		t.Fatalf("the %s migrations do not start with the baseline 00001: %v", d, out)
	}
	return out
}

// forEachDialect runs f as a subtest on each dialect.
func forEachDialect(t *testing.T, f func(t *testing.T, d repository.Dialect)) {
	for _, d := range []repository.Dialect{repository.SQLite, repository.Postgres} {
		t.Run(d.String(), func(t *testing.T) { f(t, d) })
	}
}

// openEmpty opens an empty database of the dialect, dropped after the
// test.
func openEmpty(t *testing.T, d repository.Dialect) *repository.Repository {
	t.Helper()
	repo, err := repository.Open(context.Background(), emptyDatabase(t, d), repository.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	return repo
}

// emptyDatabase makes an empty database of the dialect, dropped after the
// test.
func emptyDatabase(t *testing.T, d repository.Dialect) string {
	t.Helper()
	if d == repository.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "upgrade.db")
	}
	admin, err := sql.Open("pgx", repotest.PostgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL: %v", err)
		}
		t.Skipf("PostgreSQL does not answer: %v", err)
	}
	name := fmt.Sprintf("policyresults_upgrade_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", repotest.PostgresAdminURL())
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	u, err := url.Parse(repotest.PostgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
