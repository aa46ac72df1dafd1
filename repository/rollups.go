package repository

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/store"
	"gorm.io/gorm"
)

// Rollups (tables of migrations/*/00001_schema.sql) are maintained in the
// transactions that change issues and resources: ingest (ApplyEvaluation)
// and triage (UpdateIssue) add the difference each issue makes, and a group
// rename relabels the cube by trigger. They stay exact: every write of
// policy_issues goes through those paths, increments commute, and
// CheckRollups recounts them from the base tables in tests.
//
//   - issue_counts, the issue cube: issues per combination of the grid's
//     low-cardinality columns (countKey). Counts, facets and metadata filter
//     it instead of the issues.
//   - issue_policy_counts: active issues per (entity, pack, policy), for the
//     compliance matrix.
//   - entity_counts: governed resources and resources with an active issue
//     per entity, for the metadata. Recounted for the entities a
//     transaction touched, under the row's lock, taken last.
//   - outcome_counts: enabled policy outcomes and their
//     governed resources per (group, pack, policy, severity), for the
//     metadata and per-policy compliance.
//   - entity_pack_counts: the compliance matrix's cells, recounted
//     like entity_counts for the (entity, pack) pairs a transaction touched.
//
// Lock order, so concurrent writers cannot deadlock: issues, then cube rows
// (one statement, keys sorted), then outcome rows, then per-policy rows,
// then cells, then entity_counts rows (each sorted).

// countKey is an issue's cell of the issue cube: the columns of
// issue_counts' primary key after org_id, in order.
type countKey struct {
	EntityType, PolicyPack, PolicyPackTag, PolicyName, ResourceProvider, ResourceType, Level, Severity,
	Status, Kind, Priority, AssigneeLogin, AssigneeEmail, PolicyGroupName, PolicyGroupType string
}

func countKeyOf(is *model.Issue) countKey {
	return countKey{
		EntityType: is.EntityType, PolicyPack: is.PolicyPack, PolicyPackTag: is.PolicyPackTag, PolicyName: is.PolicyName,
		ResourceProvider: is.ResourceProvider, ResourceType: is.ResourceType, Level: is.Level, Severity: is.Severity,
		Status: is.Status, Kind: is.Kind, Priority: is.Priority, AssigneeLogin: is.AssigneeLogin,
		AssigneeEmail: is.AssigneeEmail, PolicyGroupName: is.PolicyGroupName, PolicyGroupType: is.PolicyGroupType,
	}
}

func (k countKey) fields() []string {
	return []string{k.EntityType, k.PolicyPack, k.PolicyPackTag, k.PolicyName, k.ResourceProvider, k.ResourceType,
		k.Level, k.Severity, k.Status, k.Kind, k.Priority, k.AssigneeLogin, k.AssigneeEmail, k.PolicyGroupName, k.PolicyGroupType}
}

// countKeyColumns names the issue (and issue count) columns of
// countKey.fields, in its order.
var countKeyColumns = []string{"entity_type", "policy_pack", "policy_pack_tag", "policy_name", "resource_provider",
	"resource_type", "level", "severity", "status", "kind", "priority", "assignee_login", "assignee_email",
	"policy_group_name", "policy_group_type"}

func compareCountKeys(a, b countKey) int {
	af, bf := a.fields(), b.fields()
	for i := range af {
		if c := strings.Compare(af[i], bf[i]); c != 0 {
			return c
		}
	}
	return 0
}

// policyCountKey is a row of issue_policy_counts.
type policyCountKey struct {
	EntityRef  int64
	PolicyPack string
	PolicyName string
}

func comparePolicyKeys(a, b policyCountKey) int {
	return cmp.Or(cmp.Compare(a.EntityRef, b.EntityRef), strings.Compare(a.PolicyPack, b.PolicyPack),
		strings.Compare(a.PolicyName, b.PolicyName))
}

// outcomeKey is a row of outcome_counts.
type outcomeKey struct {
	GroupID                        int64
	PackName, PolicyName, Severity string
}

func compareOutcomeKeys(a, b outcomeKey) int {
	return cmp.Or(cmp.Compare(a.GroupID, b.GroupID), strings.Compare(a.PackName, b.PackName),
		strings.Compare(a.PolicyName, b.PolicyName), strings.Compare(a.Severity, b.Severity))
}

// outcomeDelta is a change of one outcome_counts row.
type outcomeDelta struct{ outcomes, governed int64 }

// cellKey is a compliance cell: a row of entity_pack_counts.
type cellKey struct {
	EntityRef int64
	PackName  string
}

