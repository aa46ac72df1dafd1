package compliance

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"
)

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

// Problems recounts the organisation's counts from the issues, outcomes
// and resources and describes each difference (tests and operators use it;
// it scans the organisation's issues).
func (s *Store) Problems(ctx context.Context, orgID int64) ([]string, error) {
	db := s.db.WithContext(ctx)
	var problems []string
	type countRow struct {
		CountKey
		SeverityRank int
		StatusRank   int
		Active       bool
		N            int64
	}
	scanCounts := func(sql string) (map[CountKey]countRow, error) {
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
		out := map[CountKey]countRow{}
		for _, x := range rows {
			k := CountKey{x.EntityType, x.PolicyPack, x.PolicyPackTag, x.PolicyName, x.ResourceProvider, x.ResourceType,
				x.Level, x.Severity, x.Status, x.Kind, x.Priority, x.AssigneeLogin, x.AssigneeEmail, x.PolicyGroupName, x.PolicyGroupType}
			out[k] = countRow{CountKey: k, SeverityRank: x.SeverityRank, StatusRank: x.StatusRank, Active: x.Active, N: x.N}
		}
		return out, nil
	}
	stored, err := scanCounts(`SELECT ` + countColumns + ` FROM issue_counts WHERE org_id = ? AND n <> 0`)
	if err != nil {
		return nil, err
	}
	want, err := scanCounts(`SELECT entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
		level, severity, MIN(severity_rank) AS severity_rank, status, MIN(status_rank) AS status_rank,
		MIN(CASE WHEN active THEN 1 ELSE 0 END) = 1 AS active, kind, priority, assignee_login, assignee_email,
		policy_group_name, policy_group_type, COUNT(*) AS n
		FROM policy_issues WHERE org_id = ?
		GROUP BY entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
		         severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type`)
	if err != nil {
		return nil, err
	}
	for k, w := range want {
		if st, ok := stored[k]; !ok || st != w {
			problems = append(problems, fmt.Sprintf("issue_counts %v: stored %+v, recounted %+v", k.Fields(), st, w))
		}
	}
	for k, st := range stored {
		if _, ok := want[k]; !ok {
			problems = append(problems, fmt.Sprintf("issue_counts %v: stored %d, recounted 0", k.Fields(), st.N))
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
		return nil, err
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
		return nil, err
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
		return nil, err
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
		return nil, err
	}
	return problems, nil
}
