package compliance

import (
	"cmp"
	"strings"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/store"
)

// Apply writes a transaction's delta. It runs last in the
// transaction, after the issues and resources are written.
func (s *Store) Apply(tx *gorm.DB, orgID int64, d *Delta) error {
	keys := store.SortedChanges(d.counts, compareCountKeys)
	if err := s.upsertCounts(tx, orgID, keys, d.counts); err != nil {
		return err
	}
	for _, k := range store.SortedChanges(d.outcomes, compareOutcomeKeys) {
		v := d.outcomes[k]
		if err := tx.Exec(`INSERT INTO outcome_counts (org_id, group_id, pack_name, policy_name, severity, outcomes, governed)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, group_id, pack_name, policy_name, severity)
			DO UPDATE SET outcomes = outcome_counts.outcomes + excluded.outcomes, governed = outcome_counts.governed + excluded.governed`,
			orgID, k.GroupID, k.PackName, k.PolicyName, k.Severity, v.outcomes, v.governed).Error; err != nil {
			return err
		}
	}
	pkeys := store.SortedChanges(d.policies, comparePolicyKeys)
	if err := s.upsertPolicyCounts(tx, orgID, pkeys, d.policies); err != nil {
		return err
	}
	cells := store.SortedChanges(d.cells, func(a, b cellKey) int {
		return cmp.Or(cmp.Compare(a.EntityRef, b.EntityRef), strings.Compare(a.PackName, b.PackName))
	})
	for _, c := range cells {
		if err := s.recountCell(tx, orgID, c); err != nil {
			return err
		}
	}
	entities := store.SortedChanges(d.entities, cmp.Compare[int64])
	for _, e := range entities {
		if err := s.recountEntity(tx, orgID, e); err != nil {
			return err
		}
	}
	return nil
}

const countColumns = `org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
	level, severity, severity_rank, status, status_rank, active, kind, priority, assignee_login, assignee_email,
	policy_group_name, policy_group_type, n`

// countConflict is the issue counts' unique key.
var countConflict = "(org_id, " + strings.Join(CountKeyColumns, ", ") + ")"

