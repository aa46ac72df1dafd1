package repository

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

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
	registered map[string]*model.Policy
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
		p.entityType, p.project, p.name, p.version = model.EntityStack, s.Project, s.Name, s.Version
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
		p.entityType, p.project, p.provider, p.version = model.EntityAccount, a.Name, a.Provider, a.Version
		p.entityURN = AccountURN(a.Name)
	default:
		return nil, invalid("stack", "give the stack or the account evaluated")
	}
	if ev.Kind != "" && ev.Kind != model.ModeAudit && ev.Kind != model.ModePreventative {
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
		tag := policy.NormalizeTag(strings.TrimSpace(pk.VersionTag))
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

func defaultMode(entityType string) string {
	if entityType == model.EntityAccount {
		return model.ModeAudit
	}
	return model.ModePreventative
}

// loadGroups loads, in one query, the entity's groups, the default group of
// its kind and the named group, each with its applied packs.
func loadGroups(tx *gorm.DB, orgID int64, e *model.Entity, named string) ([]*groupInfo, error) {
	groupType := model.GroupStacks
	if e.Type == model.EntityAccount {
		groupType = model.GroupAccounts
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
	wantType := model.GroupStacks
	if p.entityType == model.EntityAccount {
		wantType = model.GroupAccounts
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
	var policies []model.Policy
	if err := tx.Where("org_id = ? AND version_id IN ?", orgID, ids).Find(&policies).Error; err != nil {
		return err
	}
	for i := range policies {
		pk := versionIDs[policies[i].VersionID]
		if pk.registered == nil {
			pk.registered = map[string]*model.Policy{}
		}
		pk.registered[policies[i].Name] = &policies[i]
	}
	return nil
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
