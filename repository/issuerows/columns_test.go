package issuerows_test

import (
	"slices"
	"testing"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestIssueColumnsMatchTable checks the registry of policy_issues' columns
// against the migrated table of each database: the same columns and, on
// PostgreSQL, the types of the bulk insert's arrays.
func TestIssueColumnsMatchTable(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		cols, err := b.Repo.DB().Migrator().ColumnTypes("policy_issues")
		if err != nil {
			t.Fatal(err)
		}
		var table []string
		for _, c := range cols {
			table = append(table, c.Name())
		}
		registry := slices.Clone(issuerows.ColumnNames)
		slices.Sort(table)
		slices.Sort(registry)
		if !slices.Equal(registry, table) {
			t.Errorf("registry columns\n %v\nmigrated table's\n %v", registry, table)
		}
		if b.Dialect != repository.Postgres {
			return
		}
		rows, err := b.Repo.DB().Raw(`SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
			WHERE attrelid = 'policy_issues'::regclass AND attnum > 0 AND NOT attisdropped`).Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			want := issuerows.ColumnTypes[name]
			if want == "timestamptz" {
				want = "timestamp with time zone"
			}
			if typ != want {
				t.Errorf("%s is %s in the table, %s in the registry", name, typ, issuerows.ColumnTypes[name])
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
}
