package groups

import (
	"context"
	"strings"

	"github.com/policyresults/policyresults/model"
)

// Metadata counts what an organisation's policy groups protect. An
// entity is protected in a mode when a group of that mode it belongs to
// applies at least one pack; its resources are those its latest evaluations
// governed.
type Metadata struct {
	ProtectedStacks            int64
	ProtectedStackResources    int64
	PreventativeStacks         int64
	PreventativeStackResources int64
	AuditStacks                int64
	AuditStackResources        int64
	TotalStacks                int64
	TotalStackResources        int64
	ProtectedAccounts          int64
	ProtectedAccountResources  int64
	TotalAccounts              int64
	TotalAccountResources      int64
}

// PolicyGroupMetadata counts, in one statement, the organisation's stacks
// and accounts, and those its policy groups protect, with their resources
// (from the entity rollup, without reading resources). PostgreSQL sums
// bigints as numeric: the casts keep them integers.
func (s *Store) PolicyGroupMetadata(ctx context.Context, orgID int64) (*Metadata, error) {
	protectedIn := func(mode string) string {
		return `EXISTS (SELECT 1 FROM policy_group_entities ge JOIN policy_groups g ON g.org_id = ge.org_id AND g.id = ge.group_id
			WHERE ge.org_id = e.org_id AND ge.entity_id = e.id AND g.mode = '` + mode + `'
			AND EXISTS (SELECT 1 FROM policy_group_packs gp WHERE gp.org_id = g.org_id AND gp.group_id = g.id))`
	}
	stack, account := "x.type = '"+model.EntityStack+"'", "x.type = '"+model.EntityAccount+"'"
	protected := " AND (x.preventative OR x.audit)"
	var sums []string
	for _, c := range []struct{ column, cond string }{
		{"protected_stack", stack + protected},
		{"preventative_stack", stack + " AND x.preventative"},
		{"audit_stack", stack + " AND x.audit"},
		{"total_stack", stack},
		{"protected_account", account + protected},
		{"total_account", account},
	} {
		sums = append(sums,
			"CAST(COALESCE(SUM(CASE WHEN "+c.cond+" THEN 1 ELSE 0 END), 0) AS bigint) AS "+c.column+"s",
			"CAST(COALESCE(SUM(CASE WHEN "+c.cond+" THEN x.resources ELSE 0 END), 0) AS bigint) AS "+c.column+"_resources")
	}
	var md Metadata
	err := s.db.WithContext(ctx).Raw(`SELECT `+strings.Join(sums, ", ")+`
		FROM (SELECT e.type, `+protectedIn(model.ModePreventative)+` AS preventative, `+protectedIn(model.ModeAudit)+` AS audit,
				COALESCE(c.governed_resources, 0) AS resources
			FROM entities e LEFT JOIN entity_counts c ON c.org_id = e.org_id AND c.entity_ref = e.id
			WHERE e.org_id = ?) x`, orgID).Scan(&md).Error
	if err != nil {
		return nil, err
	}
	return &md, nil
}
