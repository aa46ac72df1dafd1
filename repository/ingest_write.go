package repository

import (
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/compliance"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/store"
)

// writeIssues writes the issues d opens, changes and moves to a version;
// record writes their history.
func (r *Repository) writeIssues(tx *gorm.DB, orgID int64, d *ingest.Diff) error {
	if r.dialect.Arrays() {
		return writeIssuesPG(tx, orgID, d)
	}
	if err := issuerows.InsertValues(tx, d.Inserts, false, store.BatchRows(r.dialect, issuerows.Count)); err != nil {
		return translate(err, "an issue of this evaluation was written concurrently; retry")
	}
	if err := issuerows.InsertValues(tx, d.Updates, true, store.BatchRows(r.dialect, issuerows.Count)); err != nil {
		return err
	}
	for _, batch := range store.Chunk(d.Unaccepted, r.dialect.InListSize()) {
		if err := tx.Model(&model.Issue{}).Where("org_id = ? AND id IN ?", orgID, batch).
			Updates(map[string]any{"accepted_until": nil, "acceptance_reason": ""}).Error; err != nil {
			return err
		}
	}
	for v, ids := range d.Moved {
		cols := map[string]any{"stack_version": nil, "resource_version": nil}
		if v.HasStack {
			cols["stack_version"] = v.Stack
		}
		if v.HasResource {
			cols["resource_version"] = v.Resource
		}
		for _, batch := range store.Chunk(ids, r.dialect.InListSize()) {
			if err := tx.Model(&model.Issue{}).Where("org_id = ? AND id IN ?", orgID, batch).Updates(cols).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// writePackEvaluations records the latest evaluation of each evaluated
// pack.
func (r *Repository) writePackEvaluations(tx *gorm.DB, rows []model.PackEvaluation) error {
	for _, batch := range store.Chunk(rows, store.BatchRows(r.dialect, 11)) {
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "org_id"}, {Name: "entity_id"}, {Name: "scope"}, {Name: "pack_name"}},
			DoUpdates: clause.AssignmentColumns([]string{"pack_tag", "version", "evaluation_id", "group_id", "kind", "error", "evaluated_at"}),
		}).Create(&batch).Error; err != nil {
			return err
		}
	}
	return nil
}

// writeOutcomes replaces the outcomes of the evaluated packs; a pack that
// could not run keeps none.
func (r *Repository) writeOutcomes(tx *gorm.DB, orgID, entityID int64, p *ingest.Plan, outcomes []model.PolicyOutcome, rollup *compliance.Delta) error {
	names := p.PackNames()
	if len(names) == 0 {
		return nil
	}
	for _, name := range names {
		rollup.TouchCell(entityID, name)
	}
	var old []model.PolicyOutcome
	if err := tx.Raw(`DELETE FROM policy_outcomes WHERE org_id = ? AND entity_id = ? AND scope = ? AND pack_name IN ?
		RETURNING org_id, entity_id, scope, pack_name, policy_name, severity, enforcement_level, governed, group_id`,
		orgID, entityID, p.Evaluation.Scope, names).Scan(&old).Error; err != nil {
		return err
	}
	for i := range old {
		rollup.Outcome(&old[i], -1)
	}
	for i := range outcomes {
		rollup.Outcome(&outcomes[i], 1)
	}
	if r.dialect.Arrays() {
		return insertOutcomesPG(tx, outcomes)
	}
	for _, batch := range store.Chunk(outcomes, store.BatchRows(r.dialect, 9)) {
		if err := tx.Create(&batch).Error; err != nil {
			return err
		}
	}
	return nil
}

// writeResources records the evaluated resources. Only rows that change are
// written, so an unchanged stack costs one read. A complete evaluation's
// inventory is the entity's whole inventory: resources absent from it are
// no longer governed. Pulumi's form never ungoverns a resource. It reports
// whether a resource became governed or stopped being governed.
func (r *Repository) writeResources(tx *gorm.DB, orgID, entityID int64, p *ingest.Plan, governed map[string]bool) (bool, error) {
	existing := map[string]model.Resource{}
	var rows []model.Resource
	var err error
	readByURN := p.ResourceURNs() // resources read by their URNs
	if p.Evaluation.Complete {
		// A complete evaluation compares the resources it reports and the
		// governed ones: a governed resource missing from the inventory is
		// gone. Gone resources stay, ungoverned, and accumulate with the
		// entity's history (an account's short-lived cloud resources), so
		// they are read only where the inventory reports them again.
		if rows, err = scanResources(tx, "org_id = ? AND entity_id = ? AND governed", orgID, entityID); err != nil {
			return false, err
		}
		readByURN = nil
		for _, row := range rows {
			existing[row.URN] = row
		}
		for _, urn := range p.ResourceURNs() {
			if _, ok := existing[urn]; !ok {
				readByURN = append(readByURN, urn)
			}
		}
	}
	for _, urns := range store.Chunk(readByURN, r.dialect.InListSize()) {
		part, err := scanResources(tx, "org_id = ? AND entity_id = ? AND urn IN ?", orgID, entityID, urns)
		if err != nil {
			return false, err
		}
		for _, row := range part {
			existing[row.URN] = row
		}
		rows = append(rows, part...)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	upserts, changed := p.ResourceChanges(orgID, entityID, governed, existing, now)
	if r.dialect.Arrays() {
		if err := upsertResourcesPG(tx, upserts); err != nil {
			return false, err
		}
		upserts = nil
	}
	for _, batch := range store.Chunk(upserts, store.BatchRows(r.dialect, 10)) {
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "org_id"}, {Name: "entity_id"}, {Name: "urn"}},
			DoUpdates: clause.AssignmentColumns([]string{"resource_id", "type", "provider", "name", "version", "governed", "updated_at"}),
		}).Create(&batch).Error; err != nil {
			return false, err
		}
	}
	if !p.Evaluation.Complete {
		return changed, nil
	}
	var gone []string
	for _, row := range rows {
		if row.Governed && !p.Reports(row.URN) {
			gone = append(gone, row.URN)
		}
	}
	for _, urns := range store.Chunk(gone, r.dialect.InListSize()) {
		if err := tx.Model(&model.Resource{}).Where("org_id = ? AND entity_id = ? AND urn IN ?", orgID, entityID, urns).
			Updates(map[string]any{"governed": false, "updated_at": now}).Error; err != nil {
			return false, err
		}
	}
	return changed || len(gone) > 0, nil
}

// scanResources reads the resources matching where without GORM's
// reflection (a stack's thousand resources at every evaluation).
func scanResources(tx *gorm.DB, where string, args ...any) ([]model.Resource, error) {
	rows, err := tx.Raw("SELECT org_id, entity_id, urn, resource_id, type, provider, name, version, governed, updated_at"+
		" FROM resources WHERE "+where, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Resource
	for rows.Next() {
		var res model.Resource
		var updated timeValue
		if err := rows.Scan(&res.OrgID, &res.EntityID, &res.URN, &res.ResourceID, &res.Type, &res.Provider, &res.Name,
			&res.Version, &res.Governed, &updated); err != nil {
			return nil, err
		}
		res.UpdatedAt = updated.t
		out = append(out, res)
	}
	return out, rows.Err()
}