func (s *Store) upsertCounts(tx *gorm.DB, orgID int64, keys []CountKey, delta map[CountKey]int64) error {
	if len(keys) == 0 {
		return nil
	}
	if s.dialect.Arrays() {
		c := countArrays(orgID, keys, delta)
		return store.ExecArrays(tx, countsUpsertSQL(c, 1, ""), c.Args...)
	}
	const perRow = 20
	for _, batch := range store.Chunk(keys, store.BatchRows(s.dialect, perRow)) {
		marks := make([]string, len(batch))
		args := make([]any, 0, len(batch)*perRow)
		for i, k := range batch {
			marks[i] = "(" + strings.Repeat("?, ", perRow-1) + "?)"
			f := k.Fields()
			args = append(args, orgID, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], policy.SeverityRank(k.Severity),
				f[8], policy.StatusRank(k.Status), policy.IsActive(k.Status), f[9], f[10], f[11], f[12], f[13], f[14], delta[k])
		}
		if err := tx.Exec("INSERT INTO issue_counts ("+countColumns+") VALUES "+strings.Join(marks, ", ")+
			" ON CONFLICT "+countConflict+" DO UPDATE SET n = issue_counts.n + excluded.n", args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// countArrays lays the changes of the issue counts out as unnest columns.
func countArrays(orgID int64, keys []CountKey, delta map[CountKey]int64) *store.Arrays {
	n := len(keys)
	cols := make([][]string, len(CountKeyColumns))
	for i := range cols {
		cols[i] = make([]string, n)
	}
	org, ns := make([]int64, n), make([]int64, n)
	sevRank, statRank := make([]int32, n), make([]int32, n)
	active := make([]bool, n)
	for i, k := range keys {
		for j, f := range k.Fields() {
			cols[j][i] = f
		}
		org[i], ns[i] = orgID, delta[k]
		sevRank[i], statRank[i], active[i] = int32(policy.SeverityRank(k.Severity)), int32(policy.StatusRank(k.Status)), policy.IsActive(k.Status)
	}
	c := &store.Arrays{}
	c.Add("org_id", "bigint", org)
	for j, name := range CountKeyColumns {
		c.Add(name, "text", cols[j])
		switch name {
		case "severity":
			c.Add("severity_rank", "smallint", sevRank)
		case "status":
			c.Add("status_rank", "smallint", statRank)
			c.Add("active", "boolean", active)
		}
	}
	c.Add("n", "bigint", ns)
	return c
}

// countsUpsertSQL adds c's rows (countArrays) to the issue counts; its
// parameters are numbered from first, and where ("" or a WHERE clause)
// filters the rows.
func countsUpsertSQL(c *store.Arrays, first int, where string) string {
	return c.InsertSQL("issue_counts", strings.TrimSpace(where+" ON CONFLICT "+countConflict+" DO UPDATE SET n = issue_counts.n + EXCLUDED.n"), first)
}

func (s *Store) upsertPolicyCounts(tx *gorm.DB, orgID int64, keys []policyCountKey, delta map[policyCountKey]int64) error {
	if len(keys) == 0 {
		return nil
	}
	if s.dialect.Arrays() {
		n := len(keys)
		org, ref, active := make([]int64, n), make([]int64, n), make([]int64, n)
		pack, policy := make([]string, n), make([]string, n)
		for i, k := range keys {
			org[i], ref[i], pack[i], policy[i], active[i] = orgID, k.EntityRef, k.PolicyPack, k.PolicyName, delta[k]
		}
		c := &store.Arrays{}
		c.Add("org_id", "bigint", org)
		c.Add("entity_ref", "bigint", ref)
		c.Add("policy_pack", "text", pack)
		c.Add("policy_name", "text", policy)
		c.Add("active", "bigint", active)
		return store.ExecArrays(tx, c.InsertSQL("issue_policy_counts",
			"ON CONFLICT (org_id, entity_ref, policy_pack, policy_name) DO UPDATE SET active = issue_policy_counts.active + EXCLUDED.active", 1),
			c.Args...)
	}
	for _, batch := range store.Chunk(keys, store.BatchRows(s.dialect, 5)) {
		marks := make([]string, len(batch))
		args := make([]any, 0, len(batch)*5)
		for i, k := range batch {
			marks[i] = "(?, ?, ?, ?, ?)"
			args = append(args, orgID, k.EntityRef, k.PolicyPack, k.PolicyName, delta[k])
		}
		if err := tx.Exec(`INSERT INTO issue_policy_counts (org_id, entity_ref, policy_pack, policy_name, active) VALUES `+
			strings.Join(marks, ", ")+` ON CONFLICT (org_id, entity_ref, policy_pack, policy_name)
			DO UPDATE SET active = issue_policy_counts.active + excluded.active`, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// recountEntity recounts an entity's governed resources and resources with
// an active issue. The row's lock is taken by a statement of its own, so
// the counting statements that follow see every transaction that changed
// the entity and committed before it.
func (s *Store) recountEntity(tx *gorm.DB, orgID, entityRef int64) error {
	if err := tx.Exec(`INSERT INTO entity_counts (org_id, entity_ref, governed_resources, resources_with_issues) VALUES (?, ?, 0, 0)
		ON CONFLICT (org_id, entity_ref) DO UPDATE SET governed_resources = entity_counts.governed_resources`,
		orgID, entityRef).Error; err != nil {
		return err
	}
	return tx.Exec(`UPDATE entity_counts SET
		governed_resources = (SELECT COUNT(*) FROM resources r WHERE r.org_id = ? AND r.entity_id = ? AND r.governed),
		resources_with_issues = (SELECT COUNT(*) FROM (SELECT DISTINCT i.resource_urn FROM policy_issues i
		                         WHERE i.org_id = ? AND i.entity_ref = ? AND i.active) x)
		WHERE org_id = ? AND entity_ref = ?`, orgID, entityRef, orgID, entityRef, orgID, entityRef).Error
}

// recountCell recounts a compliance cell (entity_pack_counts), locking its
// row first like recountEntity. A pack never evaluated on the entity has no
// cell.
func (s *Store) recountCell(tx *gorm.DB, orgID int64, c cellKey) error {
	var evaluated int64
	if err := tx.Raw(`SELECT COUNT(*) FROM pack_evaluations WHERE org_id = ? AND entity_id = ? AND pack_name = ?`,
		orgID, c.EntityRef, c.PackName).Row().Scan(&evaluated); err != nil {
		return err
	}
	if evaluated == 0 {
		return tx.Exec(`DELETE FROM entity_pack_counts WHERE org_id = ? AND entity_ref = ? AND pack_name = ?`,
			orgID, c.EntityRef, c.PackName).Error
	}
	if err := tx.Exec(`INSERT INTO entity_pack_counts (org_id, entity_ref, pack_name, all_error, policies, failing)
		VALUES (?, ?, ?, ?, 0, 0) ON CONFLICT (org_id, entity_ref, pack_name) DO UPDATE SET policies = entity_pack_counts.policies`,
		orgID, c.EntityRef, c.PackName, false).Error; err != nil {
		return err
	}
	return tx.Exec(`UPDATE entity_pack_counts SET `+cellColumnsSQL+` WHERE org_id = ? AND entity_ref = ? AND pack_name = ?`,
		orgID, c.EntityRef, c.PackName, orgID, c.EntityRef, c.PackName, orgID, c.EntityRef, c.PackName,
		orgID, c.EntityRef, c.PackName).Error
}

// cellColumnsSQL computes a cell's columns; it takes (org, entity, pack)
// three times.
const cellColumnsSQL = `
	all_error = (SELECT COALESCE(MIN(CASE WHEN pe.error IS NULL THEN 0 ELSE 1 END), 0) = 1 FROM pack_evaluations pe
	             WHERE pe.org_id = ? AND pe.entity_id = ? AND pe.pack_name = ?),
	policies = (SELECT COUNT(DISTINCT o.policy_name) FROM policy_outcomes o
	            WHERE o.org_id = ? AND o.entity_id = ? AND o.pack_name = ? AND o.enforcement_level <> 'disabled'),
	failing = (SELECT COUNT(*) FROM issue_policy_counts i WHERE i.org_id = ? AND i.entity_ref = ? AND i.policy_pack = ? AND i.active > 0
	           AND EXISTS (SELECT 1 FROM policy_outcomes o WHERE o.org_id = i.org_id AND o.entity_id = i.entity_ref
	                       AND o.pack_name = i.policy_pack AND o.policy_name = i.policy_name AND o.enforcement_level <> 'disabled'))`
