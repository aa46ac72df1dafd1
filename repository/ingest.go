package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
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

// batchRows is how many rows of cols columns one multi-row statement
// writes (see Dialect.MaxParams).
func (r *Repository) batchRows(cols int) int {
	return max(1, min(1000, r.dialect.MaxParams()/cols))
}

// inBatch is how many values one IN (...) list binds.
func (r *Repository) inBatch() int { return r.dialect.InListSize() }

type issueKey struct{ pack, policy, urn string }

type groupInfo struct {
	id         int64
	name       string
	entityType string
	mode       string
	isDefault  bool
	member     bool
	packs      map[string]*int // applied pack name → pinned version (nil: latest)
}

type evalPack struct {
	name       string
	tag        string
	err        string
	meta       map[string]*PolicyInput
	registered map[string]*Policy
	group      *groupInfo
	kind       string
}

type evalResource struct {
	urn                  string
	id, typ, provider    string
	name                 string
	version              *int64
	outcomes             map[string]map[string]bool // pack → policies evaluated
	explicit             bool                       // listed in Resources, not only violated
	typeGiven, provGiven bool
	nameGiven            bool
}

type evalViolation struct {
	key      issueKey
	message  string
	level    string
	severity string
}

// plan is a validated, normalised evaluation.
type plan struct {
	ev             *Evaluation
	entityType     string // EntityStack or EntityAccount
	project, name  string
	provider       string
	version        int64
	entityURN      string
	observedAt     time.Time
	packs          []*evalPack
	packByName     map[string]*evalPack
	resources      map[string]*evalResource
	resourceOrder  []string
	violations     []*evalViolation
	violationByKey map[issueKey]*evalViolation
	// texts are the dictionary ids of the written issues' texts, cached
	// once the evaluation commits.
	texts map[textKey]int64
}

func validText(field, s string, max int) error {
	if len(s) > max {
		return invalid(field, "longer than %d bytes", max)
	}
	if strings.ContainsAny(s, "\x00") {
		return invalid(field, "contains a NUL character")
	}
	return nil
}

// names remembers the pack and policy names found valid: a complete
// evaluation lists the same few policies for each of its resources.
type names map[string]bool

func (n names) ok(name string) bool {
	if n[name] {
		return true
	}
	if !packNamePattern.MatchString(name) {
		return false
	}
	n[name] = true
	return true
}

