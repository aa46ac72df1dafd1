package compliance

import (
	"cmp"
	"strings"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/store"
)

// The counts (tables of migrations/*/00001_schema.sql) are maintained in
// the transactions that change issues and resources: ingest and triage
// build a Delta of the difference each issue makes and Apply it, and a
// group rename relabels the cube by trigger. They stay exact: every write
// of policy_issues goes through those paths, increments commute, and
// Problems recounts them from the base tables in tests.
//
//   - issue_counts, the issue cube: issues per combination of the grid's
//     low-cardinality columns (CountKey). Counts, facets and metadata filter
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

// CountKey is an issue's cell of the issue cube: the columns of
// issue_counts' primary key after org_id, in order.
type CountKey struct {
	EntityType, PolicyPack, PolicyPackTag, PolicyName, ResourceProvider, ResourceType, Level, Severity,
	Status, Kind, Priority, AssigneeLogin, AssigneeEmail, PolicyGroupName, PolicyGroupType string
}

// CountKeyOf is the issue's cell of the issue cube.
func CountKeyOf(is *model.Issue) CountKey {
	return CountKey{
		EntityType: is.EntityType, PolicyPack: is.PolicyPack, PolicyPackTag: is.PolicyPackTag, PolicyName: is.PolicyName,
		ResourceProvider: is.ResourceProvider, ResourceType: is.ResourceType, Level: is.Level, Severity: is.Severity,
		Status: is.Status, Kind: is.Kind, Priority: is.Priority, AssigneeLogin: is.AssigneeLogin,
		AssigneeEmail: is.AssigneeEmail, PolicyGroupName: is.PolicyGroupName, PolicyGroupType: is.PolicyGroupType,
	}
}

// Fields are k's values in the order of CountKeyColumns.
func (k CountKey) Fields() []string {
	return []string{k.EntityType, k.PolicyPack, k.PolicyPackTag, k.PolicyName, k.ResourceProvider, k.ResourceType,
		k.Level, k.Severity, k.Status, k.Kind, k.Priority, k.AssigneeLogin, k.AssigneeEmail, k.PolicyGroupName, k.PolicyGroupType}
}

// CountKeyColumns names the issue (and issue count) columns of
// CountKey.Fields, in its order.
var CountKeyColumns = []string{"entity_type", "policy_pack", "policy_pack_tag", "policy_name", "resource_provider",
	"resource_type", "level", "severity", "status", "kind", "priority", "assignee_login", "assignee_email",
	"policy_group_name", "policy_group_type"}

func compareCountKeys(a, b CountKey) int {
	af, bf := a.Fields(), b.Fields()
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

// Delta accumulates what a transaction changes in the counts.
type Delta struct {
	counts   map[CountKey]int64
	policies map[policyCountKey]int64
	outcomes map[outcomeKey]outcomeDelta
	// cells are the compliance cells to recount.
	cells map[cellKey]bool
	// entities are the entities whose entity_counts row is recounted.
	entities map[int64]bool
}

// NewDelta returns an empty Delta.
func NewDelta() *Delta {
	return &Delta{counts: map[CountKey]int64{}, policies: map[policyCountKey]int64{},
		outcomes: map[outcomeKey]outcomeDelta{}, cells: map[cellKey]bool{}, entities: map[int64]bool{}}
}

// Add counts an issue in (sign 1) or out (sign -1).
func (d *Delta) Add(is *model.Issue, sign int64) {
	d.count(is, sign)
	if is.Active {
		d.touchActive(is)
	}
}

// count adds an issue to the cube and, when active, to its policy's count.
func (d *Delta) count(is *model.Issue, sign int64) {
	d.counts[CountKeyOf(is)] += sign
	if is.Active {
		d.policies[policyCountKey{is.EntityRef, is.PolicyPack, is.PolicyName}] += sign
	}
}

// touchActive asks for the recounts an active issue coming or going needs:
// its entity's resources with issues and its compliance cell.
func (d *Delta) touchActive(is *model.Issue) {
	d.entities[is.EntityRef] = true
	d.cells[cellKey{is.EntityRef, is.PolicyPack}] = true
}

// Outcome counts a policy outcome in (sign 1) or out (sign -1). Outcomes
// without a group or of a disabled policy are not counted.
func (d *Delta) Outcome(o *model.PolicyOutcome, sign int64) {
	if o.GroupID == nil || o.EnforcementLevel == policy.LevelDisabled {
		return
	}
	k := outcomeKey{*o.GroupID, o.PackName, o.PolicyName, o.Severity}
	v := d.outcomes[k]
	v.outcomes += sign
	v.governed += sign * int64(o.Governed)
	d.outcomes[k] = v
}

// TouchCell asks for a compliance cell to be recounted.
func (d *Delta) TouchCell(entityRef int64, pack string) {
	d.cells[cellKey{entityRef, pack}] = true
}

// TouchEntity asks for the entity's row of entity_counts to be recounted.
func (d *Delta) TouchEntity(entityRef int64) { d.entities[entityRef] = true }

// Change records an issue's move from before to after.
func (d *Delta) Change(before, after *model.Issue) {
	if CountKeyOf(before) == CountKeyOf(after) && before.Active == after.Active {
		return
	}
	d.count(before, -1)
	d.count(after, 1)
	if before.Active != after.Active {
		d.touchActive(after)
	}
}

// CellPacks are the packs of the compliance cells d recounts, once per
// cell.
func (d *Delta) CellPacks() []string {
	packs := make([]string, 0, len(d.cells))
	for cell := range d.cells {
		packs = append(packs, cell.PackName)
	}
	return packs
}

// TakeCounts takes d's changes of the issue cube out of d, as a PostgreSQL
// statement adding them (its parameters numbered from first, its rows
// filtered by where, "" or a WHERE clause) and its arguments, for a caller
// that writes them inside a statement of its own. The statement is "" when
// d changes no cube row.
func (d *Delta) TakeCounts(orgID int64, first int, where string) (string, []any) {
	var sql string
	var args []any
	if keys := store.SortedChanges(d.counts, compareCountKeys); len(keys) > 0 {
		c := countArrays(orgID, keys, d.counts)
		sql, args = countsUpsertSQL(c, first, where), c.Args
	}
	d.counts = map[CountKey]int64{}
	return sql, args
}
