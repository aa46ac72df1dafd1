package repository

import (
	"sort"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// batchRows is how many rows of cols columns one multi-row statement
// writes (see Dialect.MaxParams).
func (r *Repository) batchRows(cols int) int {
	return max(1, min(1000, r.dialect.MaxParams()/cols))
}

// inBatch is how many values one IN (...) list binds.
func (r *Repository) inBatch() int { return r.dialect.InListSize() }

// writeIssues writes the issues d opens, changes and moves to a version;
// record writes their history.
func (r *Repository) writeIssues(tx *gorm.DB, orgID int64, d *issueDiff) error {
	if r.dialect.Arrays() {
		return writeIssuesPG(tx, orgID, d)
	}
	for _, batch := range chunk(d.inserts, r.batchRows(issueColumns)) {
		if err := tx.Create(&batch).Error; err != nil {
			return translate(err, "an issue of this evaluation was written concurrently; retry")
		}
	}
	conflict := []clause.Column{{Name: "id"}}
	for _, batch := range chunk(d.updates, r.batchRows(issueColumns)) {
		if err := tx.Clauses(clause.OnConflict{Columns: conflict, DoUpdates: clause.AssignmentColumns(issueUpdateColumns)}).
			Create(&batch).Error; err != nil {
			return err
		}
	}
	for _, batch := range chunk(d.unaccepted, r.inBatch()) {
		if err := tx.Model(&model.Issue{}).Where("org_id = ? AND id IN ?", orgID, batch).
			Updates(map[string]any{"accepted_until": nil, "acceptance_reason": ""}).Error; err != nil {
			return err
		}
	}
	for v, ids := range d.moved {
		cols := map[string]any{"stack_version": nil, "resource_version": nil}
		if v.hasStack {
			cols["stack_version"] = v.stack
		}
		if v.hasResource {
			cols["resource_version"] = v.resource
		}
		for _, batch := range chunk(ids, r.inBatch()) {
			if err := tx.Model(&model.Issue{}).Where("org_id = ? AND id IN ?", orgID, batch).Updates(cols).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// outcomes computes, per evaluated pack that ran, one outcome per enabled
// policy evaluated, and the set of resources evaluated by at least one
// policy. Complete form: the policies of the pack's metadata, of the
// resources' passed/failed lists and of the violations, each governing the
// resources that list it or violate it. Pulumi's form: the registered pack
// version's policies and the violated ones, each governing its distinct
// violating resources.
func (p *plan) outcomes(orgID, entityID int64) ([]model.PolicyOutcome, map[string]bool) {
	governed := map[string]bool{}
	var out []model.PolicyOutcome
	for _, pk := range p.packs {
		if pk.err != "" {
			continue
		}
		gov := map[string]map[string]bool{}
		add := func(policy, urn string) {
			s := gov[policy]
			if s == nil {
				s = map[string]bool{}
				gov[policy] = s
			}
			if urn != "" {
				s[urn] = true
			}
		}
		firstViolation := map[string]*evalViolation{}
		for _, v := range p.violations {
			if v.key.pack == pk.name {
				add(v.key.policy, v.key.urn)
				if firstViolation[v.key.policy] == nil {
					firstViolation[v.key.policy] = v
				}
			}
		}
		for _, urn := range p.resourceOrder {
			for name := range p.resources[urn].outcomes[pk.name] {
				add(name, urn)
			}
		}
		if p.ev.Complete {
			for name := range pk.meta {
				add(name, "")
			}
		} else {
			for name := range pk.registered {
				add(name, "")
			}
		}
		names := make([]string, 0, len(gov))
		for name := range gov {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			vSev, vLevel := "", ""
			if v := firstViolation[name]; v != nil {
				vSev, vLevel = v.severity, v.level
			}
			level := pk.level(name, vLevel)
			if level == policy.LevelDisabled {
				continue
			}
			o := model.PolicyOutcome{OrgID: orgID, EntityID: entityID, Scope: p.ev.Scope, PackName: pk.name, PolicyName: name,
				Severity: pk.severity(name, vSev), EnforcementLevel: level, Governed: len(gov[name])}
			if pk.group != nil {
				id := pk.group.id
				o.GroupID = &id
			}
			out = append(out, o)
			for urn := range gov[name] {
				governed[urn] = true
			}
		}
	}
	return out, governed
}

func (p *plan) writePackEvaluations(r *Repository, tx *gorm.DB, orgID, entityID, evaluationID int64) error {
	if len(p.packs) == 0 {
		return nil
	}
	rows := make([]model.PackEvaluation, len(p.packs))
	for i, pk := range p.packs {
		rows[i] = model.PackEvaluation{OrgID: orgID, EntityID: entityID, Scope: p.ev.Scope, PackName: pk.name, PackTag: pk.tag,
			Version: p.version, EvaluationID: evaluationID, Kind: pk.kind, EvaluatedAt: p.observedAt}
		if pk.group != nil {
			id := pk.group.id
			rows[i].GroupID = &id
		}
		if pk.err != "" {
			e := pk.err
			rows[i].Error = &e
		}
	}
	for _, batch := range chunk(rows, r.batchRows(11)) {
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
func (p *plan) writeOutcomes(r *Repository, tx *gorm.DB, orgID, entityID int64, outcomes []model.PolicyOutcome, rollup *rollupDelta) error {
	if len(p.packs) == 0 {
		return nil
	}
	names := make([]string, len(p.packs))
	for i, pk := range p.packs {
		names[i] = pk.name
		rollup.touchCell(entityID, pk.name)
	}
	var old []model.PolicyOutcome
	if err := tx.Raw(`DELETE FROM policy_outcomes WHERE org_id = ? AND entity_id = ? AND scope = ? AND pack_name IN ?
		RETURNING org_id, entity_id, scope, pack_name, policy_name, severity, enforcement_level, governed, group_id`,
		orgID, entityID, p.ev.Scope, names).Scan(&old).Error; err != nil {
		return err
	}
	for i := range old {
		rollup.outcome(&old[i], -1)
	}
	for i := range outcomes {
		rollup.outcome(&outcomes[i], 1)
	}
	if r.dialect.Arrays() {
		return insertOutcomesPG(tx, outcomes)
	}
	for _, batch := range chunk(outcomes, r.batchRows(9)) {
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
func (p *plan) writeResources(r *Repository, tx *gorm.DB, orgID, entityID int64, governed map[string]bool) (bool, error) {
	existing := map[string]model.Resource{}
	var rows []model.Resource
	var err error
	readByURN := p.resourceOrder // resources read by their URNs
	if p.ev.Complete {
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
		for _, urn := range p.resourceOrder {
			if _, ok := existing[urn]; !ok {
				readByURN = append(readByURN, urn)
			}
		}
	}
	for _, urns := range chunk(readByURN, r.inBatch()) {
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
	var upserts []model.Resource
	changed := false
	for _, urn := range p.resourceOrder {
		res := p.resources[urn]
		old, found := existing[urn]
		want := model.Resource{OrgID: orgID, EntityID: entityID, URN: urn, ResourceID: res.id, Type: res.typ,
			Provider: res.provider, Name: res.name, Governed: governed[urn], UpdatedAt: now}
		if !p.ev.Complete && found && old.Governed {
			want.Governed = true
		}
		if found && res.id == "" {
			want.ResourceID = old.ResourceID
		}
		if found && old.ResourceID == want.ResourceID && old.Type == want.Type && old.Provider == want.Provider &&
			old.Name == want.Name && old.Governed == want.Governed && (res.version == nil || *res.version == old.Version) {
			continue
		}
		if found && old.Governed != want.Governed || !found && want.Governed {
			changed = true
		}
		// A stack resource's version is the update version it last changed at.
		want.Version = p.version
		if res.version != nil {
			want.Version = *res.version
		}
		upserts = append(upserts, want)
	}
	if r.dialect.Arrays() {
		if err := upsertResourcesPG(tx, upserts); err != nil {
			return false, err
		}
		upserts = nil
	}
	for _, batch := range chunk(upserts, r.batchRows(10)) {
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "org_id"}, {Name: "entity_id"}, {Name: "urn"}},
			DoUpdates: clause.AssignmentColumns([]string{"resource_id", "type", "provider", "name", "version", "governed", "updated_at"}),
		}).Create(&batch).Error; err != nil {
			return false, err
		}
	}
	if !p.ev.Complete {
		return changed, nil
	}
	var gone []string
	for _, row := range rows {
		if row.Governed && p.resources[row.URN] == nil {
			gone = append(gone, row.URN)
		}
	}
	for _, urns := range chunk(gone, r.inBatch()) {
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

// chunk splits s into slices of at most n elements.
func chunk[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}