// newPlan validates an evaluation without touching the database.
func newPlan(ev *Evaluation) (*plan, error) {
	p := &plan{ev: ev, packByName: map[string]*evalPack{}, resources: map[string]*evalResource{},
		violationByKey: map[issueKey]*evalViolation{}}
	validName := names{}
	switch {
	case ev.Stack != nil && ev.Account != nil:
		return nil, invalid("stack", "give either a stack or an account, not both")
	case ev.Stack != nil:
		s := ev.Stack
		if !stackNamePattern.MatchString(s.Project) {
			return nil, invalid("stack.project", "%q is not a valid project name", s.Project)
		}
		if !stackNamePattern.MatchString(s.Name) {
			return nil, invalid("stack.name", "%q is not a valid stack name", s.Name)
		}
		if s.Version < 0 {
			return nil, invalid("stack.version", "must not be negative")
		}
		if ev.Scope != "" {
			return nil, invalid("scope", "a stack evaluation has no scope")
		}
		p.entityType, p.project, p.name, p.version = EntityStack, s.Project, s.Name, s.Version
		p.entityURN = StackURN(s.Project, s.Name)
	case ev.Account != nil:
		a := ev.Account
		if !accountNamePattern.MatchString(a.Name) {
			return nil, invalid("account.name", "%q is not a valid account name", a.Name)
		}
		if a.Version < 0 {
			return nil, invalid("account.version", "must not be negative")
		}
		if err := validText("account.provider", a.Provider, 100); err != nil {
			return nil, err
		}
		if err := validText("scope", ev.Scope, 1000); err != nil {
			return nil, err
		}
		p.entityType, p.project, p.provider, p.version = EntityAccount, a.Name, a.Provider, a.Version
		p.entityURN = AccountURN(a.Name)
	default:
		return nil, invalid("stack", "give the stack or the account evaluated")
	}
	if ev.Kind != "" && ev.Kind != ModeAudit && ev.Kind != ModePreventative {
		return nil, invalid("kind", "%q is not one of audit, preventative", ev.Kind)
	}
	if ev.PolicyGroup != "" && !groupNamePattern.MatchString(ev.PolicyGroup) {
		return nil, invalid("policyGroup", "%q is not a valid policy group name", ev.PolicyGroup)
	}
	if err := validText("error", ev.Error, 10000); err != nil {
		return nil, err
	}
	p.observedAt = ev.ObservedAt.UTC().Truncate(time.Microsecond)
	if ev.ObservedAt.IsZero() {
		p.observedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	if ev.Complete && len(ev.Packs) == 0 {
		return nil, invalid("policyPacks", "an evaluation names at least one policy pack")
	}
	for i, pk := range ev.Packs {
		field := fmt.Sprintf("policyPacks[%d]", i)
		if !validName.ok(pk.Name) {
			return nil, invalid(field+".name", "%q is not a valid policy pack name", pk.Name)
		}
		if p.packByName[pk.Name] != nil {
			return nil, invalid(field+".name", "policy pack %q is listed twice", pk.Name)
		}
		tag := normalizeTag(strings.TrimSpace(pk.VersionTag))
		if len(tag) > 100 || strings.ContainsAny(tag, " \t\r\n\x00") {
			return nil, invalid(field+".versionTag", "%q is not a version tag", pk.VersionTag)
		}
		if err := validText(field+".error", pk.Error, 10000); err != nil {
			return nil, err
		}
		ep := &evalPack{name: pk.Name, tag: tag, err: strings.TrimSpace(pk.Error), meta: map[string]*PolicyInput{}}
		for j := range pk.Policies {
			pol := pk.Policies[j]
			pf := fmt.Sprintf("%s.policies[%d]", field, j)
			if err := validatePolicy(pf, &pol); err != nil {
				return nil, err
			}
			if ep.meta[pol.Name] != nil {
				return nil, invalid(pf+".name", "policy %q is listed twice", pol.Name)
			}
			ep.meta[pol.Name] = &pol
		}
		p.packs = append(p.packs, ep)
		p.packByName[pk.Name] = ep
	}
	for i, res := range ev.Resources {
		field := fmt.Sprintf("resources[%d]", i)
		r, err := p.resource(field+".urn", res.URN)
		if err != nil {
			return nil, err
		}
		r.explicit = true
		if res.Version != nil && *res.Version < 0 {
			return nil, invalid(field+".version", "must not be negative")
		}
		for _, f := range []struct{ name, value string }{{"id", res.ID}, {"type", res.Type}, {"provider", res.Provider}, {"name", res.Name}} {
			if err := validText(field+"."+f.name, f.value, 1000); err != nil {
				return nil, err
			}
		}
		// A resource listed twice is merged: the first non-empty value wins.
		if res.ID != "" && r.id == "" {
			r.id = res.ID
		}
		if res.Type != "" && !r.typeGiven {
			r.typ, r.typeGiven = res.Type, true
		}
		if res.Provider != "" && !r.provGiven {
			r.provider, r.provGiven = res.Provider, true
		}
		if res.Name != "" && !r.nameGiven {
			r.name, r.nameGiven = res.Name, true
		}
		if res.Version != nil && r.version == nil {
			v := *res.Version
			r.version = &v
		}
		for j, o := range res.Packs {
			of := fmt.Sprintf("%s.policyPacks[%d]", field, j)
			if p.packByName[o.Name] == nil {
				return nil, invalid(of+".name", "policy pack %q is not one of the evaluation's policyPacks", o.Name)
			}
			set := r.outcomes[o.Name]
			if set == nil {
				set = map[string]bool{}
				r.outcomes[o.Name] = set
			}
			for _, list := range []struct {
				name  string
				names []string
			}{{"passed", o.Passed}, {"failed", o.Failed}} {
				for k, pol := range list.names {
					if !validName.ok(pol) {
						return nil, invalid(fmt.Sprintf("%s.%s[%d]", of, list.name, k), "%q is not a valid policy name", pol)
					}
					set[pol] = true
				}
			}
		}
	}
	for i, v := range ev.Violations {
		field := fmt.Sprintf("violations[%d]", i)
		if p.packByName[v.PolicyPack] == nil {
			return nil, invalid(field+".policyPack", "policy pack %q is not one of the evaluation's policyPacks", v.PolicyPack)
		}
		if !validName.ok(v.PolicyName) {
			return nil, invalid(field+".policyName", "%q is not a valid policy name", v.PolicyName)
		}
		r, err := p.resource(field+".resourceURN", v.ResourceURN)
		if err != nil {
			return nil, err
		}
		if v.EnforcementLevel != "" && !ValidLevel(v.EnforcementLevel) {
			return nil, invalid(field+".enforcementLevel", "%q is not one of advisory, mandatory, remediate, disabled", v.EnforcementLevel)
		}
		sev := ""
		if v.Severity != nil {
			sev = *v.Severity
			if !ValidSeverity(sev) {
				return nil, invalid(field+".severity", "%q is not one of \"\", low, medium, high, critical", sev)
			}
		}
		if err := validText(field+".message", v.Message, 100000); err != nil {
			return nil, err
		}
		key := issueKey{pack: v.PolicyPack, policy: v.PolicyName, urn: r.urn}
		// A policy reporting the same resource twice is one issue: the first
		// report wins.
		if p.violationByKey[key] != nil {
			continue
		}
		ev := &evalViolation{key: key, message: v.Message, level: v.EnforcementLevel, severity: sev}
		p.violations = append(p.violations, ev)
		p.violationByKey[key] = ev
	}
	return p, nil
}

// resource finds or adds the resource a URN names ("" names the entity).
func (p *plan) resource(field, urn string) (*evalResource, error) {
	if urn == "" {
		urn = p.entityURN
	}
	if r := p.resources[urn]; r != nil {
		return r, nil
	}
	if len(urn) > 2000 {
		return nil, invalid(field, "longer than 2000 bytes")
	}
	u, err := ParseURN(urn)
	if err != nil {
		return nil, invalid(field, "%q is not a valid URN: %v", urn, err)
	}
	r := &evalResource{urn: urn, typ: u.Type, provider: u.Package, name: u.Name, outcomes: map[string]map[string]bool{}}
	p.resources[urn] = r
	p.resourceOrder = append(p.resourceOrder, urn)
	return r, nil
}

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

	var packEvals []PackEvaluation
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
	source := SourcePulumi
	if p.ev.Complete {
		source = SourcePolicyResults
	}
	rec := EvaluationRecord{
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
		query += " AND policy_issues.status <> '" + StatusFixed + "'"
	} else {
		keys := make([][3]string, len(p.violations))
		for i, v := range p.violations {
			keys[i] = [3]string{v.key.pack, v.key.policy, v.key.urn}
		}
		encoded, _ := json.Marshal(keys) // strings always encode
		reported := r.dialect.JSONTriples()
		query += " AND (policy_issues.status <> '" + StatusFixed + "' OR (policy_issues.policy_pack, policy_issues.policy_name, policy_issues.resource_urn) IN (" +
			reported + "))"
		args = append(args, string(encoded))
	}
	return query + r.dialect.LockRowsOf("policy_issues"), args
}

