package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

type resourceAcc struct {
	urn       string
	typ       string
	provider  string
	live      bool // seen in a step other than a deletion, or evaluated
	deleted   bool
	outcomes  map[string]*outcomeAcc
	packOrder []string
}

type outcomeAcc struct {
	passed, failed map[string]bool
}

type parser struct {
	resources    map[string]*resourceAcc
	order        []string
	stackLevel   *resourceAcc // outcomes and violations with no URN
	violations   []Violation
	remediations []Remediation
	packs        map[string]string // name → version tag
	passedOver   PassedOver
	stackURN     string
	preview      bool
	result       string
}

func (p *parser) event(b []byte) error {
	var e engineEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&e); err != nil {
		return fmt.Errorf("not a JSON engine event: %w", err)
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	if e.Sequence == nil && e.Timestamp == nil {
		return errors.New("not an engine event: no sequence or timestamp")
	}
	switch {
	case e.PolicyEvent != nil:
		p.policyEvent(e.PolicyEvent)
	case e.PolicyRemediationEvent != nil:
		p.remediation(e.PolicyRemediationEvent)
	case e.PolicyAnalyzeSummaryEvent != nil:
		if e.PolicyAnalyzeSummaryEvent.ResourceURN == "" {
			return errors.New("policyAnalyzeSummaryEvent without resourceUrn")
		}
		p.summary(e.PolicyAnalyzeSummaryEvent)
	case e.PolicyAnalyzeStackSummaryEvent != nil:
		s := *e.PolicyAnalyzeStackSummaryEvent
		s.ResourceURN = ""
		p.summary(&s)
	case e.PolicyRemediateSummaryEvent != nil:
		// Only shows that the pack ran: its passed and failed are not
		// compliance outcomes (see the package documentation).
		s := e.PolicyRemediateSummaryEvent
		if s.PolicyPackName == "" {
			p.passedOver.SummaryEvents++
			return nil
		}
		p.notePack(s.PolicyPackName, s.PolicyPackVersion, s.PolicyPackVersionTag)
	case e.ResourcePreEvent != nil:
		m := e.ResourcePreEvent.Metadata
		if m.URN == "" {
			return errors.New("resourcePreEvent without metadata.urn")
		}
		r := p.resource(m.URN)
		if m.Type != "" {
			r.typ = m.Type
		}
		if pkg := providerPackage(m.Provider); pkg != "" {
			r.provider = pkg
		}
		if m.Type == "pulumi:pulumi:Stack" && p.stackURN == "" {
			p.stackURN = m.URN
		}
		switch m.Op {
		case "delete", "delete-replaced", "discard", "read-discard":
			r.deleted = true
		default:
			r.live = true
		}
	case e.SummaryEvent != nil:
		p.summaryPacks(e.SummaryEvent.PolicyPacks)
		p.preview = e.SummaryEvent.IsPreview
		p.result = e.SummaryEvent.Result
	}
	return nil
}

// summaryPacks notes the packs of a summaryEvent, in key order so that two
// entries naming one pack resolve the same way on every parse.
func (p *parser) summaryPacks(packs map[string]string) {
	keys := make([]string, 0, len(packs))
	for k := range packs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, ok := summaryPackName(k, packs[k])
		if !ok {
			p.passedOver.Packs++
			continue
		}
		if p.packs[name] == "" {
			p.packs[name] = trimV(packs[k])
		}
	}
}

func (p *parser) resource(urn string) *resourceAcc {
	if urn == "" {
		if p.stackLevel == nil {
			p.stackLevel = &resourceAcc{outcomes: map[string]*outcomeAcc{}, live: true}
		}
		return p.stackLevel
	}
	r := p.resources[urn]
	if r == nil {
		r = &resourceAcc{urn: urn, outcomes: map[string]*outcomeAcc{}}
		p.resources[urn] = r
		p.order = append(p.order, urn)
	}
	return r
}

// notePack records a pack an event names, with its version tag: the tag,
// else the version.
func (p *parser) notePack(name, version, tag string) {
	t := trimV(tag)
	if t == "" {
		t = trimV(version)
	}
	if p.packs[name] == "" {
		p.packs[name] = t
	}
}

