package compliance

import (
	"slices"

	"gorm.io/gorm"
)

// Rebuild recomputes the organisation's counts from its issues, outcomes
// and resources inside tx. Writes that go through Apply keep them exact;
// this is for data written around it (test fixtures, repairs). Run it while
// no evaluation or triage of the organisation is in flight.
func (s *Store) Rebuild(tx *gorm.DB, orgID int64) error {
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
		if err := s.recountCell(tx, orgID, c); err != nil {
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
		if err := s.recountEntity(tx, orgID, e); err != nil {
			return err
		}
	}
	return nil
}
