package trends

import (
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/store"
)

// Write adds d to issue_trends and issue_trend_totals in tx, its rows in
// one order (so concurrent writers cannot deadlock). The repository calls
// it after the rollups, last in the transaction but for the compliance
// snapshot: the totals' rows are shared by every transaction of the day.
func Write(tx *gorm.DB, dialect store.Dialect, orgID int64, d Delta) error {
	keys := store.SortedChanges(d, compareKeys)
	if len(keys) == 0 {
		return nil
	}
	if err := writeDays(tx, dialect, orgID, d, keys); err != nil {
		return err
	}
	totals := map[key]int64{}
	for _, k := range keys {
		if a := d[k].active; a != 0 {
			totals[key{k.dimension, k.value, ""}] += a
		}
	}
	tkeys := store.SortedChanges(totals, compareKeys)
	for _, batch := range store.Chunk(tkeys, store.BatchRows(dialect, 4)) {
		marks := make([]string, len(batch))
		args := make([]any, 0, len(batch)*4)
		for i, k := range batch {
			marks[i] = "(?, ?, ?, ?)"
			args = append(args, orgID, k.dimension, k.value, totals[k])
		}
		if err := tx.Exec(`INSERT INTO issue_trend_totals (org_id, dimension, value, active) VALUES `+strings.Join(marks, ", ")+
			` ON CONFLICT (org_id, dimension, value) DO UPDATE SET active = issue_trend_totals.active + excluded.active`,
			args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// upsertDaysArrays adds rows given as one array per column to issue_trends.
const upsertDaysArrays = `INSERT INTO issue_trends AS t (org_id, dimension, value, day, opened, fixed, reopened, active_change, fix_seconds)
	SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
	ON CONFLICT (org_id, dimension, value, day) DO UPDATE SET
	opened = t.opened + EXCLUDED.opened, fixed = t.fixed + EXCLUDED.fixed, reopened = t.reopened + EXCLUDED.reopened,
	active_change = t.active_change + EXCLUDED.active_change, fix_seconds = t.fix_seconds + EXCLUDED.fix_seconds`

// writeDays adds d's rows (keys, sorted) to issue_trends.
func writeDays(tx *gorm.DB, dialect store.Dialect, orgID int64, d Delta, keys []key) error {
	if dialect.Arrays() {
		n := len(keys)
		org := make([]int64, n)
		dims, values, days := make([]string, n), make([]string, n), make([]string, n)
		opened, fixed, reopened, active, seconds := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, k := range keys {
			c := d[k]
			org[i], dims[i], values[i], days[i] = orgID, k.dimension, k.value, k.day
			opened[i], fixed[i], reopened[i], active[i], seconds[i] = c.opened, c.fixed, c.reopened, c.active, c.fixSeconds
		}
		return store.ExecArrays(tx, upsertDaysArrays, org, dims, values, days, opened, fixed, reopened, active, seconds)
	}
	const perRow = 9
	for _, batch := range store.Chunk(keys, store.BatchRows(dialect, perRow)) {
		marks := make([]string, len(batch))
		args := make([]any, 0, len(batch)*perRow)
		for i, k := range batch {
			c := d[k]
			marks[i] = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
			args = append(args, orgID, k.dimension, k.value, k.day, c.opened, c.fixed, c.reopened, c.active, c.fixSeconds)
		}
		if err := tx.Exec(`INSERT INTO issue_trends (org_id, dimension, value, day, opened, fixed, reopened, active_change, fix_seconds)
			VALUES `+strings.Join(marks, ", ")+` ON CONFLICT (org_id, dimension, value, day) DO UPDATE SET
			opened = issue_trends.opened + excluded.opened, fixed = issue_trends.fixed + excluded.fixed,
			reopened = issue_trends.reopened + excluded.reopened, active_change = issue_trends.active_change + excluded.active_change,
			fix_seconds = issue_trends.fix_seconds + excluded.fix_seconds`, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// cellScoreSQL is a compliance cell's score (policy.Score) from its
// entity_pack_counts row.
const cellScoreSQL = `CASE WHEN policies = 0 THEN 100 WHEN failing >= policies THEN 0 ELSE 100 * (policies - failing) / policies END`

// SnapshotCompliance sets the day's compliance_trends row of each pack to
// the pack's cells (entity_pack_counts) as they are in tx. The row is
// locked by a statement of its own before the cells are summed: a
// transaction that changed the same pack's cells and committed first is
// then in the sum, and one that commits after writes its own sum after
// this one.
func SnapshotCompliance(tx *gorm.DB, orgID int64, day string, packs []string) error {
	slices.Sort(packs)
	for _, p := range slices.Compact(packs) {
		if err := tx.Exec(`INSERT INTO compliance_trends (org_id, pack_name, day, cells, score_sum) VALUES (?, ?, ?, 0, 0)
			ON CONFLICT (org_id, pack_name, day) DO UPDATE SET cells = compliance_trends.cells`, orgID, p, day).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE compliance_trends SET (cells, score_sum) = (
			SELECT COUNT(*), COALESCE(SUM(`+cellScoreSQL+`), 0) FROM entity_pack_counts
			WHERE org_id = ? AND pack_name = ? AND NOT all_error)
			WHERE org_id = ? AND pack_name = ? AND day = ?`, orgID, p, orgID, p, day).Error; err != nil {
			return err
		}
	}
	return nil
}
