package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"gorm.io/gorm"
)

// Actor is who sent an evaluation: a user or an organisation token.
type Actor struct {
	Name string
	Type string // "user" or "token"
}

// StackRef is a stack at an update version.
type StackRef struct {
	Project string
	Name    string
	Version int64
}

// AccountRef is an Insights account at a scan (resource) version.
type AccountRef struct {
	Name     string
	Provider string
	Version  int64
}

// Evaluation is one run of one or more policy packs on one entity, in either
// ingest form. Field paths in validation errors use the complete form's JSON
// names (policyPacks[i].name, resources[i].urn, violations[i].resourceURN).
type Evaluation struct {
	// Stack or Account: exactly one is set.
	Stack   *StackRef
	Account *AccountRef
	// Scope is the account resource evaluated, for Pulumi's per-resource
	// account form; "" otherwise. Issues, outcomes and staleness are kept per
	// (entity, scope, pack).
	Scope string
	// Kind is audit or preventative; "" means the mode of the policy group
	// each pack is attributed to.
	Kind string
	// PolicyGroup optionally names the group the evaluation ran under; it
	// must exist and hold entities of this kind.
	PolicyGroup string
	// ObservedAt is when the evaluation ran; zero means now.
	ObservedAt time.Time
	// Complete is true for policyresults' own form, whose Resources are the
	// entity's whole inventory; false for Pulumi's violations-only form.
	Complete bool
	// Error, in Pulumi's form, is set when the evaluation failed without
	// reporting violations (succeeded: false): every pack records it.
	Error string
	// Packs are the packs evaluated. In Pulumi's form the packs applied to
	// the entity's policy groups are evaluated too.
	Packs      []EvaluatedPack
	Resources  []EvaluatedResource
	Violations []Violation
}

// EvaluatedPack is a pack of an evaluation. Error is set when it could not
// run: it then records the error and neither opens nor fixes issues.
type EvaluatedPack struct {
	Name       string
	VersionTag string
	// Policies optionally carries the pack's policy metadata (severity,
	// enforcement level, message).
	Policies []PolicyInput
	Error    string
}

// EvaluatedResource is a resource an evaluation looked at. Type, Provider
// and Name derive from the URN when empty; an empty URN names the entity
// itself (see StackURN and AccountURN).
type EvaluatedResource struct {
	URN      string
	ID       string // an account resource's id within the account
	Type     string
	Provider string
	Name     string
	Version  *int64 // an account resource's version
	Packs    []ResourcePackOutcome
}

// ResourcePackOutcome lists the policies of one pack that passed and failed
// on a resource.
type ResourcePackOutcome struct {
	Name   string
	Passed []string
	Failed []string
}