func (p *parser) policyEvent(e *policyEvent) {
	if e.PolicyPackName == "" || e.PolicyName == "" {
		p.passedOver.Violations++
		return
	}
	p.notePack(e.PolicyPackName, e.PolicyPackVersion, e.PolicyPackVersionTag)
	r := p.resource(e.ResourceURN)
	r.live = true
	p.violations = append(p.violations, Violation{
		PolicyPack: e.PolicyPackName, PolicyPackTag: p.packs[e.PolicyPackName], PolicyName: e.PolicyName,
		ResourceURN: e.ResourceURN, Message: StripColor(e.Message), EnforcementLevel: normalizeLevel(e.EnforcementLevel),
		Severity: normalizeSeverity(e.Severity),
	})
}

func (p *parser) remediation(e *remediationEvent) {
	if e.PolicyPackName != "" {
		p.notePack(e.PolicyPackName, e.PolicyPackVersion, e.PolicyPackVersionTag)
	}
	if e.ResourceURN != "" {
		p.resource(e.ResourceURN).live = true
	}
	p.remediations = append(p.remediations, Remediation{PolicyPack: e.PolicyPackName, PolicyName: e.PolicyName, ResourceURN: e.ResourceURN})
}

func (p *parser) summary(e *policySummaryEvent) {
	if e.PolicyPackName == "" {
		p.passedOver.SummaryEvents++
		return
	}
	p.notePack(e.PolicyPackName, e.PolicyPackVersion, e.PolicyPackVersionTag)
	r := p.resource(e.ResourceURN)
	r.live = true
	o := r.outcomes[e.PolicyPackName]
	if o == nil {
		o = &outcomeAcc{passed: map[string]bool{}, failed: map[string]bool{}}
		r.outcomes[e.PolicyPackName] = o
		r.packOrder = append(r.packOrder, e.PolicyPackName)
	}
	for _, n := range e.Passed {
		o.passed[n] = true
	}
	for _, n := range e.Failed {
		o.failed[n] = true
	}
}

func (p *parser) run() *Run {
	run := &Run{StackURN: p.stackURN, Preview: p.preview, Result: p.result, PassedOver: p.passedOver,
		Packs: []Pack{}, Resources: []Resource{}, Violations: p.violations, Remediations: p.remediations}
	if run.Violations == nil {
		run.Violations = []Violation{}
	}
	if run.Remediations == nil {
		run.Remediations = []Remediation{}
	}
	names := make([]string, 0, len(p.packs))
	for name := range p.packs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		run.Packs = append(run.Packs, Pack{Name: name, VersionTag: p.packs[name]})
	}
	// Stack-level outcomes belong to the stack's root resource.
	if p.stackLevel != nil {
		if p.stackURN != "" {
			root := p.resource(p.stackURN)
			root.live = true
			for _, pack := range p.stackLevel.packOrder {
				o := root.outcomes[pack]
				if o == nil {
					root.outcomes[pack] = p.stackLevel.outcomes[pack]
					root.packOrder = append(root.packOrder, pack)
					continue
				}
				for n := range p.stackLevel.outcomes[pack].passed {
					o.passed[n] = true
				}
				for n := range p.stackLevel.outcomes[pack].failed {
					o.failed[n] = true
				}
			}
			for i := range run.Violations {
				if run.Violations[i].ResourceURN == "" {
					run.Violations[i].ResourceURN = p.stackURN
				}
			}
		} else {
			p.order = append([]string{""}, p.order...)
			p.resources[""] = p.stackLevel
		}
	}
	for _, urn := range p.order {
		r := p.resources[urn]
		if !r.live && r.deleted {
			continue
		}
		res := Resource{URN: urn, Type: r.typ, Provider: r.provider, Packs: []PackOutcome{}}
		// Without a resourcePreEvent, type and provider come from the URN.
		if typ, pkg := urnType(urn); res.Type == "" {
			res.Type = typ
			if res.Provider == "" {
				res.Provider = pkg
			}
		} else if res.Provider == "" {
			res.Provider, _, _ = strings.Cut(res.Type, ":")
		}
		for _, pack := range r.packOrder {
			o := r.outcomes[pack]
			res.Packs = append(res.Packs, PackOutcome{Name: pack, Passed: sortedKeys(o.passed), Failed: sortedKeys(o.failed)})
		}
		run.Resources = append(run.Resources, res)
	}
	return run
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
