package ingest

import (
	"sort"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

// Outcomes computes, per evaluated pack that ran, one outcome per enabled
// policy evaluated, and the set of resources evaluated by at least one
// policy. Complete form: the policies of the pack's metadata, of the
// resources' passed/failed lists and of the violations, each governing the
// resources that list it or violate it. Pulumi's form: the registered pack
// version's policies and the violated ones, each governing its distinct
// violating resources.
func (p *Plan) Outcomes(orgID, entityID int64) ([]model.PolicyOutcome, map[string]bool) {
	governed := map[string]bool{}
	var out []model.PolicyOutcome
	for _, pk := range p.packs {
		if pk.err != "" {
			continue
		}
		gov := map[string]map[string]bool{}
		add := func(name, urn string) {
			s := gov[name]
			if s == nil {
				s = map[string]bool{}
				gov[name] = s
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
		if p.Evaluation.Complete {
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
			o := model.PolicyOutcome{OrgID: orgID, EntityID: entityID, Scope: p.Evaluation.Scope, PackName: pk.name, PolicyName: name,
				Severity: pk.severity(name, vSev), EnforcementLevel: level, Governed: len(gov[name])}
			if pk.group != nil {
				id := pk.group.ID
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

// PackEvaluations are the rows recording the latest evaluation of each
// evaluated pack on the entity.
func (p *Plan) PackEvaluations(orgID, entityID, evaluationID int64) []model.PackEvaluation {
	rows := make([]model.PackEvaluation, len(p.packs))
	for i, pk := range p.packs {
		rows[i] = model.PackEvaluation{OrgID: orgID, EntityID: entityID, Scope: p.Evaluation.Scope, PackName: pk.name, PackTag: pk.tag,
			Version: p.Version, EvaluationID: evaluationID, Kind: pk.kind, EvaluatedAt: p.ObservedAt}
		if pk.group != nil {
			id := pk.group.ID
			rows[i].GroupID = &id
		}
		if pk.err != "" {
			e := pk.err
			rows[i].Error = &e
		}
	}
	return rows
}

// ResourceURNs lists the URNs of the resources the evaluation reports, in
// its order; the slice is the plan's own.
func (p *Plan) ResourceURNs() []string { return p.resourceOrder }

// Reports reports whether the evaluation reports the resource.
func (p *Plan) Reports(urn string) bool { return p.resources[urn] != nil }

// ResourceChanges are the rows of the reported resources that change,
// given the stored rows of those found (existing, by URN), and whether a
// resource became governed or stopped being governed. governed is the set
// Outcomes returned; now is their update time. Pulumi's form never
// ungoverns a resource.
func (p *Plan) ResourceChanges(orgID, entityID int64, governed map[string]bool, existing map[string]model.Resource, now time.Time) ([]model.Resource, bool) {
	var upserts []model.Resource
	changed := false
	for _, urn := range p.resourceOrder {
		res := p.resources[urn]
		old, found := existing[urn]
		want := model.Resource{OrgID: orgID, EntityID: entityID, URN: urn, ResourceID: res.id, Type: res.typ,
			Provider: res.provider, Name: res.name, Governed: governed[urn], UpdatedAt: now}
		if !p.Evaluation.Complete && found && old.Governed {
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
		want.Version = p.Version
		if res.version != nil {
			want.Version = *res.version
		}
		upserts = append(upserts, want)
	}
	return upserts, changed
}
