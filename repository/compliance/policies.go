package compliance

import (
	"context"
	"strconv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/pagetoken"
	"github.com/policyresults/policyresults/repository/store"
)

// policyColumns are the columns of POST /policies, on the rows of
// policiesSQL (the table pc).
var policyColumns = issuequery.Columns{
	"policyName":        issuequery.TextColumn("pc.policy_name"),
	"severity":          issuequery.EnumColumn("pc.severity", "pc.severity_rank", "", "low", "medium", "high", "critical"),
	"failingResources":  issuequery.NumberColumn("pc.failing_resources"),
	"governedResources": issuequery.NumberColumn("pc.governed_resources"),
	"percentCompliant":  issuequery.NumberColumn("pc.percent_compliant"),
	"policyPack":        issuequery.TextColumn("pc.policy_pack"),
	"policyGroupName":   issuequery.TextColumn("pc.policy_group_name"),
	"policyGroupType":   issuequery.EnumColumn("pc.policy_group_type", "", model.ModeAudit, model.ModePreventative),
}

// PolicySchema is the column allowlist of POST /policies, for the grid
// parser.
var PolicySchema = policyColumns.Schema()

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

// Policy is one row of the per-policy compliance list.
type Policy struct {
	PolicyGroupName   string
	PolicyGroupType   string
	PolicyPack        string
	PolicyName        string
	Severity          string
	GovernedResources int64
	FailingResources  int64
	PercentCompliant  int64
}

// PolicyPage is one page of Store.Policies.
type PolicyPage struct {
	Rows       []Policy
	TotalCount int64
	// Next is a continuation token for the following page; empty on the last.
	Next string
}

// policiesSQL computes one row per (group, pack, policy): governed
// resources at the latest evaluations under the group, failing ones (with an
// active issue) and the percentage compliant, rounded down (100 when nothing
// is governed). Governed resources come from the outcome rollup, failing
// ones from the issue cube. It takes the organisation id four times.
const policiesSQL = `
	SELECT g.name AS policy_group_name, g.mode AS policy_group_type, gpol.pack_name AS policy_pack,
	       gpol.policy_name AS policy_name, COALESCE(gpol.severity, '') AS severity,
	       ` + severityRankSQL + ` AS severity_rank,
	       COALESCE(o.governed, 0) AS governed_resources,
	       COALESCE(f.failing, 0) AS failing_resources,
	       CASE WHEN COALESCE(o.governed, 0) = 0 THEN 100
	            WHEN COALESCE(f.failing, 0) >= o.governed THEN 0
	            ELSE 100 * (o.governed - COALESCE(f.failing, 0)) / o.governed END AS percent_compliant
	FROM (` + groupPoliciesSQL + `) gpol
	JOIN policy_groups g ON g.org_id = ? AND g.id = gpol.group_id
	LEFT JOIN (SELECT group_id, pack_name, policy_name, CAST(SUM(governed) AS bigint) AS governed
	           FROM outcome_counts WHERE org_id = ? GROUP BY group_id, pack_name, policy_name) o
	  ON o.group_id = gpol.group_id AND o.pack_name = gpol.pack_name AND o.policy_name = gpol.policy_name
	LEFT JOIN (SELECT policy_group_name, policy_pack, policy_name, CAST(SUM(n) AS bigint) AS failing
	           FROM issue_counts WHERE org_id = ? AND active GROUP BY policy_group_name, policy_pack, policy_name) f
	  ON f.policy_group_name = g.name AND f.policy_pack = gpol.pack_name AND f.policy_name = gpol.policy_name`

// severityRankSQL ranks gpol.severity: unset 0 < low < medium < high < critical 4.
const severityRankSQL = `CASE gpol.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END`

// Policies answers a page of per-policy compliance rows filtered and sorted
// by a grid query over PolicySchema. A continuation token (the
// previous page's Next) starts the page where that one ended, in place of
// q's offset.
func (s *Store) Policies(ctx context.Context, orgID int64, q *grid.Query, token string) (*PolicyPage, error) {
	if token != "" {
		start, err := policiesStart(token)
		if err != nil {
			return nil, err
		}
		q.Offset = start
	}
	if q.Group != nil || len(q.KeyFilter) > 0 {
		return nil, store.Invalid("rowGroupCols", "grouping is not supported on per-policy compliance; filter and sort instead")
	}
	base := s.db.WithContext(ctx).Table("("+policiesSQL+") pc", orgID, orgID, orgID, orgID, orgID)
	if sql, args := issuequery.WhereClause(q.Where(), policyColumns, s.dialect); sql != "" {
		base = base.Where(clause.Expr{SQL: sql, Vars: args})
	}
	page := &PolicyPage{Rows: []Policy{}}
	if err := base.Session(&gorm.Session{}).Count(&page.TotalCount).Error; err != nil {
		return nil, err
	}
	// (group, pack, policy) is unique: sort by it after the requested keys so
	// pages are stable.
	keys := append([]grid.SortKey{}, q.Sort...)
	for _, id := range []string{"policyGroupName", "policyPack"} {
		if !hasSortKey(keys, id) {
			keys = append(keys, grid.SortKey{ColID: id, Column: PolicySchema[id]})
		}
	}
	rows := base.Select("pc.*").Order(issuequery.OrderClause(keys, policyColumns, policyColumns["policyName"].Expr(), s.dialect)).Offset(q.Offset)
	if q.Limit >= 0 {
		rows = rows.Limit(q.Limit)
	}
	if err := rows.Scan(&page.Rows).Error; err != nil {
		return nil, err
	}
	if q.Limit > 0 && int64(q.Offset+len(page.Rows)) < page.TotalCount {
		page.Next = pagetoken.Encode(pagetoken.Token{Kind: "policies", After: strconv.Itoa(q.Offset + len(page.Rows))})
	}
	return page, nil
}

// policiesStart decodes a continuation token of Policies into the
// start row it stands for.
func policiesStart(token string) (int, error) {
	t, err := pagetoken.Decode(token, "policies")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(t.After)
	if err != nil || n < 0 {
		return 0, pagetoken.Refused()
	}
	return n, nil
}

func hasSortKey(keys []grid.SortKey, colID string) bool {
	for _, k := range keys {
		if k.ColID == colID {
			return true
		}
	}
	return false
}
