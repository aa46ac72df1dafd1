package issuerows

import (
	"strings"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/store"
)

// The ingest's bulk writes of issues: on PostgreSQL one unnest array per
// column (store.UnnestInsertSQL), elsewhere multi-row VALUES statements
// (see docs/performance.md).

// arrays lays issues out as unnest arrays, one per column of
// insertColumns.
func arrays(rows []model.Issue) []any {
	out := make([]any, len(insertColumns))
	for i, c := range insertColumns {
		out[i] = c.array(rows)
	}
	return out
}

// insertPG and upsertPG insert rows of arrays; the upsert
// overwrites the columns an evaluation owns (updateColumns) of rows
// whose id exists.
var insertPG, upsertPG = func() (string, string) {
	names, types := make([]string, len(insertColumns)), make([]string, len(insertColumns))
	for i, col := range insertColumns {
		names[i], types[i] = col.name, col.pgType
	}
	sets := make([]string, len(updateColumns))
	for i, col := range updateColumns {
		sets[i] = col + " = EXCLUDED." + col
	}
	return store.UnnestInsertSQL("policy_issues", names, types, "", 1),
		store.UnnestInsertSQL("policy_issues", names, types, "ON CONFLICT (org_id, id) DO UPDATE SET "+strings.Join(sets, ", "), 1)
}()

// InsertPG inserts new issues; with update, rows whose id exists
// overwrite the columns an evaluation owns (updateColumns).
func InsertPG(tx *gorm.DB, rows []model.Issue, update bool) error {
	query := insertPG
	if update {
		query = upsertPG
	}
	for _, batch := range store.Chunk(rows, store.ArrayRows) {
		if err := store.ExecArrays(tx, query, arrays(batch)...); err != nil {
			return err
		}
	}
	return nil
}

// InsertValues is InsertPG for a database without arrays:
// multi-row VALUES statements of at most perStatement rows, every column
// bound. Like InsertPG, it runs them on the transaction's connection
// directly: GORM would reflect over each of their values again.
func InsertValues(tx *gorm.DB, rows []model.Issue, update bool, perStatement int) error {
	for _, batch := range store.Chunk(rows, perStatement) {
		var b strings.Builder
		b.WriteString(insertValues)
		args := make([]any, 0, len(batch)*len(table))
		for i := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(valuesRow)
			for _, c := range table {
				args = append(args, c.arg(&batch[i]))
			}
		}
		if update {
			b.WriteString(valuesUpsert)
		}
		if err := store.ExecArrays(tx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// The statement parts of InsertValues: the insert, one row's
// placeholders and the upsert's conflict clause.
var (
	insertValues = "INSERT INTO policy_issues (" + strings.Join(columnNames(table), ", ") + ") VALUES "
	valuesRow    = "(" + strings.Repeat("?, ", len(table)-1) + "?)"
	valuesUpsert = func() string {
		sets := make([]string, len(updateColumns))
		for i, col := range updateColumns {
			sets[i] = col + " = excluded." + col
		}
		return " ON CONFLICT (id) DO UPDATE SET " + strings.Join(sets, ", ")
	}()
)
