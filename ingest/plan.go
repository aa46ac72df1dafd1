package ingest

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

// HistoryActor is the actor, and the actor type, of the history rows an
// evaluation writes.
const HistoryActor = "evaluation"

type issueKey struct{ pack, policy, urn string }

// Group is a policy group as the plan attributes packs to it: one the
// entity belongs to, the default group of its kind, or the group the
// evaluation names.
type Group struct {
	ID         int64
	Name       string
	EntityType string
	Mode       string
	IsDefault  bool
	// Member reports whether the evaluated entity is in the group.
	Member bool
	// Packs maps the name of each pack the group applies to its pinned
	// version (nil: the latest).
	Packs map[string]*int
}

// PackVersion is a registered version of a pack the plan may evaluate with.
type PackVersion struct {
	ID         int64
	Name       string
	Version    int
	VersionTag string
	Published  bool
}

type evalPack struct {
	name       string
	tag        string
	err        string
	meta       map[string]*model.PolicyInput
	registered map[string]*model.Policy
	group      *Group
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

// Plan is a validated, normalised evaluation.
type Plan struct {
	// Evaluation is the evaluation planned, as given.
	Evaluation *Evaluation
	// EntityType is model.EntityStack or model.EntityAccount. Project and
	// Name name a stack; Project alone names an account, and Provider is
	// its provider.
	EntityType    string
	Project, Name string
	Provider      string
	// Version is the stack's update version or the account's scan version.
	Version int64
	// ObservedAt is when the evaluation ran, to the microsecond.
	ObservedAt time.Time

	entityURN      string
	packs          []*evalPack
	packByName     map[string]*evalPack
	resources      map[string]*evalResource
	resourceOrder  []string
	violations     []*evalViolation
	violationByKey map[issueKey]*evalViolation
	// versionPack is the pack each selected registered version is for.
	versionPack map[int64]*evalPack
}

// invalid refuses the input at field.
func invalid(field, format string, args ...any) error { return policy.Refuse(field, format, args...) }

// names remembers the pack and policy names found valid: a complete
// evaluation lists the same few policies for each of its resources.
type names map[string]bool

func (n names) ok(name string) bool {
	if n[name] {
		return true
	}
	if !policy.PackNamePattern.MatchString(name) {
		return false
	}
	n[name] = true
	return true
}

// NewPlan validates an evaluation. A refusal is a *policy.FieldError whose
// Field is the path of the offending input in the complete form.
func NewPlan(ev *Evaluation) (*Plan, error) {
	p := &Plan{Evaluation: ev, packByName: map[string]*evalPack{}, resources: map[string]*evalResource{},
		violationByKey: map[issueKey]*evalViolation{}}
	validName := names{}
	switch {
	case ev.Stack != nil && ev.Account != nil:
		return nil, invalid("stack", "give either a stack or an account, not both")
	case ev.Stack != nil:
		s := ev.Stack
		if !policy.StackNamePattern.MatchString(s.Project) {
			return nil, invalid("stack.project", "%q is not a valid project name", s.Project)
		}
		if !policy.StackNamePattern.MatchString(s.Name) {
			return nil, invalid("stack.name", "%q is not a valid stack name", s.Name)
		}
		if s.Version < 0 {
			return nil, invalid("stack.version", "must not be negative")
		}
		if ev.Scope != "" {
			return nil, invalid("scope", "a stack evaluation has no scope")
		}
		p.EntityType, p.Project, p.Name, p.Version = model.EntityStack, s.Project, s.Name, s.Version
		p.entityURN = StackURN(s.Project, s.Name)
	case ev.Account != nil:
		a := ev.Account
		if !policy.AccountNamePattern.MatchString(a.Name) {
			return nil, invalid("account.name", "%q is not a valid account name", a.Name)
		}
		if a.Version < 0 {
			return nil, invalid("account.version", "must not be negative")
		}
		if err := policy.CheckText("account.provider", a.Provider, 100); err != nil {
			return nil, err
		}
		if err := policy.CheckText("scope", ev.Scope, 1000); err != nil {
			return nil, err
		}
		p.EntityType, p.Project, p.Provider, p.Version = model.EntityAccount, a.Name, a.Provider, a.Version
		p.entityURN = AccountURN(a.Name)
	default:
		return nil, invalid("stack", "give the stack or the account evaluated")
	}
	if ev.Kind != "" && ev.Kind != model.ModeAudit && ev.Kind != model.ModePreventative {
		return nil, invalid("kind", "%q is not one of audit, preventative", ev.Kind)
	}
	if ev.PolicyGroup != "" && !policy.GroupNamePattern.MatchString(ev.PolicyGroup) {
		return nil, invalid("policyGroup", "%q is not a valid policy group name", ev.PolicyGroup)
	}
	if err := policy.CheckText("error", ev.Error, 10000); err != nil {
		return nil, err
	}
	p.ObservedAt = ev.ObservedAt.UTC().Truncate(time.Microsecond)
	if ev.ObservedAt.IsZero() {
		p.ObservedAt = time.Now().UTC().Truncate(time.Microsecond)
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
		tag := policy.NormalizeTag(strings.TrimSpace(pk.VersionTag))
		if len(tag) > 100 || strings.ContainsAny(tag, " \t\r\n\x00") {
			return nil, invalid(field+".versionTag", "%q is not a version tag", pk.VersionTag)
		}
		if err := policy.CheckText(field+".error", pk.Error, 10000); err != nil {
			return nil, err
		}
		ep := &evalPack{name: pk.Name, tag: tag, err: strings.TrimSpace(pk.Error), meta: map[string]*model.PolicyInput{}}
		for j := range pk.Policies {
			pol := pk.Policies[j]
			pf := fmt.Sprintf("%s.policies[%d]", field, j)
			if err := pol.Check(pf); err != nil {
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
			if err := policy.CheckText(field+"."+f.name, f.value, 1000); err != nil {
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
		if v.EnforcementLevel != "" && !policy.ValidLevel(v.EnforcementLevel) {
			return nil, invalid(field+".enforcementLevel", "%q is not one of advisory, mandatory, remediate, disabled", v.EnforcementLevel)
		}
		sev := ""
		if v.Severity != nil {
			sev = *v.Severity
			if !policy.ValidSeverity(sev) {
				return nil, invalid(field+".severity", "%q is not one of \"\", low, medium, high, critical", sev)
			}
		}
		if err := policy.CheckText(field+".message", v.Message, 100000); err != nil {
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
func (p *Plan) resource(field, urn string) (*evalResource, error) {
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

// DefaultMode is the mode of an entity type's evaluations that no group
// or request sets: audit for accounts, preventative for stacks.
func DefaultMode(entityType string) string {
	if entityType == model.EntityAccount {
		return model.ModeAudit
	}
	return model.ModePreventative
}

// GroupType is the entity type of the policy groups that hold the plan's
// entity: model.GroupStacks or model.GroupAccounts.
func (p *Plan) GroupType() string {
	if p.EntityType == model.EntityAccount {
		return model.GroupAccounts
	}
	return model.GroupStacks
}

// AttributeGroups decides each pack's group and kind among the groups the
// repository loaded: the named group, else the entity's first group
// (non-default groups first, then by name) that applies the pack, else the
// entity's default group. In Pulumi's form, which names only violated
// packs, the packs applied to the entity's groups are added as evaluated.
func (p *Plan) AttributeGroups(groups []*Group) error {
	wantType := p.GroupType()
	var named, def *Group
	for _, g := range groups {
		if g.IsDefault && g.EntityType == wantType && def == nil {
			def = g
		}
		if p.Evaluation.PolicyGroup != "" && g.Name == p.Evaluation.PolicyGroup {
			named = g
		}
	}
	if p.Evaluation.PolicyGroup != "" {
		if named == nil {
			return invalid("policyGroup", "policy group %q does not exist", p.Evaluation.PolicyGroup)
		}
		if named.EntityType != wantType {
			return invalid("policyGroup", "policy group %s holds %s; a %s can't be evaluated under it", named.Name, named.EntityType, p.EntityType)
		}
	}
	if !p.Evaluation.Complete {
		var names []string
		seen := map[string]bool{}
		for _, g := range groups {
			if !g.Member {
				continue
			}
			for name := range g.Packs {
				if p.packByName[name] == nil && !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
		sort.Strings(names)
		for _, name := range names {
			ep := &evalPack{name: name, meta: map[string]*model.PolicyInput{}}
			p.packs = append(p.packs, ep)
			p.packByName[name] = ep
		}
		if p.Evaluation.Error != "" {
			for _, pk := range p.packs {
				if pk.err == "" {
					pk.err = strings.TrimSpace(p.Evaluation.Error)
				}
			}
		}
	}
	for _, pk := range p.packs {
		pk.group = named
		if pk.group == nil {
			for _, g := range groups {
				if _, ok := g.Packs[pk.name]; ok && g.Member && g.EntityType == wantType {
					pk.group = g
					break
				}
			}
		}
		if pk.group == nil {
			pk.group = def
		}
		switch {
		case p.Evaluation.Kind != "":
			pk.kind = p.Evaluation.Kind
		case pk.group != nil:
			pk.kind = pk.group.Mode
		default:
			pk.kind = DefaultMode(p.EntityType)
		}
	}
	return nil
}

// PackNames lists the packs evaluated, in the evaluation's order (the
// packs AttributeGroups adds last).
func (p *Plan) PackNames() []string {
	names := make([]string, len(p.packs))
	for i, pk := range p.packs {
		names[i] = pk.name
	}
	return names
}

// Evaluates reports whether the plan evaluates the pack.
func (p *Plan) Evaluates(pack string) bool { return p.packByName[pack] != nil }

// Kind is the evaluation's mode: the one it gives, else its first pack's,
// else the entity type's default.
func (p *Plan) Kind() string {
	kind := p.Evaluation.Kind
	if kind == "" && len(p.packs) > 0 {
		kind = p.packs[0].kind
	}
	if kind == "" {
		kind = DefaultMode(p.EntityType)
	}
	return kind
}

// Source is the evaluation's form: model.SourcePolicyResults or
// model.SourcePulumi.
func (p *Plan) Source() string {
	if p.Evaluation.Complete {
		return model.SourcePolicyResults
	}
	return model.SourcePulumi
}

// SelectVersions chooses, for each pack, the registered version with the
// evaluation's tag (for packs sent without a tag, or added from a group,
// the version the group applies or the latest published one), among
// versions ordered by pack name, published first, newest first. It returns
// the ids of the versions chosen, whose policies AddRegistered takes.
func (p *Plan) SelectVersions(versions []PackVersion) []int64 {
	p.versionPack = map[int64]*evalPack{}
	for _, pk := range p.packs {
		var pinned *int
		if pk.group != nil {
			pinned = pk.group.Packs[pk.name]
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
			p.versionPack[chosen] = pk
		}
	}
	ids := make([]int64, 0, len(p.versionPack))
	for id := range p.versionPack {
		ids = append(ids, id)
	}
	return ids
}

// AddRegistered gives each pack the policies of its registered version
// (SelectVersions chose the versions). The plan keeps pointers into
// policies.
func (p *Plan) AddRegistered(policies []model.Policy) {
	for i := range policies {
		pk := p.versionPack[policies[i].VersionID]
		if pk.registered == nil {
			pk.registered = map[string]*model.Policy{}
		}
		pk.registered[policies[i].Name] = &policies[i]
	}
}

// severity is a policy's severity: the violation's, else the evaluation's
// metadata, else the registered pack version's, else unset.
func (pk *evalPack) severity(name, fromViolation string) string {
	if fromViolation != "" {
		return fromViolation
	}
	if m := pk.meta[name]; m != nil && m.Severity != "" {
		return m.Severity
	}
	if reg := pk.registered[name]; reg != nil {
		return reg.Severity
	}
	return ""
}

// level is a policy's enforcement level, with the same precedence as
// severity and advisory by default.
func (pk *evalPack) level(name, fromViolation string) string {
	if fromViolation != "" {
		return fromViolation
	}
	if m := pk.meta[name]; m != nil && m.EnforcementLevel != "" {
		return m.EnforcementLevel
	}
	if reg := pk.registered[name]; reg != nil && reg.EnforcementLevel != "" {
		return reg.EnforcementLevel
	}
	return policy.LevelAdvisory
}

// message is a policy's message, with the same precedence as severity.
func (pk *evalPack) message(name, fromViolation string) string {
	if fromViolation != "" {
		return fromViolation
	}
	if m := pk.meta[name]; m != nil && m.Message != "" {
		return m.Message
	}
	if reg := pk.registered[name]; reg != nil {
		return reg.Message
	}
	return ""
}

// ReportedKeys lists the (pack, policy, resource URN) of each violation
// reported, in the evaluation's order; nil when there is none.
func (p *Plan) ReportedKeys() [][3]string {
	if len(p.violations) == 0 {
		return nil
	}
	keys := make([][3]string, len(p.violations))
	for i, v := range p.violations {
		keys[i] = [3]string{v.key.pack, v.key.policy, v.key.urn}
	}
	return keys
}

// KnownTexts calls f with the texts of each violation of a pack that ran
// that the registry cannot change: its resource's name and URN, and its
// message when the violation or the evaluation's metadata gives it (""
// otherwise). The repository reads them before the evaluation's
// transaction.
func (p *Plan) KnownTexts(f func(resourceName, urn, message string)) {
	for _, v := range p.violations {
		pk := p.packByName[v.key.pack]
		if pk.err != "" {
			continue
		}
		message := ""
		if m := pk.meta[v.key.policy]; v.message != "" || m != nil && m.Message != "" {
			message = pk.message(v.key.policy, v.message)
		}
		f(p.resources[v.key.urn].name, v.key.urn, message)
	}
}

// Violations is the number of violations reported, each (pack, policy,
// resource) once.
func (p *Plan) Violations() int { return len(p.violations) }
