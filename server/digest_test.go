package server_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// orgDigester reads a cheap digest of everything an organisation holds:
// the rows orgSnapshot reads (without tokens' last_used_at), but rendered
// by the database and read in one statement, and per table only the row
// count and a SHA-256 of the sorted rows. The contract fuzz takes one
// around every refused write.
type orgDigester struct {
	repo  *repository.Repository
	query string
	binds int
	// conn is a connection of SQLite's pool kept for data_version, which
	// tells the commits of the other connections.
	conn *sql.Conn
}

func newOrgDigester(t testing.TB, r *repository.Repository) *orgDigester {
	t.Helper()
	tables := append([]string{"organizations"}, tenantTables(t, r)...)
	var cols []struct{ Table, Column string }
	q := `SELECT m.name AS "table", p.name AS "column" FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid`
	quote := func(c string) string { return `quote("` + c + `")` }
	if r.Dialect() == repository.Postgres {
		q = `SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`
		quote = func(c string) string { return `quote_nullable("` + c + `"::text)` }
	}
	if err := r.DB().Raw(q).Scan(&cols).Error; err != nil {
		t.Fatal(err)
	}
	rendered := map[string][]string{}
	for _, c := range cols {
		if c.Column != "last_used_at" {
			rendered[c.Table] = append(rendered[c.Table], quote(c.Column))
		}
	}
	d := &orgDigester{repo: r}
	var parts []string
	for _, table := range tables {
		where := orgRowsWhere(table)
		if table == "organizations" {
			where = "id = ?"
		}
		// Table and column names come from the catalogue, never from input.
		parts = append(parts, fmt.Sprintf(`SELECT '%s' AS t, %s AS r FROM %s WHERE %s`, table, strings.Join(rendered[table], ` || ',' || `), table, where))
		d.binds += strings.Count(where, "?")
	}
	d.query = strings.Join(parts, "\nUNION ALL\n")
	if r.Dialect() == repository.SQLite {
		db, err := r.DB().DB()
		if err != nil {
			t.Fatal(err)
		}
		if d.conn, err = db.Conn(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.conn.Close() })
	}
	return d
}

// dataVersion is SQLite's PRAGMA data_version on d's own connection: it
// changes when another connection commits.
func (d *orgDigester) dataVersion() (int64, error) {
	var v int64
	err := d.conn.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v)
	return v, err
}

// digest is one line per table: its name, row count and rows' hash.
func (d *orgDigester) digest(orgID int64) (string, error) {
	rows, err := d.repo.DB().Raw(d.query, repeat(orgID, d.binds)...).Rows()
	if err != nil {
		return "", err
	}
	defer rows.Close()
	// Rows come in any order: a table's hash is the sum of its rows'
	// hashes, which no order changes (sorting in the database costs more
	// than the rest of the digest).
	type table struct {
		rows int
		sum  uint64
	}
	tables := map[string]*table{}
	for rows.Next() {
		var t, r string
		if err := rows.Scan(&t, &r); err != nil {
			return "", err
		}
		tb := tables[t]
		if tb == nil {
			tb = &table{}
			tables[t] = tb
		}
		h := sha256.Sum256([]byte(r))
		tb.rows++
		tb.sum += binary.LittleEndian.Uint64(h[:8])
	}
	var sb strings.Builder
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		fmt.Fprintf(&sb, "%s: %d rows %016x\n", name, tables[name].rows, tables[name].sum)
	}
	return sb.String(), rows.Err()
}

// TestOrgDigestSeesEveryWrite checks the digest against orgSnapshot: equal
// digests where nothing changed, different ones after a write to any of
// several tables, and nothing of another organisation in it.
func TestOrgDigestSeesEveryWrite(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org, other := env.NewOrg(t), env.NewOrg(t)
		seedStacks(t, env, org, 1, 3)
		d := newOrgDigester(t, b.Repo)
		digest := func() string {
			t.Helper()
			s, err := d.digest(org.ID)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		before := digest()
		if again := digest(); again != before {
			t.Fatalf("two digests of unchanged data differ:\n%s\n%s", before, again)
		}
		if !strings.Contains(before, "policy_issues: ") || strings.Contains(before, "policy_issues: 0 rows") {
			t.Fatalf("the digest misses the issues:\n%s", before)
		}
		seedStacks(t, env, other, 1, 3)
		if after := digest(); after != before {
			t.Fatalf("another organisation's writes changed the digest:\n%s", firstDifference(before, after))
		}
		for _, write := range []string{
			`UPDATE policy_issues SET priority = 'p0' WHERE org_id = ? AND priority <> 'p0'`,
			`UPDATE policy_groups SET mode = 'audit' WHERE org_id = ? AND name = 'default-policy-group'`,
			`DELETE FROM issue_history WHERE org_id = ? AND id = (SELECT MIN(id) FROM issue_history WHERE org_id = ?)`,
		} {
			prev := digest()
			args := []any{org.ID}
			if strings.Count(write, "?") == 2 {
				args = append(args, org.ID)
			}
			var version int64
			if d.conn != nil {
				var err error
				if version, err = d.dataVersion(); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Repo.DB().Exec(write, args...).Error; err != nil {
				t.Fatal(err)
			}
			if digest() == prev {
				t.Errorf("the digest did not change after %s", write)
			}
			if d.conn != nil {
				if after, err := d.dataVersion(); err != nil || after == version {
					t.Errorf("data_version %d did not change after %s (%v)", after, write, err)
				}
			}
		}
	})
}
