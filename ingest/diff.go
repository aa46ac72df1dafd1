package ingest

import (
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

// Diff is what an evaluation writes to the issues of its entity and scope.
type Diff struct {
	// Inserts are the issues the evaluation opens.
	Inserts []model.Issue
	// Updates are the issues it changes, and Befores[i] is Updates[i] as it
	// was.
	Updates []model.Issue
	Befores []model.Issue
	// Moved are the issues whose only change is their version columns:
	// their ids by their new versions.
	Moved map[Versions][]string
	// History is the history rows of the inserts and the updates.
	History []model.HistoryEntry
	// Unaccepted are the fixed issues whose risk acceptance ends.
	Unaccepted []string
	// Opened, Reopened, Fixed and Unchanged count the violations and
	// issues of each outcome.
	Opened, Reopened, Fixed, Unchanged int
}

// Diff compares the reported violations with the existing issues of the
// entity and scope: the issues not fixed, and the fixed ones a violation
// reports again. A new violation opens an issue; an issue reported again
// keeps its triage and takes the evaluation's level, message, tag, severity
// (when one is given), kind and group, and reopens when it was fixed; an
// issue not reported by a pack the evaluation ran is fixed, as is, in the
// complete form, one whose resource is gone from the inventory (unless its
// pack has since been evaluated at a newer version: latest maps packs to
// the version they were last evaluated at), and a fixed issue's risk
// acceptance ends. Packs that could not run change nothing. Diff changes
// existing in place.
func (p *Plan) Diff(orgID int64, e *model.Entity, existing []model.Issue, latest map[string]int64) *Diff {
	d := &Diff{}
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
			want.ID = model.NewIssueID()
			d.Inserts = append(d.Inserts, want)
			d.History = append(d.History, historyRow(orgID, want.ID, want.ObservedAt, "status", nil, policy.StatusOpen))
			d.Opened++
			continue
		}
		c := change{plan: p, orgID: orgID, iss: iss, before: *iss}
		if next := policy.StatusReported(iss.Status); next != iss.Status {
			c.setStatus(next)
			d.Reopened++
		} else {
			d.Unchanged++
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
	inventory := p.Evaluation.Complete
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
		case inventory && p.resources[iss.ResourceURN] == nil && iss.ResourceURN != p.entityURN && latest[iss.PolicyPack] <= p.Version:
			// The resource is gone from the complete inventory: fixed, unless
			// its pack has since been evaluated at a newer version.
		default:
			continue
		}
		c := change{plan: p, orgID: orgID, iss: iss, before: *iss}
		c.setStatus(policy.StatusNotReported(iss.Status))
		if iss.AcceptedUntil != nil {
			c.endAcceptance()
			d.Unaccepted = append(d.Unaccepted, iss.ID)
		}
		p.setVersions(iss, p.resources[iss.ResourceURN])
		d.Fixed++
		d.add(c)
	}
	return d
}

// change accumulates the changes to one existing issue.
type change struct {
	plan    *Plan
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
	c.history = append(c.history, historyRow(c.orgID, c.iss.ID, time.Time{}, field, &old, value))
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
		historyRow(c.orgID, c.iss.ID, time.Time{}, "acceptedUntil", &until, ""),
		historyRow(c.orgID, c.iss.ID, time.Time{}, "acceptanceReason", &reason, ""),
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

// Versions is a value of the version columns (StackVersion,
// ResourceVersion) of an issue.
type Versions struct {
	Stack, Resource       int64
	HasStack, HasResource bool
}

func versionsOf(iss *model.Issue) Versions {
	var v Versions
	if iss.StackVersion != nil {
		v.Stack, v.HasStack = *iss.StackVersion, true
	}
	if iss.ResourceVersion != nil {
		v.Resource, v.HasResource = *iss.ResourceVersion, true
	}
	return v
}

func equalPtr(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// add records a changed issue: recorded changes bump its revision and
// lastModified (never backwards) and write its history.
func (d *Diff) add(c change) {
	iss := c.iss
	if !c.dirty && len(c.history) == 0 {
		// Issues reported again unchanged only follow the version: one
		// UPDATE per version instead of a full row each.
		if c.moved {
			if d.Moved == nil {
				d.Moved = map[Versions][]string{}
			}
			v := versionsOf(iss)
			d.Moved[v] = append(d.Moved[v], iss.ID)
		}
		return
	}
	if len(c.history) > 0 {
		at := c.plan.ObservedAt
		if at.Before(iss.LastModified) {
			at = iss.LastModified
		}
		iss.LastModified = at
		iss.Revision++
		for i := range c.history {
			c.history[i].At = at
		}
		d.History = append(d.History, c.history...)
	}
	d.Updates = append(d.Updates, *iss)
	d.Befores = append(d.Befores, c.before)
}

// historyRow is a history row an evaluation writes.
func historyRow(orgID int64, issueID string, at time.Time, field string, old *string, value string) model.HistoryEntry {
	v := value
	return model.HistoryEntry{OrgID: orgID, IssueID: issueID, At: at, Actor: HistoryActor, ActorType: HistoryActor,
		Field: field, OldValue: old, NewValue: &v}
}

// issueFields is the issue a violation describes, as a new issue would be.
func (p *Plan) issueFields(orgID int64, e *model.Entity, pk *evalPack, v *evalViolation, res *evalResource) model.Issue {
	sev := pk.severity(v.key.policy, v.severity)
	iss := model.Issue{
		OrgID: orgID, EntityRef: e.ID, Scope: p.Evaluation.Scope, EntityProject: e.Project,
		PolicyPack: pk.name, PolicyPackTag: pk.tag, PolicyName: v.key.policy, ResourceURN: v.key.urn,
		ResourceProvider: res.provider, ResourceType: res.typ, ResourceName: res.name,
		Message: pk.message(v.key.policy, v.message), ObservedAt: p.ObservedAt, LastModified: p.ObservedAt,
		Level: pk.level(v.key.policy, v.level), Severity: sev, SeverityRank: policy.SeverityRank(sev),
		Status: policy.StatusOpen, StatusRank: policy.StatusRank(policy.StatusOpen), Active: true, Kind: pk.kind,
		Priority: policy.PriorityForSeverity(sev), Revision: 1,
	}
	if pk.group != nil {
		iss.PolicyGroupName, iss.PolicyGroupType = pk.group.Name, pk.group.Mode
	}
	if e.Type == model.EntityStack {
		iss.EntityType, iss.EntityID = "stack", e.Name
	} else {
		iss.EntityType = "insights-account"
		switch {
		case res.id != "":
			iss.EntityID = res.id
		case p.Evaluation.Scope != "":
			iss.EntityID = p.Evaluation.Scope
		default:
			iss.EntityID = res.name
		}
	}
	p.setVersions(&iss, res)
	return iss
}

// setVersions sets the version columns to this evaluation's: the stack
// version for stacks, the resource's (else the scan's) version for accounts.
func (p *Plan) setVersions(iss *model.Issue, res *evalResource) {
	v := p.Version
	if p.EntityType == model.EntityStack {
		iss.StackVersion, iss.ResourceVersion = &v, nil
		return
	}
	if res != nil && res.version != nil {
		rv := *res.version
		v = rv
	}
	iss.StackVersion, iss.ResourceVersion = nil, &v
}
