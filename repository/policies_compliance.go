package repository

import (
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
)

// policyColumns are the columns of POST /policies, on the rows of
// compliance.Store.Policies.
var policyColumns = gridColumns{
	"policyName":        textColumn("pc.policy_name"),
	"severity":          enumColumn("pc.severity", "pc.severity_rank", "", "low", "medium", "high", "critical"),
	"failingResources":  {expr: "pc.failing_resources", def: grid.ColumnDef{Kind: grid.KindNumber, Set: true}},
	"governedResources": {expr: "pc.governed_resources", def: grid.ColumnDef{Kind: grid.KindNumber, Set: true}},
	"percentCompliant":  {expr: "pc.percent_compliant", def: grid.ColumnDef{Kind: grid.KindNumber, Set: true}},
	"policyPack":        textColumn("pc.policy_pack"),
	"policyGroupName":   textColumn("pc.policy_group_name"),
	"policyGroupType":   enumColumn("pc.policy_group_type", "", model.ModeAudit, model.ModePreventative),
}

// PolicySchema is the column allowlist of POST /policies, for the grid
// parser.
var PolicySchema = policyColumns.schema()

// PolicyDefaultSort orders per-policy rows least compliant first, then by
// group, pack and policy.
var PolicyDefaultSort = []grid.SortItem{
	{ColID: "percentCompliant", Sort: "asc"},
	{ColID: "policyGroupName", Sort: "asc"},
	{ColID: "policyPack", Sort: "asc"},
	{ColID: "policyName", Sort: "asc"},
}

// PolicyGridOptions are the grid.Parse options of POST /policies.
var PolicyGridOptions = grid.Options{DefaultSort: PolicyDefaultSort}

// policyGrid is the grid's SQL writer on policyColumns, which
// compliance.Store.Policies filters and sorts its rows with.
type policyGrid struct{ dialect Dialect }

func (policyGrid) Schema() grid.Schema { return PolicySchema }

func (g policyGrid) Where(filter grid.Node) (string, []any) {
	return whereClause(filter, policyColumns, g.dialect)
}

func (g policyGrid) Order(keys []grid.SortKey) string {
	return orderClause(keys, policyColumns, policyColumns["policyName"].expr, g.dialect)
}