// rollupDelta accumulates what a transaction changes in the rollups.
type rollupDelta struct {
	counts   map[countKey]int64
	policies map[policyCountKey]int64
	outcomes map[outcomeKey]outcomeDelta
	// cells are the compliance cells to recount.
	cells map[cellKey]bool
	// entities are the entities whose entity_counts row is recounted.
	entities map[int64]bool
}

func newRollupDelta() *rollupDelta {
	return &rollupDelta{counts: map[countKey]int64{}, policies: map[policyCountKey]int64{},
		outcomes: map[outcomeKey]outcomeDelta{}, cells: map[cellKey]bool{}, entities: map[int64]bool{}}
}

// add counts an issue in (sign 1) or out (sign -1).
func (d *rollupDelta) add(is *model.Issue, sign int64) {
	d.count(is, sign)
	if is.Active {
		d.touchActive(is)
	}
}

// count adds an issue to the cube and, when active, to its policy's count.
func (d *rollupDelta) count(is *model.Issue, sign int64) {
	d.counts[countKeyOf(is)] += sign
	if is.Active {
		d.policies[policyCountKey{is.EntityRef, is.PolicyPack, is.PolicyName}] += sign
	}
}

// touchActive asks for the recounts an active issue coming or going needs:
// its entity's resources with issues and its compliance cell.
func (d *rollupDelta) touchActive(is *model.Issue) {
	d.entities[is.EntityRef] = true
	d.cells[cellKey{is.EntityRef, is.PolicyPack}] = true
}

// outcome counts a policy outcome in (sign 1) or out (sign -1). Outcomes
// without a group or of a disabled policy are not counted.
func (d *rollupDelta) outcome(o *model.PolicyOutcome, sign int64) {
	if o.GroupID == nil || o.EnforcementLevel == policy.LevelDisabled {
		return
	}
	k := outcomeKey{*o.GroupID, o.PackName, o.PolicyName, o.Severity}
	v := d.outcomes[k]
	v.outcomes += sign
	v.governed += sign * int64(o.Governed)
	d.outcomes[k] = v
}

// touchCell asks for a compliance cell to be recounted.
func (d *rollupDelta) touchCell(entityRef int64, pack string) {
	d.cells[cellKey{entityRef, pack}] = true
}

// change records an issue's move from before to after.
func (d *rollupDelta) change(before, after *model.Issue) {
	if countKeyOf(before) == countKeyOf(after) && before.Active == after.Active {
		return
	}
	d.count(before, -1)
	d.count(after, 1)
	if before.Active != after.Active {
		d.touchActive(after)
	}
}

// compareRecount reads a rollup table's rows and their recount from the base
// tables (both queries take the organisation id and order rows alike) and
// notes any difference in problems.
func compareRecount[T comparable](db *gorm.DB, orgID int64, table string, problems *[]string, storedSQL, recountSQL string) error {
	var stored, recounted []T
	if err := db.Raw(storedSQL, orgID).Scan(&stored).Error; err != nil {
		return err
	}
	if err := db.Raw(recountSQL, orgID).Scan(&recounted).Error; err != nil {
		return err
	}
	if !slices.Equal(stored, recounted) {
		*problems = append(*problems, fmt.Sprintf("%s: stored %v, recounted %v", table, stored, recounted))
	}
	return nil
}

// touchEntity asks for the entity's row of entity_counts to be recounted.
func (d *rollupDelta) touchEntity(entityRef int64) { d.entities[entityRef] = true }