// Violation is one policy violation. An empty ResourceURN is a stack-level
// (or account-level) violation, recorded on StackURN (or AccountURN).
type Violation struct {
	PolicyPack       string
	PolicyName       string
	ResourceURN      string
	Message          string
	EnforcementLevel string  // "" means the policy's level, else advisory
	Severity         *string // nil or "" means the policy's severity
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

// The actor of history rows written by evaluations.
const evaluationActor = "evaluation"

// ApplyEvaluation applies one evaluation in one transaction: it upserts the
// entity, opens, updates, reopens and fixes issues with their history,
// records the outcomes the scores are computed from and the resources, and
// answers what changed. Invalid input is a *ValidationError and an
// evaluation older than one already applied for the same entity and pack is
// a ConflictError; either way nothing is written.
func (r *Repository) ApplyEvaluation(ctx context.Context, orgID int64, actor Actor, ev Evaluation) (*EvaluationSummary, error) {
	p, err := newPlan(&ev)
	if err != nil {
		return nil, err
	}
	if r.dialect.Arrays() {
		if err := r.seedTexts(ctx, orgID, p.knownTexts()); err != nil {
			return nil, err
		}
	}
	var sum *EvaluationSummary
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		sum, err = r.apply(tx, orgID, actor, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.texts.add(orgID, p.texts)
	return sum, nil
}

func (r *Repository) apply(tx *gorm.DB, orgID int64, actor Actor, p *plan) (*EvaluationSummary, error) {
	entity, err := r.ensureEntity(tx, orgID, p.entityType, p.project, p.name, p.provider)
	if err != nil {
		return nil, err
	}
	groups, err := loadGroups(tx, orgID, entity, p.ev.PolicyGroup)
	if err != nil {
		return nil, err
	}
	if err := p.attributeGroups(groups); err != nil {
		return nil, err
	}
	if err := p.loadRegistry(tx, orgID, groups); err != nil {
		return nil, err
	}

	var packEvals []model.PackEvaluation
	if err := tx.Where("org_id = ? AND entity_id = ? AND scope = ?", orgID, entity.ID, p.ev.Scope).Find(&packEvals).Error; err != nil {
		return nil, err
	}
	latest := make(map[string]int64, len(packEvals))
	for _, pe := range packEvals {
		latest[pe.PackName] = pe.Version
		if pk := p.packByName[pe.PackName]; pk != nil && pe.Version > p.version {
			return nil, &ConflictError{Message: fmt.Sprintf(
				"stale evaluation: policy pack %s was already evaluated on %s at version %d; version %d is older",
				pe.PackName, entityLabel(entity, p.ev.Scope), pe.Version, p.version)}
		}
	}

	query, args := r.diffedIssuesQuery(orgID, entity.ID, p)
	existing, err := scanIssues(tx, query, args...)
	if err != nil {
		return nil, err
	}

	d := p.diff(orgID, entity, existing, latest)
	sum := &EvaluationSummary{Opened: d.opened, Reopened: d.reopened, Fixed: d.fixed, Unchanged: d.unchanged}

	outcomes, governed := p.outcomes(orgID, entity.ID)
	sum.ResourcesGoverned = len(governed)

	kind := p.ev.Kind
	if kind == "" && len(p.packs) > 0 {
		kind = p.packs[0].kind
	}
	if kind == "" {
		kind = defaultMode(p.entityType)
	}
	source := model.SourcePulumi
	if p.ev.Complete {
		source = model.SourcePolicyResults
	}
	rec := model.EvaluationRecord{
		OrgID: orgID, EntityID: entity.ID, Scope: p.ev.Scope, Version: p.version, Kind: kind, Source: source,
		Actor: actor.Name, ActorType: actor.Type, ObservedAt: p.observedAt, ReceivedAt: time.Now().UTC().Truncate(time.Microsecond),
		Opened: sum.Opened, Reopened: sum.Reopened, Fixed: sum.Fixed, Unchanged: sum.Unchanged, Governed: sum.ResourcesGoverned,
	}
	if err := tx.Create(&rec).Error; err != nil {
		return nil, err
	}
	sum.EvaluationID = rec.ID

	if p.texts, err = r.resolveTexts(tx, orgID, d.inserts, d.updates); err != nil {
		return nil, err
	}
	if err := r.writeIssues(tx, orgID, d); err != nil {
		return nil, err
	}
	if err := p.writePackEvaluations(r, tx, orgID, entity.ID, rec.ID); err != nil {
		return nil, err
	}
	if err := p.writeOutcomes(r, tx, orgID, entity.ID, outcomes, d.rollup); err != nil {
		return nil, err
	}
	resourcesChanged, err := p.writeResources(r, tx, orgID, entity.ID, governed)
	if err != nil {
		return nil, err
	}
	if resourcesChanged {
		d.rollup.touchEntity(entity.ID)
	}
	if err := r.record(tx, &issueChanges{
		orgID: orgID, cause: causeEvaluation, actor: evaluationActor, evaluationID: rec.ID,
		changes: d.changes(), history: d.history, rollup: d.rollup,
	}); err != nil {
		return nil, err
	}
	return sum, nil
}

// diffedIssuesQuery reads the issues an evaluation of the entity compares
// its violations with: those not fixed, and the fixed ones a violation
// reports again (a reopen). A stack's fixed issues accumulate with its
// history, and reading and locking every one of them made each evaluation
// of the stack slower than the last. The reported keys travel as one JSON
// parameter, whatever their number.
func (r *Repository) diffedIssuesQuery(orgID, entityID int64, p *plan) (string, []any) {
	query := "SELECT " + issueSelect + issueRefsSelect + " FROM policy_issues" +
		" WHERE policy_issues.org_id = ? AND policy_issues.entity_ref = ? AND policy_issues.scope = ?"
	args := []any{orgID, entityID, p.ev.Scope}
	if len(p.violations) == 0 {
		query += " AND policy_issues.status <> '" + policy.StatusFixed + "'"
	} else {
		keys := make([][3]string, len(p.violations))
		for i, v := range p.violations {
			keys[i] = [3]string{v.key.pack, v.key.policy, v.key.urn}
		}
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
