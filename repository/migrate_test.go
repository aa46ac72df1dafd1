package repository_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestMigrationFillsTextDictionary upgrades a database holding issues from
// before the text dictionary (migration 5) and checks that migration 6
// gives every existing issue its dictionary references, on both databases.
func TestMigrationFillsTextDictionary(t *testing.T) {
	for _, d := range []repository.Dialect{repository.SQLite, repository.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dbURL := emptyDatabase(t, d)
			repo, err := repository.Open(ctx, dbURL, repository.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			if err := repo.MigrateTo(ctx, 5); err != nil {
				t.Fatal(err)
			}
			urns := []string{
				"urn:pulumi:prod::payments::aws:s3/bucket:Bucket::logs",
				"urn:pulumi:dev::payments::aws:s3/bucket:Bucket::logs",
				"urn:pulumi:prod::payments::pulumi:pulumi:Stack::payments-prod",
				"urn:pulumi:a:::b::c::d",
			}
			db := repo.DB()
			for _, stmt := range []string{
				"INSERT INTO organizations (id, name) VALUES (1, 'upgraded')",
				"INSERT INTO entities (org_id, id, type, project, name) VALUES (1, 1, 'stack', 'payments', 'prod')",
			} {
				if err := db.Exec(stmt).Error; err != nil {
					t.Fatal(err)
				}
			}
			for i, urn := range urns {
				_, name, _ := strings.Cut(urn[strings.LastIndex(urn, "::"):], "::")
				if err := db.Exec(`INSERT INTO policy_issues (org_id, id, entity_ref, entity_type, entity_project, entity_id,
					policy_pack, policy_name, resource_urn, resource_name, message, observed_at, last_modified, level,
					status, active, kind, priority) VALUES (1, ?, 1, 'stack', 'payments', 'prod', 'aws-cis', ?, ?, ?, ?, ?, ?,
					'mandatory', 'open', true, 'preventative', 'p1')`,
					fmt.Sprintf("issue-%d", i), fmt.Sprintf("policy-%d", i%2), urn, name, "fails on "+name,
					time.Now().UTC(), time.Now().UTC()).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := repo.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var texts int64
			if err := db.Raw("SELECT COUNT(*) FROM issue_texts WHERE org_id = 1").Scan(&texts).Error; err != nil {
				t.Fatal(err)
			}
			// Names: logs, payments-prod, d; messages: the same three;
			// URN prefixes: prod, dev, a:::b (one each); rests: three.
			if texts != 3+3+3+3 {
				t.Errorf("dictionary holds %d values, want 12", texts)
			}
			// The other rollups were never filled for these rows; the
			// dictionary references must agree with a recount.
			err = repo.CheckRollups(ctx, 1)
			if err == nil {
				t.Fatal("CheckRollups found the empty issue cube consistent with four issues")
			}
			if strings.Contains(err.Error(), "issue_texts") {
				t.Errorf("after the migration: %v", err)
			}
		})
	}
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