func entityLabel(e *Entity, scope string) string {
	s := e.DisplayName()
	if scope != "" {
		s += " (" + scope + ")"
	}
	return s
}

func defaultMode(entityType string) string {
	if entityType == EntityAccount {
		return ModeAudit
	}
	return ModePreventative
}

// loadGroups loads, in one query, the entity's groups, the default group of
// its kind and the named group, each with its applied packs.
func loadGroups(tx *gorm.DB, orgID int64, e *Entity, named string) ([]*groupInfo, error) {
	groupType := GroupStacks
	if e.Type == EntityAccount {
		groupType = GroupAccounts
	}
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
	var out []*groupInfo
	for _, row := range rows {
		if len(out) == 0 || out[len(out)-1].id != row.ID {
			out = append(out, &groupInfo{id: row.ID, name: row.Name, entityType: row.EntityType, mode: row.Mode,
				isDefault: row.IsOrgDefault, member: row.Member, packs: map[string]*int{}})
		}
		if row.PackName != nil {
			out[len(out)-1].packs[*row.PackName] = row.Version
		}
	}
	return out, nil
}

// attributeGroups decides each pack's group and kind: the named group, else
// the entity's first group (non-default groups first, then by name) that
// applies the pack, else the entity's default group. In Pulumi's form, which
// names only violated packs, the packs applied to the entity's groups are
// added as evaluated.
func (p *plan) attributeGroups(groups []*groupInfo) error {
	wantType := GroupStacks
	if p.entityType == EntityAccount {
		wantType = GroupAccounts
	}
	var named, def *groupInfo
	for _, g := range groups {
		if g.isDefault && g.entityType == wantType && def == nil {
			def = g
		}
		if p.ev.PolicyGroup != "" && g.name == p.ev.PolicyGroup {
			named = g
		}
	}
	if p.ev.PolicyGroup != "" {
		if named == nil {
			return invalid("policyGroup", "policy group %q does not exist", p.ev.PolicyGroup)
		}
		if named.entityType != wantType {
			return invalid("policyGroup", "policy group %s holds %s; a %s can't be evaluated under it", named.name, named.entityType, p.entityType)
		}
	}
	if !p.ev.Complete {
		var names []string
		seen := map[string]bool{}
		for _, g := range groups {
			if !g.member {
				continue
			}
			for name := range g.packs {
				if p.packByName[name] == nil && !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
		sort.Strings(names)
		for _, name := range names {
			ep := &evalPack{name: name, meta: map[string]*PolicyInput{}}
			p.packs = append(p.packs, ep)
			p.packByName[name] = ep
		}
		if p.ev.Error != "" {
			for _, pk := range p.packs {
				if pk.err == "" {
					pk.err = strings.TrimSpace(p.ev.Error)
				}
			}
		}
	}
	for _, pk := range p.packs {
		pk.group = named
		if pk.group == nil {
			for _, g := range groups {
				if _, ok := g.packs[pk.name]; ok && g.member && g.entityType == wantType {
					pk.group = g
					break
				}
			}
		}
		if pk.group == nil {
			pk.group = def
		}
		switch {
		case p.ev.Kind != "":
			pk.kind = p.ev.Kind
		case pk.group != nil:
			pk.kind = pk.group.mode
		default:
			pk.kind = defaultMode(p.entityType)
		}
	}
	return nil
}

// loadRegistry finds the registered version of each pack with the
// evaluation's tag (for packs sent without a tag, or added from a group, the
// version the group applies or the latest published one) and its policies.
func (p *plan) loadRegistry(tx *gorm.DB, orgID int64, groups []*groupInfo) error {
	if len(p.packs) == 0 {
		return nil
	}
	names := make([]string, len(p.packs))
	for i, pk := range p.packs {
		names[i] = pk.name
	}
	var versions []struct {
		ID         int64
		Name       string
		Version    int
		VersionTag string
		Published  bool
	}
	if err := tx.Table("policy_pack_versions v").
		Select("v.id, p.name, v.version, v.version_tag, v.published").
		Joins("JOIN policy_packs p ON p.org_id = v.org_id AND p.id = v.pack_id").
		Where("p.org_id = ? AND p.name IN ?", orgID, names).
		Order("p.name, v.published DESC, v.version DESC").Scan(&versions).Error; err != nil {
		return err
	}
	versionIDs := map[int64]*evalPack{}
	for _, pk := range p.packs {
		var pinned *int
		if pk.group != nil {
			pinned = pk.group.packs[pk.name]
		}
		var chosen int64
		for _, v := range versions {
			if v.Name != pk.name {
				continue
			}
			switch {
			case pk.tag != "" && v.VersionTag == pk.tag:
			case pk.tag == "" && pinned != nil && v.Version == *pinned:
			case pk.tag == "" && pinned == nil && v.Published:
			default:
				continue
			}
			// Rows come published first, newest first: the first match wins.
			chosen = v.ID
			if pk.tag == "" {
				pk.tag = v.VersionTag
			}
			break
		}
		if chosen != 0 {
			versionIDs[chosen] = pk
		}
	}
	if len(versionIDs) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(versionIDs))
	for id := range versionIDs {
		ids = append(ids, id)
	}
	var policies []Policy
	if err := tx.Where("org_id = ? AND version_id IN ?", orgID, ids).Find(&policies).Error; err != nil {
		return err
	}
	for i := range policies {
		pk := versionIDs[policies[i].VersionID]
		if pk.registered == nil {
			pk.registered = map[string]*Policy{}
		}
		pk.registered[policies[i].Name] = &policies[i]
	}
	return nil
}

// severity is a policy's severity: the violation's, else the evaluation's
// metadata, else the registered pack version's, else unset.
func (pk *evalPack) severity(policy, fromViolation string) string {
	if fromViolation != "" {
		return fromViolation
	}
	if m := pk.meta[policy]; m != nil && m.Severity != "" {
		return m.Severity
	}
	if reg := pk.registered[policy]; reg != nil {
		return reg.Severity
	}
	return ""
}

// level is a policy's enforcement level, with the same precedence as
// severity and advisory by default.
func (pk *evalPack) level(policy, fromViolation string) string {
	if fromViolation != "" {
		return fromViolation
	}
	if m := pk.meta[policy]; m != nil && m.EnforcementLevel != "" {
		return m.EnforcementLevel
	}
	if reg := pk.registered[policy]; reg != nil && reg.EnforcementLevel != "" {
		return reg.EnforcementLevel
	}
	return LevelAdvisory
}

func (pk *evalPack) message(policy, fromViolation string) string {
	if fromViolation != "" {
		return fromViolation
	}
	if m := pk.meta[policy]; m != nil && m.Message != "" {
		return m.Message
	}
	if reg := pk.registered[policy]; reg != nil {
		return reg.Message
	}
	return ""
}

// knownTexts are the dictionary values of the violations that the
// registry read in the evaluation's transaction cannot change: resource
// names, URN parts, and messages given by the violation or the
// evaluation's metadata.
func (p *plan) knownTexts() map[textKey]int64 {
	want := make(map[textKey]int64, 4*len(p.violations))
	for _, v := range p.violations {
		pk := p.packByName[v.key.pack]
		if pk.err != "" {
			continue
		}
		addResourceTexts(want, p.resources[v.key.urn].name, v.key.urn)
		if m := pk.meta[v.key.policy]; v.message != "" || m != nil && m.Message != "" {
			want[textKey{textMessage, pk.message(v.key.policy, v.message)}] = 0
		}
	}
	return want
}

// issueDiff is what an evaluation writes to the issues.
type issueDiff struct {
	inserts                            []Issue
	updates                            []Issue
	befores                            []Issue               // updates[i] as it was
	moved                              map[versions][]string // version-only changes: ids by new versions
	history                            []HistoryEntry
	opened, reopened, fixed, unchanged int
	// rollup is what the changes make to the rollups.
	rollup *rollupDelta
}

// diff compares the reported violations with the existing issues of the
// entity and scope, in memory.
func (p *plan) diff(orgID int64, e *Entity, existing []Issue, latest map[string]int64) *issueDiff {
	d := &issueDiff{rollup: newRollupDelta()}
	byKey := make(map[issueKey]*Issue, len(existing))
	for i := range existing {
		iss := &existing[i]
		byKey[issueKey{iss.PolicyPack, iss.PolicyName, iss.ResourceURN}] = iss
	}
	for _, v := range p.violations {
		pk := p.packByName[v.key.pack]
		if pk.err != "" {
			continue
		}
		res := p.resources[v.key.urn]
		want := p.issueFields(orgID, e, pk, v, res)
		iss := byKey[v.key]
		if iss == nil {
			want.ID = newIssueID()
			d.inserts = append(d.inserts, want)
			d.rollup.add(&want, 1)
			d.history = append(d.history, p.historyRow(orgID, want.ID, want.ObservedAt, "status", nil, StatusOpen))
			d.opened++
			continue
		}
		c := change{plan: p, orgID: orgID, iss: iss, before: *iss}
		if iss.Status == StatusFixed {
			c.setStatus(StatusOpen)
			d.reopened++
		} else {
			d.unchanged++
		}
		c.set("level", &iss.Level, want.Level)
		c.set("message", &iss.Message, want.Message)
		c.set("policyPackTag", &iss.PolicyPackTag, want.PolicyPackTag)
		if want.Severity != "" && want.Severity != iss.Severity {
			c.set("severity", &iss.Severity, want.Severity)
			iss.SeverityRank = want.SeverityRank
		}
		c.set("kind", &iss.Kind, want.Kind)
		c.set("policyGroupName", &iss.PolicyGroupName, want.PolicyGroupName)
		c.set("policyGroupType", &iss.PolicyGroupType, want.PolicyGroupType)
		c.quiet(iss, want)
		d.add(c)
	}
	inventory := p.ev.Complete
	for i := range existing {
		iss := &existing[i]
		if iss.Status == StatusFixed {
			continue
		}
		key := issueKey{iss.PolicyPack, iss.PolicyName, iss.ResourceURN}
		if p.violationByKey[key] != nil && p.packByName[key.pack].err == "" {
			continue
		}
		pk := p.packByName[iss.PolicyPack]
		switch {
		case pk != nil && pk.err != "":
			continue
		case pk != nil:
			// Evaluated again and not reported: fixed.
		case inventory && p.resources[iss.ResourceURN] == nil && iss.ResourceURN != p.entityURN && latest[iss.PolicyPack] <= p.version:
			// The resource is gone from the complete inventory: fixed, unless
			// its pack has since been evaluated at a newer version.
		default:
			continue
		}
		c := change{plan: p, orgID: orgID, iss: iss, before: *iss}
		c.setStatus(StatusFixed)
		p.setVersions(iss, p.resources[iss.ResourceURN])
		d.fixed++
		d.add(c)
	}
	return d
}

// change accumulates the changes to one existing issue.
type change struct {
	plan    *plan
	orgID   int64
	iss     *Issue
	before  Issue // the issue as it was
	history []HistoryEntry
	dirty   bool // a column other than the versions changed
	moved   bool // the version columns changed
}

func (c *change) set(field string, dst *string, value string) {
	if *dst == value {
		return
	}
	old := *dst
	*dst = value
	c.dirty = true
	c.history = append(c.history, c.plan.historyRow(c.orgID, c.iss.ID, time.Time{}, field, &old, value))
}

func (c *change) setStatus(status string) {
	c.set("status", &c.iss.Status, status)
	c.iss.StatusRank = StatusRank(status)
	c.iss.Active = IsActive(status)
}

// quiet updates the columns that follow the latest evaluation without
// being recorded as changes: versions, resource identity, entity id.
func (c *change) quiet(iss *Issue, want Issue) {
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&iss.EntityID, want.EntityID}, {&iss.ResourceProvider, want.ResourceProvider},
		{&iss.ResourceType, want.ResourceType}, {&iss.ResourceName, want.ResourceName},
	} {
		if *f.dst != f.v {
			*f.dst = f.v
			c.dirty = true
		}
	}
	if !equalPtr(iss.StackVersion, want.StackVersion) || !equalPtr(iss.ResourceVersion, want.ResourceVersion) {
		iss.StackVersion, iss.ResourceVersion = want.StackVersion, want.ResourceVersion
		c.moved = true
	}
}

