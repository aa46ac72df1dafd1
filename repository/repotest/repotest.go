// Package repotest gives tests real databases: an SQLite file per test
// package and, where PostgreSQL answers, one fresh PostgreSQL database per
// test package cloned from a migrated template.
//
// PostgreSQL is found at TEST_DATABASE_URL or, failing that, at
// postgres://postgres@127.0.0.1:5432/postgres. With CI=true a missing
// PostgreSQL fails the tests instead of skipping them.
package repotest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver for admin connections

	"github.com/policyresults/policyresults/repository"
)

// DefaultPostgresURL is the local server tried when TEST_DATABASE_URL is
// unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Backend is one database a test runs against.
type Backend struct {
	Dialect repository.Dialect
	Repo    *repository.Repository
	URL     string
}

var (
	mu       sync.Mutex
	backends = map[repository.Dialect]*Backend{}
	cleanups []func()
)

// Main runs a test package's tests and then drops the databases it made.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for _, c := range cleanups {
		c()
	}
	mu.Unlock()
	os.Exit(code)
}

// Backends returns the databases of this test package: SQLite always and
// PostgreSQL where one answers (required when CI=true). Each is migrated.
func Backends(t testing.TB) []*Backend {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	out := []*Backend{}
	for _, d := range []repository.Dialect{repository.SQLite, repository.Postgres} {
		b, ok := backends[d]
		if !ok {
			var err error
			b, err = open(d)
			if err != nil {
				if d == repository.Postgres && os.Getenv("CI") != "true" && os.Getenv("TEST_DATABASE_URL") == "" {
					t.Logf("PostgreSQL not available, running on SQLite only: %v", err)
					backends[d] = nil
					continue
				}
				t.Fatalf("open %s test database: %v", d, err)
			}
			backends[d] = b
		}
		if b != nil {
			out = append(out, b)
		}
	}
	return out
}

// Postgres returns the PostgreSQL backend, for a test of what only
// PostgreSQL does (concurrent writers, faults of the server); without one
// it skips the test, which CI=true never allows to happen (Backends fails
// first).
func Postgres(t *testing.T, why string) *Backend {
	t.Helper()
	for _, b := range Backends(t) {
		if b.Dialect == repository.Postgres {
			return b
		}
	}
	t.Skip(why)
	return nil
}

// ForEach runs f as a subtest on each backend.
func ForEach(t *testing.T, f func(t *testing.T, b *Backend)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Dialect.String(), func(t *testing.T) { f(t, b) })
	}
}

func open(d repository.Dialect) (*Backend, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var dbURL string
	switch d {
	case repository.SQLite:
		dir, err := os.MkdirTemp("", "policyresults-test-")
		if err != nil {
			return nil, err
		}
		cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
		dbURL = "sqlite:" + filepath.Join(dir, "test.db")
	case repository.Postgres:
		u, err := clonePostgres(ctx)
		if err != nil {
			return nil, err
		}
		dbURL = u
	}
	repo, err := repository.Open(ctx, dbURL, repository.Options{MaxOpenConns: 10})
	if err != nil {
		return nil, err
	}
	if err := repo.Migrate(ctx); err != nil {
		return nil, err
	}
	cleanups = append([]func(){func() { _ = repo.Close() }}, cleanups...)
	return &Backend{Dialect: d, Repo: repo, URL: dbURL}, nil
}

// PostgresAdminURL is the URL of the server's maintenance database.
func PostgresAdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// clonePostgres makes a fresh database from a template migrated to the
// current migrations (one template per migration set, made once and reused).
func clonePostgres(ctx context.Context) (string, error) {
	adminURL := PostgresAdminURL()
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := admin.PingContext(pingCtx); err != nil {
		return "", err
	}
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Test binaries of several packages run at once: one makes the template,
	// the others wait.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(727274)") //nolint:errcheck

	template := "policyresults_tmpl_" + migrationsHash()
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", template).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+template); err != nil {
			return "", err
		}
		tmplURL, err := withDatabase(adminURL, template)
		if err != nil {
			return "", err
		}
		repo, err := repository.Open(ctx, tmplURL, repository.Options{MaxOpenConns: 1})
		if err != nil {
			return "", err
		}
		err = repo.Migrate(ctx)
		_ = repo.Close()
		if err != nil {
			_, _ = conn.ExecContext(ctx, "DROP DATABASE "+template)
			return "", err
		}
	}
	name := fmt.Sprintf("policyresults_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		return "", err
	}
	cleanups = append(cleanups, func() {
		a, err := sql.Open("pgx", adminURL)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return withDatabase(adminURL, name)
}

func withDatabase(rawURL, db string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + db
	return u.String(), nil
}

// migrationsHash identifies the PostgreSQL migration set, so a changed
// migration gets a new template.
func migrationsHash() string {
	h := sha256.New()
	fsys := repository.MigrationFiles()
	var names []string
	_ = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(path, "postgres/") {
			names = append(names, path)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(fsys, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
