package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/compliance"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/store"
	"github.com/policyresults/policyresults/repository/texts"
)

// Actor is who sent an evaluation: a user or an organisation token.
type Actor struct {
	Name string
	Type string // "user" or "token"
}

// EvaluationSummary is what an evaluation changed.
type EvaluationSummary struct {
	Opened            int
	Reopened          int
	Fixed             int
	Unchanged         int
	ResourcesGoverned int
	EvaluationID      int64
}

// ApplyEvaluation applies one evaluation in one transaction: it upserts the
// entity, opens, updates, reopens and fixes issues with their history,
// records the outcomes the scores are computed from and the resources, and
// answers what changed. Invalid input is a *ValidationError and an
// evaluation older than one already applied for the same entity and pack is
// a ConflictError; either way nothing is written.
func (r *Repository) ApplyEvaluation(ctx context.Context, orgID int64, actor Actor, ev ingest.Evaluation) (*EvaluationSummary, error) {
	p, err := ingest.NewPlan(&ev)
	if err != nil {
		return nil, store.Refused(err)
	}
	if r.dialect.Arrays() {
		if err := r.texts.Seed(ctx, orgID, knownTexts(p)); err != nil {
			return nil, err
		}
	}
	var sum *EvaluationSummary
	var want texts.Want
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		sum, want, err = r.apply(tx, orgID, actor, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.texts.Remember(orgID, want)
	return sum, nil
}

// apply loads what the plan needs, diffs it with the entity's issues and
// writes the result; it returns the dictionary ids of the written issues'
// texts, cached once the transaction commits.
func (r *Repository) apply(tx *gorm.DB, orgID int64, actor Actor, p *ingest.Plan) (*EvaluationSummary, texts.Want, error) {
	entity, err := r.Groups.EnsureEntity(tx, orgID, p.EntityType, p.Project, p.Name, p.Provider)
	if err != nil {
		return nil, nil, err
	}
	groups, err := loadGroups(tx, orgID, entity, p.GroupType(), p.Evaluation.PolicyGroup)
	if err != nil {
		return nil, nil, err
	}
	if err := p.AttributeGroups(groups); err != nil {
		return nil, nil, store.Refused(err)
	}
	if err := loadRegistry(tx, orgID, p); err != nil {
		return nil, nil, err
	}
	latest, err := latestVersions(tx, orgID, entity, p)
	if err != nil {
		return nil, nil, err
	}
	query, args := r.diffedIssuesQuery(orgID, entity.ID, p)
	existing, err := issuerows.Scan(tx, query, args...)
	if err != nil {
		return nil, nil, err
	}

	d := p.Diff(orgID, entity, existing, latest)
	rollup := diffRollup(d)
	sum := &EvaluationSummary{Opened: d.Opened, Reopened: d.Reopened, Fixed: d.Fixed, Unchanged: d.Unchanged}
	outcomes, governed := p.Outcomes(orgID, entity.ID)
	sum.ResourcesGoverned = len(governed)

	rec := model.EvaluationRecord{
		OrgID: orgID, EntityID: entity.ID, Scope: p.Evaluation.Scope, Version: p.Version, Kind: p.Kind(), Source: p.Source(),
		Actor: actor.Name, ActorType: actor.Type, ObservedAt: p.ObservedAt, ReceivedAt: time.Now().UTC().Truncate(time.Microsecond),
		Opened: sum.Opened, Reopened: sum.Reopened, Fixed: sum.Fixed, Unchanged: sum.Unchanged, Governed: sum.ResourcesGoverned,
	}
	if err := tx.Create(&rec).Error; err != nil {
		return nil, nil, err
	}
	sum.EvaluationID = rec.ID

	want, err := r.texts.Resolve(tx, orgID, d.Inserts, d.Updates)
	if err != nil {
		return nil, nil, err
	}
	if err := r.writeIssues(tx, orgID, d); err != nil {
		return nil, nil, err
	}
	if err := r.writePackEvaluations(tx, p.PackEvaluations(orgID, entity.ID, rec.ID)); err != nil {
		return nil, nil, err
	}
	if err := r.writeOutcomes(tx, orgID, entity.ID, p, outcomes, rollup); err != nil {
		return nil, nil, err
	}
	resourcesChanged, err := r.writeResources(tx, orgID, entity.ID, p, governed)
	if err != nil {
		return nil, nil, err
	}
	if resourcesChanged {
		rollup.TouchEntity(entity.ID)
	}
	if err := r.record(tx, &issueChanges{
		orgID: orgID, cause: causeEvaluation, actor: ingest.HistoryActor, evaluationID: rec.ID,
		changes: diffChanges(d), history: d.History, rollup: rollup,
	}); err != nil {
		return nil, nil, err
	}
	return sum, want, nil
}

// latestVersions maps each pack evaluated before on the entity and scope to
// the version it was last evaluated at; an evaluation older than that of a
// pack it evaluates is a ConflictError.
func latestVersions(tx *gorm.DB, orgID int64, entity *model.Entity, p *ingest.Plan) (map[string]int64, error) {
	var packEvals []model.PackEvaluation
	if err := tx.Where("org_id = ? AND entity_id = ? AND scope = ?", orgID, entity.ID, p.Evaluation.Scope).Find(&packEvals).Error; err != nil {
		return nil, err
	}
	latest := make(map[string]int64, len(packEvals))
	for _, pe := range packEvals {
		latest[pe.PackName] = pe.Version
		if p.Evaluates(pe.PackName) && pe.Version > p.Version {
			return nil, &ConflictError{Message: fmt.Sprintf(
				"stale evaluation: policy pack %s was already evaluated on %s at version %d; version %d is older",
				pe.PackName, entityLabel(entity, p.Evaluation.Scope), pe.Version, p.Version)}
		}
	}
	return latest, nil
}

// diffRollup is what the issues a diff opens and changes make to the
// rollups.
func diffRollup(d *ingest.Diff) *compliance.Delta {
	rollup := compliance.NewDelta()
	for i := range d.Inserts {
		rollup.Add(&d.Inserts[i], 1)
	}
	for i := range d.Updates {
		rollup.Change(&d.Befores[i], &d.Updates[i])
	}
	return rollup
}

// diffChanges lists the issues a diff opens and changes, for record.
func diffChanges(d *ingest.Diff) []issueChange {
	out := make([]issueChange, 0, len(d.Inserts)+len(d.Updates))
	for i := range d.Inserts {
		out = append(out, issueChange{after: &d.Inserts[i]})
	}
	for i := range d.Updates {
		out = append(out, issueChange{before: &d.Befores[i], after: &d.Updates[i]})
	}
	return out
}

// knownTexts are the dictionary values of the violations that the
// registry read in the evaluation's transaction cannot change: resource
// names, URN parts, and messages given by the violation or the
// evaluation's metadata.
func knownTexts(p *ingest.Plan) texts.Want {
	want := make(texts.Want, 4*p.Violations())
	p.KnownTexts(func(resourceName, urn, message string) {
		want.AddResource(resourceName, urn)
		if message != "" {
			want.AddMessage(message)
		}
	})
	return want
}

// diffedIssuesQuery reads the issues an evaluation of the entity compares
// its violations with: those not fixed, and the fixed ones a violation
// reports again (a reopen). A stack's fixed issues accumulate with its
// history, and reading and locking every one of them made each evaluation
// of the stack slower than the last. The reported keys travel as one JSON
// parameter, whatever their number.
func (r *Repository) diffedIssuesQuery(orgID, entityID int64, p *ingest.Plan) (string, []any) {
	query := "SELECT " + issuerows.Select + issuerows.RefsSelect + " FROM policy_issues" +
		" WHERE policy_issues.org_id = ? AND policy_issues.entity_ref = ? AND policy_issues.scope = ?"
	args := []any{orgID, entityID, p.Evaluation.Scope}
	if keys := p.ReportedKeys(); keys == nil {
		query += " AND policy_issues.status <> '" + policy.StatusFixed + "'"
	} else {
		encoded, _ := json.Marshal(keys) // strings always encode
		reported := r.dialect.JSONTriples()
		query += " AND (policy_issues.status <> '" + policy.StatusFixed + "' OR (policy_issues.policy_pack, policy_issues.policy_name, policy_issues.resource_urn) IN (" +
			reported + "))"
		args = append(args, string(encoded))
	}
	if r.dialect.ConcurrentWrites() {
		// Every transaction that locks several issues (this one, a batch,
		// the expiry) locks them in id order, so none waits on another in
		// a cycle.
		query += " ORDER BY policy_issues.id"
	}
	return query + r.dialect.LockRowsOf("policy_issues"), args
}

func entityLabel(e *model.Entity, scope string) string {
	s := e.DisplayName()
	if scope != "" {
		s += " (" + scope + ")"
	}
	return s
}

// loadGroups loads, in one query, the entity's groups, the default group of
// its kind (groupType) and the named group, each with its applied packs.
func loadGroups(tx *gorm.DB, orgID int64, e *model.Entity, groupType, named string) ([]*ingest.Group, error) {
	var rows []struct {
		ID           int64
		Name         string
		EntityType   string
		Mode         string
		IsOrgDefault bool
		Member       bool
		PackName     *string
		Version      *int
	}
	err := tx.Table("policy_groups g").
		Select(`g.id, g.name, g.entity_type, g.mode, g.is_org_default,
			EXISTS (SELECT 1 FROM policy_group_entities ge WHERE ge.org_id = g.org_id AND ge.group_id = g.id AND ge.entity_id = ?) AS member,
			gp.pack_name, gp.version`, e.ID).
		Joins("LEFT JOIN policy_group_packs gp ON gp.org_id = g.org_id AND gp.group_id = g.id").
		Where(`g.org_id = ? AND (g.id IN (SELECT group_id FROM policy_group_entities WHERE org_id = ? AND entity_id = ?)
			OR (g.is_org_default = ? AND g.entity_type = ?) OR g.name = ?)`, orgID, orgID, e.ID, true, groupType, named).
		Order("g.is_org_default, g.name, gp.pack_name").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	var out []*ingest.Group
	for _, row := range rows {
		if len(out) == 0 || out[len(out)-1].ID != row.ID {
			out = append(out, &ingest.Group{ID: row.ID, Name: row.Name, EntityType: row.EntityType, Mode: row.Mode,
				IsDefault: row.IsOrgDefault, Member: row.Member, Packs: map[string]*int{}})
		}
		if row.PackName != nil {
			out[len(out)-1].Packs[*row.PackName] = row.Version
		}
	}
	return out, nil
}

// loadRegistry reads the registered versions of the plan's packs, lets the
// plan choose one per pack, and gives it their policies.
func loadRegistry(tx *gorm.DB, orgID int64, p *ingest.Plan) error {
	names := p.PackNames()
	if len(names) == 0 {
		return nil
	}
	var versions []ingest.PackVersion
	if err := tx.Table("policy_pack_versions v").
		Select("v.id, p.name, v.version, v.version_tag, v.published").
		Joins("JOIN policy_packs p ON p.org_id = v.org_id AND p.id = v.pack_id").
		Where("p.org_id = ? AND p.name IN ?", orgID, names).
		Order("p.name, v.published DESC, v.version DESC").Scan(&versions).Error; err != nil {
		return err
	}
	ids := p.SelectVersions(versions)
	if len(ids) == 0 {
		return nil
	}
	var policies []model.Policy
	if err := tx.Where("org_id = ? AND version_id IN ?", orgID, ids).Find(&policies).Error; err != nil {
		return err
	}
	p.AddRegistered(policies)
	return nil
}
