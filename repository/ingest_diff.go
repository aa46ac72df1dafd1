package repository

import (
	"time"

	"github.com/google/uuid"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

// issueDiff is what an evaluation writes to the issues.
type issueDiff struct {
	inserts                            []model.Issue
	updates                            []model.Issue
	befores                            []model.Issue         // updates[i] as it was
	moved                              map[versions][]string // version-only changes: ids by new versions
	history                            []model.HistoryEntry
	unaccepted                         []string // fixed issues whose risk acceptance ends
	opened, reopened, fixed, unchanged int
	// rollup is what the changes make to the rollups.
	rollup *rollupDelta
}

// diff compares the reported violations with the existing issues of the
// entity and scope, in memory.
func (p *plan) diff(orgID int64, e *model.Entity, existing []model.Issue, latest map[string]int64) *issueDiff {
	d := &issueDiff{rollup: newRollupDelta()}
	byKey := make(map[issueKey]*model.Issue, len(existing))
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
			d.history = append(d.history, p.historyRow(orgID, want.ID, want.ObservedAt, "status", nil, policy.StatusOpen))
			d.opened++
			continue
		}
		c := change{plan: p, orgID: orgID, iss: iss, before: *iss}
		if next := policy.StatusReported(iss.Status); next != iss.Status {
			c.setStatus(next)
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
		if iss.Status == policy.StatusFixed {
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
		c.setStatus(policy.StatusNotReported(iss.Status))
		if iss.AcceptedUntil != nil {
			c.endAcceptance()
			d.unaccepted = append(d.unaccepted, iss.ID)
		}
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
	iss     *model.Issue
	before  model.Issue // the issue as it was
	history []model.HistoryEntry
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
	c.iss.StatusRank = policy.StatusRank(status)
	c.iss.Active = policy.IsActive(status)
}

// endAcceptance clears the issue's risk acceptance, recorded in its history.
func (c *change) endAcceptance() {
	until, reason := c.iss.AcceptedUntil.UTC().Format(time.RFC3339Nano), c.iss.AcceptanceReason
	c.iss.AcceptedUntil, c.iss.AcceptanceReason = nil, ""
	c.dirty = true
	for _, h := range []model.HistoryEntry{
		c.plan.historyRow(c.orgID, c.iss.ID, time.Time{}, "acceptedUntil", &until, ""),
		c.plan.historyRow(c.orgID, c.iss.ID, time.Time{}, "acceptanceReason", &reason, ""),
	} {
		h.NewValue = nil
		c.history = append(c.history, h)
	}
}

// quiet updates the columns that follow the latest evaluation without
// being recorded as changes: versions, resource identity, entity id.
func (c *change) quiet(iss *model.Issue, want model.Issue) {
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

func versionsOf(iss *model.Issue) versions {
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

func (p *plan) historyRow(orgID int64, issueID string, at time.Time, field string, old *string, value string) model.HistoryEntry {
	v := value
	return model.HistoryEntry{OrgID: orgID, IssueID: issueID, At: at, Actor: evaluationActor, ActorType: evaluationActor,
		Field: field, OldValue: old, NewValue: &v}
}

// issueFields is the issue a violation describes, as a new issue would be.
func (p *plan) issueFields(orgID int64, e *model.Entity, pk *evalPack, v *evalViolation, res *evalResource) model.Issue {
	sev := pk.severity(v.key.policy, v.severity)
	iss := model.Issue{
		OrgID: orgID, EntityRef: e.ID, Scope: p.ev.Scope, EntityProject: e.Project,
		PolicyPack: pk.name, PolicyPackTag: pk.tag, PolicyName: v.key.policy, ResourceURN: v.key.urn,
		ResourceProvider: res.provider, ResourceType: res.typ, ResourceName: res.name,
		Message: pk.message(v.key.policy, v.message), ObservedAt: p.observedAt, LastModified: p.observedAt,
		Level: pk.level(v.key.policy, v.level), Severity: sev, SeverityRank: policy.SeverityRank(sev),
		Status: policy.StatusOpen, StatusRank: policy.StatusRank(policy.StatusOpen), Active: true, Kind: pk.kind,
		Priority: policy.PriorityForSeverity(sev), Revision: 1,
	}
	if pk.group != nil {
		iss.PolicyGroupName, iss.PolicyGroupType = pk.group.name, pk.group.mode
	}
	if e.Type == model.EntityStack {
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
func (p *plan) setVersions(iss *model.Issue, res *evalResource) {
	v := p.version
	if p.entityType == model.EntityStack {
		iss.StackVersion, iss.ResourceVersion = &v, nil
		return
	}
	if res != nil && res.version != nil {
		rv := *res.version
		v = rv
	}
	iss.StackVersion, iss.ResourceVersion = nil, &v
}