// versions is a value of the version columns.
type versions struct {
	stack, resource       int64
	hasStack, hasResource bool
}

func versionsOf(iss *Issue) versions {
	var v versions
	if iss.StackVersion != nil {
		v.stack, v.hasStack = *iss.StackVersion, true
	}
	if iss.ResourceVersion != nil {
		v.resource, v.hasResource = *iss.ResourceVersion, true
	}
	return v
}

func equalPtr(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// add records a changed issue: recorded changes bump its revision and
// lastModified (never backwards) and write its history.
func (d *issueDiff) add(c change) {
	iss := c.iss
	if !c.dirty && len(c.history) == 0 {
		// Issues reported again unchanged only follow the version: one
		// UPDATE per version instead of a full row each.
		if c.moved {
			if d.moved == nil {
				d.moved = map[versions][]string{}
			}
			v := versionsOf(iss)
			d.moved[v] = append(d.moved[v], iss.ID)
		}
		return
	}
	d.rollup.change(&c.before, iss)
	if len(c.history) > 0 {
		at := c.plan.observedAt
		if at.Before(iss.LastModified) {
			at = iss.LastModified
		}
		iss.LastModified = at
		iss.Revision++
		for i := range c.history {
			c.history[i].At = at
		}
		d.history = append(d.history, c.history...)
	}
	d.updates = append(d.updates, *iss)
	d.befores = append(d.befores, c.before)
}

// changes lists the issues d opens and changes, for record.
func (d *issueDiff) changes() []issueChange {
	out := make([]issueChange, 0, len(d.inserts)+len(d.updates))
	for i := range d.inserts {
		out = append(out, issueChange{after: &d.inserts[i]})
	}
	for i := range d.updates {
		out = append(out, issueChange{before: &d.befores[i], after: &d.updates[i]})
	}
	return out
}

func newIssueID() string {
	// Version 7 UUIDs are time-ordered, so new issues append to the primary
	// key's B-tree instead of scattering across it.
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func (p *plan) historyRow(orgID int64, issueID string, at time.Time, field string, old *string, value string) HistoryEntry {
	v := value
	return HistoryEntry{OrgID: orgID, IssueID: issueID, At: at, Actor: evaluationActor, ActorType: evaluationActor,
		Field: field, OldValue: old, NewValue: &v}
}

// issueFields is the issue a violation describes, as a new issue would be.
func (p *plan) issueFields(orgID int64, e *Entity, pk *evalPack, v *evalViolation, res *evalResource) Issue {
	sev := pk.severity(v.key.policy, v.severity)
	iss := Issue{
		OrgID: orgID, EntityRef: e.ID, Scope: p.ev.Scope, EntityProject: e.Project,
		PolicyPack: pk.name, PolicyPackTag: pk.tag, PolicyName: v.key.policy, ResourceURN: v.key.urn,
		ResourceProvider: res.provider, ResourceType: res.typ, ResourceName: res.name,
		Message: pk.message(v.key.policy, v.message), ObservedAt: p.observedAt, LastModified: p.observedAt,
		Level: pk.level(v.key.policy, v.level), Severity: sev, SeverityRank: SeverityRank(sev),
		Status: StatusOpen, StatusRank: StatusRank(StatusOpen), Active: true, Kind: pk.kind,
		Priority: PriorityForSeverity(sev), Revision: 1,
	}
	if pk.group != nil {
		iss.PolicyGroupName, iss.PolicyGroupType = pk.group.name, pk.group.mode
	}
	if e.Type == EntityStack {
		iss.EntityType, iss.EntityID = "stack", e.Name
	} else {
		iss.EntityType = "insights-account"
		switch {
		case res.id != "":
			iss.EntityID = res.id
		case p.ev.Scope != "":
			iss.EntityID = p.ev.Scope
		default:
			iss.EntityID = res.name
		}
	}
	p.setVersions(&iss, res)
	return iss
}

// setVersions sets the version columns to this evaluation's: the stack
// version for stacks, the resource's (else the scan's) version for accounts.
func (p *plan) setVersions(iss *Issue, res *evalResource) {
	v := p.version
	if p.entityType == EntityStack {
		iss.StackVersion, iss.ResourceVersion = &v, nil
		return
	}
	if res != nil && res.version != nil {
		rv := *res.version
		v = rv
	}
	iss.StackVersion, iss.ResourceVersion = nil, &v
}

// issueColumns is the number of columns of policy_issues.
const issueColumns = 37

// issueUpdateColumns are the columns an evaluation owns; triage columns
// (priority, assignee) and observed_at are never overwritten.
var issueUpdateColumns = []string{
	"entity_id", "stack_version", "resource_version", "policy_pack_tag", "resource_provider", "resource_type",
	"resource_name", "message", "last_modified", "level", "severity", "severity_rank", "status", "status_rank",
	"active", "kind", "policy_group_name", "policy_group_type", "revision", "name_ref", "message_ref",
	"urn_prefix_ref", "urn_suffix_ref",
}

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
	for v, ids := range d.moved {
		cols := map[string]any{"stack_version": nil, "resource_version": nil}
		if v.hasStack {
			cols["stack_version"] = v.stack
		}
		if v.hasResource {
			cols["resource_version"] = v.resource
		}
		for _, batch := range chunk(ids, r.inBatch()) {
			if err := tx.Model(&Issue{}).Where("org_id = ? AND id IN ?", orgID, batch).Updates(cols).Error; err != nil {
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
func (p *plan) outcomes(orgID, entityID int64) ([]PolicyOutcome, map[string]bool) {
	governed := map[string]bool{}
	var out []PolicyOutcome
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
			for policy := range p.resources[urn].outcomes[pk.name] {
				add(policy, urn)
			}
		}
		if p.ev.Complete {
			for policy := range pk.meta {
				add(policy, "")
			}
		} else {
			for policy := range pk.registered {
				add(policy, "")
			}
		}
		names := make([]string, 0, len(gov))
		for policy := range gov {
			names = append(names, policy)
		}
		sort.Strings(names)
		for _, policy := range names {
			vSev, vLevel := "", ""
			if v := firstViolation[policy]; v != nil {
				vSev, vLevel = v.severity, v.level
			}
			level := pk.level(policy, vLevel)
			if level == LevelDisabled {
				continue
			}
			o := PolicyOutcome{OrgID: orgID, EntityID: entityID, Scope: p.ev.Scope, PackName: pk.name, PolicyName: policy,
				Severity: pk.severity(policy, vSev), EnforcementLevel: level, Governed: len(gov[policy])}
			if pk.group != nil {
				id := pk.group.id
				o.GroupID = &id
			}
			out = append(out, o)
			for urn := range gov[policy] {
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
	rows := make([]PackEvaluation, len(p.packs))
	for i, pk := range p.packs {
		rows[i] = PackEvaluation{OrgID: orgID, EntityID: entityID, Scope: p.ev.Scope, PackName: pk.name, PackTag: pk.tag,
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
func (p *plan) writeOutcomes(r *Repository, tx *gorm.DB, orgID, entityID int64, outcomes []PolicyOutcome, rollup *rollupDelta) error {
	if len(p.packs) == 0 {
		return nil
	}
	names := make([]string, len(p.packs))
	for i, pk := range p.packs {
		names[i] = pk.name
		rollup.touchCell(entityID, pk.name)
	}
	var old []PolicyOutcome
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
	existing := map[string]Resource{}
	var rows []Resource
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
	var upserts []Resource
	changed := false
	for _, urn := range p.resourceOrder {
		res := p.resources[urn]
		old, found := existing[urn]
		want := Resource{OrgID: orgID, EntityID: entityID, URN: urn, ResourceID: res.id, Type: res.typ,
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
		if err := tx.Model(&Resource{}).Where("org_id = ? AND entity_id = ? AND urn IN ?", orgID, entityID, urns).
			Updates(map[string]any{"governed": false, "updated_at": now}).Error; err != nil {
			return false, err
		}
	}
	return changed || len(gone) > 0, nil
}

// scanResources reads the resources matching where without GORM's
// reflection (a stack's thousand resources at every evaluation).
func scanResources(tx *gorm.DB, where string, args ...any) ([]Resource, error) {
	rows, err := tx.Raw("SELECT org_id, entity_id, urn, resource_id, type, provider, name, version, governed, updated_at"+
		" FROM resources WHERE "+where, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Resource
	for rows.Next() {
		var res Resource
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