// applyRollups writes a transaction's delta. It runs last in the
// transaction, after the issues and resources are written.
func (r *Repository) applyRollups(tx *gorm.DB, orgID int64, d *rollupDelta) error {
	keys := store.SortedChanges(d.counts, compareCountKeys)
	if err := r.upsertCounts(tx, orgID, keys, d.counts); err != nil {
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
	if err := r.upsertPolicyCounts(tx, orgID, pkeys, d.policies); err != nil {
		return err
	}
	cells := store.SortedChanges(d.cells, func(a, b cellKey) int {
		return cmp.Or(cmp.Compare(a.EntityRef, b.EntityRef), strings.Compare(a.PackName, b.PackName))
	})
	for _, c := range cells {
		if err := r.recountCell(tx, orgID, c); err != nil {
			return err
		}
	}
	entities := store.SortedChanges(d.entities, cmp.Compare[int64])
	for _, e := range entities {
		if err := r.recountEntity(tx, orgID, e); err != nil {
			return err
		}
	}
	return nil
}

const countColumns = `org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
	level, severity, severity_rank, status, status_rank, active, kind, priority, assignee_login, assignee_email,
	policy_group_name, policy_group_type, n`

// countConflict is the issue counts' unique key.
var countConflict = "(org_id, " + strings.Join(countKeyColumns, ", ") + ")"

func (r *Repository) upsertCounts(tx *gorm.DB, orgID int64, keys []countKey, delta map[countKey]int64) error {
	if len(keys) == 0 {
		return nil
	}
	if r.dialect.Arrays() {
		c := countArrays(orgID, keys, delta)
		return execPG(tx, c.countsUpsertSQL(1, ""), c.cols...)
	}
	const perRow = 20
	for _, batch := range chunk(keys, r.batchRows(perRow)) {
		marks := make([]string, len(batch))
		args := make([]any, 0, len(batch)*perRow)
		for i, k := range batch {
			marks[i] = "(" + strings.Repeat("?, ", perRow-1) + "?)"
			f := k.fields()
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
func countArrays(orgID int64, keys []countKey, delta map[countKey]int64) *pgColumns {
	n := len(keys)
	cols := make([][]string, len(countKeyColumns))
	for i := range cols {
		cols[i] = make([]string, n)
	}
	org, ns := make([]int64, n), make([]int64, n)
	sevRank, statRank := make([]int32, n), make([]int32, n)
	active := make([]bool, n)
	for i, k := range keys {
		for j, f := range k.fields() {
			cols[j][i] = f
		}
		org[i], ns[i] = orgID, delta[k]
		sevRank[i], statRank[i], active[i] = int32(policy.SeverityRank(k.Severity)), int32(policy.StatusRank(k.Status)), policy.IsActive(k.Status)
	}
	c := &pgColumns{}
	c.add("org_id", "bigint", org)
	for j, name := range countKeyColumns {
		c.add(name, "text", cols[j])
		switch name {
		case "severity":
			c.add("severity_rank", "smallint", sevRank)
		case "status":
			c.add("status_rank", "smallint", statRank)
			c.add("active", "boolean", active)
		}
	}
	c.add("n", "bigint", ns)
	return c
}

// countsUpsertSQL adds c's rows (countArrays) to the issue counts; its
// parameters are numbered from first, and where ("" or a WHERE clause)
// filters the rows.
func (c *pgColumns) countsUpsertSQL(first int, where string) string {
	return c.insertSQLFrom("issue_counts", strings.TrimSpace(where+" ON CONFLICT "+countConflict+" DO UPDATE SET n = issue_counts.n + EXCLUDED.n"), first)
}

func (r *Repository) upsertPolicyCounts(tx *gorm.DB, orgID int64, keys []policyCountKey, delta map[policyCountKey]int64) error {
	if len(keys) == 0 {
		return nil
	}
	if r.dialect.Arrays() {
		n := len(keys)
		org, ref, active := make([]int64, n), make([]int64, n), make([]int64, n)
		pack, policy := make([]string, n), make([]string, n)
		for i, k := range keys {
			org[i], ref[i], pack[i], policy[i], active[i] = orgID, k.EntityRef, k.PolicyPack, k.PolicyName, delta[k]
		}
		c := &pgColumns{}
		c.add("org_id", "bigint", org)
		c.add("entity_ref", "bigint", ref)
		c.add("policy_pack", "text", pack)
		c.add("policy_name", "text", policy)
		c.add("active", "bigint", active)
		return execPG(tx, strings.Replace(c.insertSQL("issue_policy_counts",
			"ON CONFLICT (org_id, entity_ref, policy_pack, policy_name) DO UPDATE SET active = p.active + EXCLUDED.active"),
			"INSERT INTO issue_policy_counts", "INSERT INTO issue_policy_counts AS p", 1), c.cols...)
	}
	for _, batch := range chunk(keys, r.batchRows(5)) {
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
func (r *Repository) recountEntity(tx *gorm.DB, orgID, entityRef int64) error {
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

// RebuildRollups recomputes the organisation's rollups from its issues and
// resources, and its text dictionary references. Writes that go through
// the repository keep them exact; this is for data written around it
// (test fixtures, repairs). Run it while no evaluation or triage of the
// organisation is in flight.
func (r *Repository) RebuildRollups(ctx context.Context, orgID int64) error {
	return r.transaction(ctx, func(tx *gorm.DB) error {
		if err := r.texts.Rebuild(tx, orgID); err != nil {
			return err
		}
		for _, table := range []string{"issue_counts", "issue_policy_counts", "entity_counts"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE org_id = ?", orgID).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec(`INSERT INTO issue_counts (`+countColumns+`)
			SELECT org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
			       severity, MIN(severity_rank), status, MIN(status_rank), MIN(CASE WHEN active THEN 1 ELSE 0 END) = 1, kind,
			       priority, assignee_login, assignee_email, policy_group_name, policy_group_type, COUNT(*)
			FROM policy_issues WHERE org_id = ?
			GROUP BY org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
			         severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type`,
			orgID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO issue_policy_counts (org_id, entity_ref, policy_pack, policy_name, active)
			SELECT org_id, entity_ref, policy_pack, policy_name, COUNT(*) FROM policy_issues WHERE org_id = ? AND active
			GROUP BY org_id, entity_ref, policy_pack, policy_name`, orgID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM outcome_counts WHERE org_id = ?`, orgID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO outcome_counts (org_id, group_id, pack_name, policy_name, severity, outcomes, governed)
			SELECT org_id, group_id, pack_name, policy_name, severity, COUNT(*), SUM(governed) FROM policy_outcomes
			WHERE org_id = ? AND group_id IS NOT NULL AND enforcement_level <> 'disabled'
			GROUP BY org_id, group_id, pack_name, policy_name, severity`, orgID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM entity_pack_counts WHERE org_id = ?`, orgID).Error; err != nil {
			return err
		}
		var cells []cellKey
		if err := tx.Raw(`SELECT DISTINCT entity_id AS entity_ref, pack_name FROM pack_evaluations WHERE org_id = ?`, orgID).
			Scan(&cells).Error; err != nil {
			return err
		}
		for _, c := range cells {
			if err := r.recountCell(tx, orgID, c); err != nil {
				return err
			}
		}
		var entities []int64
		if err := tx.Raw(`SELECT id FROM entities WHERE org_id = ? UNION SELECT DISTINCT entity_ref FROM policy_issues WHERE org_id = ?`,
			orgID, orgID).Scan(&entities).Error; err != nil {
			return err
		}
		slices.Sort(entities)
		for _, e := range entities {
			if err := r.recountEntity(tx, orgID, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// recountCell recounts a compliance cell (entity_pack_counts), locking its
// row first like recountEntity. A pack never evaluated on the entity has no
// cell.
func (r *Repository) recountCell(tx *gorm.DB, orgID int64, c cellKey) error {
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

// CheckRollups recounts the organisation's rollups from the issues and
// resources and reports any difference as an error (tests and operators
// use it; it scans the organisation's issues).
func (r *Repository) CheckRollups(ctx context.Context, orgID int64) error {
	db := r.db.WithContext(ctx)
	var problems []string
	type countRow struct {
		countKey
		SeverityRank int
		StatusRank   int
		Active       bool
		N            int64
	}
	scanCounts := func(sql string) (map[countKey]countRow, error) {
		var rows []struct {
			EntityType, PolicyPack, PolicyPackTag, PolicyName, ResourceProvider, ResourceType, Level, Severity string
			Status, Kind, Priority, AssigneeLogin, AssigneeEmail, PolicyGroupName, PolicyGroupType             string
			SeverityRank, StatusRank                                                                           int
			Active                                                                                             bool
			N                                                                                                  int64
		}
		if err := db.Raw(sql, orgID).Scan(&rows).Error; err != nil {
			return nil, err
		}
		out := map[countKey]countRow{}
		for _, x := range rows {
			k := countKey{x.EntityType, x.PolicyPack, x.PolicyPackTag, x.PolicyName, x.ResourceProvider, x.ResourceType,
				x.Level, x.Severity, x.Status, x.Kind, x.Priority, x.AssigneeLogin, x.AssigneeEmail, x.PolicyGroupName, x.PolicyGroupType}
			out[k] = countRow{countKey: k, SeverityRank: x.SeverityRank, StatusRank: x.StatusRank, Active: x.Active, N: x.N}
		}
		return out, nil
	}
	stored, err := scanCounts(`SELECT ` + countColumns + ` FROM issue_counts WHERE org_id = ? AND n <> 0`)
	if err != nil {
		return err
	}
	want, err := scanCounts(`SELECT entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
		level, severity, MIN(severity_rank) AS severity_rank, status, MIN(status_rank) AS status_rank,
		MIN(CASE WHEN active THEN 1 ELSE 0 END) = 1 AS active, kind, priority, assignee_login, assignee_email,
		policy_group_name, policy_group_type, COUNT(*) AS n
		FROM policy_issues WHERE org_id = ?
		GROUP BY entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
		         severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type`)
	if err != nil {
		return err
	}
	for k, w := range want {
		if s, ok := stored[k]; !ok || s != w {
			problems = append(problems, fmt.Sprintf("issue_counts %v: stored %+v, recounted %+v", k.fields(), s, w))
		}
	}
	for k, s := range stored {
		if _, ok := want[k]; !ok {
			problems = append(problems, fmt.Sprintf("issue_counts %v: stored %d, recounted 0", k.fields(), s.N))
		}
	}

	type policyRow struct {
		EntityRef  int64
		PolicyPack string
		PolicyName string
		Active     int64
	}
	if err := compareRecount[policyRow](db, orgID, "issue_policy_counts", &problems,
		`SELECT entity_ref, policy_pack, policy_name, active FROM issue_policy_counts
		WHERE org_id = ? AND active <> 0 ORDER BY entity_ref, policy_pack, policy_name`,
		`SELECT entity_ref, policy_pack, policy_name, COUNT(*) AS active FROM policy_issues
		WHERE org_id = ? AND active GROUP BY entity_ref, policy_pack, policy_name ORDER BY entity_ref, policy_pack, policy_name`); err != nil {
		return err
	}

	type entityRow struct {
		EntityRef           int64
		GovernedResources   int64
		ResourcesWithIssues int64
	}
	if err := compareRecount[entityRow](db, orgID, "entity_counts", &problems,
		`SELECT entity_ref, governed_resources, resources_with_issues FROM entity_counts
		WHERE org_id = ? AND (governed_resources <> 0 OR resources_with_issues <> 0) ORDER BY entity_ref`,
		`SELECT * FROM (SELECT e.id AS entity_ref,
		(SELECT COUNT(*) FROM resources r WHERE r.org_id = e.org_id AND r.entity_id = e.id AND r.governed) AS governed_resources,
		(SELECT COUNT(*) FROM (SELECT DISTINCT i.resource_urn FROM policy_issues i
		 WHERE i.org_id = e.org_id AND i.entity_ref = e.id AND i.active) x) AS resources_with_issues
		FROM entities e WHERE e.org_id = ?) c WHERE governed_resources <> 0 OR resources_with_issues <> 0 ORDER BY entity_ref`); err != nil {
		return err
	}

	type outcomeRow struct {
		GroupID    int64
		PackName   string
		PolicyName string
		Severity   string
		Outcomes   int64
		Governed   int64
	}
	if err := compareRecount[outcomeRow](db, orgID, "outcome_counts", &problems,
		`SELECT group_id, pack_name, policy_name, severity, outcomes, governed FROM outcome_counts
		WHERE org_id = ? AND (outcomes <> 0 OR governed <> 0) ORDER BY group_id, pack_name, policy_name, severity`,
		`SELECT group_id, pack_name, policy_name, severity, COUNT(*) AS outcomes, SUM(governed) AS governed
		FROM policy_outcomes WHERE org_id = ? AND group_id IS NOT NULL AND enforcement_level <> 'disabled'
		GROUP BY group_id, pack_name, policy_name, severity ORDER BY group_id, pack_name, policy_name, severity`); err != nil {
		return err
	}

	type cellRow struct {
		EntityRef int64
		PackName  string
		AllError  bool
		Policies  int64
		Failing   int64
	}
	if err := compareRecount[cellRow](db, orgID, "entity_pack_counts", &problems,
		`SELECT entity_ref, pack_name, all_error, policies, failing FROM entity_pack_counts
		WHERE org_id = ? ORDER BY entity_ref, pack_name`,
		`SELECT entity_ref, pack_name, all_error, policies, failing FROM (
		SELECT pe.entity_id AS entity_ref, pe.pack_name, MIN(CASE WHEN pe.error IS NULL THEN 0 ELSE 1 END) = 1 AS all_error,
		       (SELECT COUNT(DISTINCT o.policy_name) FROM policy_outcomes o WHERE o.org_id = pe.org_id AND o.entity_id = pe.entity_id
		          AND o.pack_name = pe.pack_name AND o.enforcement_level <> 'disabled') AS policies,
		       (SELECT COUNT(DISTINCT i.policy_name) FROM policy_issues i WHERE i.org_id = pe.org_id AND i.entity_ref = pe.entity_id
		          AND i.policy_pack = pe.pack_name AND i.active
		          AND EXISTS (SELECT 1 FROM policy_outcomes o WHERE o.org_id = i.org_id AND o.entity_id = i.entity_ref
		                      AND o.pack_name = i.policy_pack AND o.policy_name = i.policy_name AND o.enforcement_level <> 'disabled')) AS failing
		FROM pack_evaluations pe WHERE pe.org_id = ? GROUP BY pe.org_id, pe.entity_id, pe.pack_name) c
		ORDER BY entity_ref, pack_name`); err != nil {
		return err
	}
	if err := r.texts.Check(db, orgID, &problems); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("rollups differ from a recount:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}
