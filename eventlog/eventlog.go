// Package eventlog reads the engine event logs the pulumi CLI writes with
// `pulumi up|preview --event-log FILE`: one JSON engine event per line, each
// with a sequence number, a timestamp and one payload. It keeps what a policy
// evaluation needs: the packs that ran, the resources they evaluated with the
// policies that passed and failed on each, and the violations.
package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// MaxLineSize bounds one event line (resource events carry inputs and
// outputs, which can be large).
const MaxLineSize = 64 << 20

// Run is what one `pulumi up` or `pulumi preview` reported about policies.
type Run struct {
	// Packs are the policy packs that ran, by name.
	Packs []Pack
	// Resources are the resources of the stack after the run, in order of
	// first appearance, with the policies each pack evaluated on them.
	// Stack-level policy outcomes are on the stack's root resource, whose
	// URN is empty when the log never names it.
	Resources []Resource
	// Violations are the policy violations, in log order.
	Violations []Violation
	// StackURN is the URN of the stack's root resource (type
	// pulumi:pulumi:Stack), when the log names it.
	StackURN string
	// Preview reports a `pulumi preview`, when the summary says so.
	Preview bool
	// Result is the summary's result, when the CLI writes one.
	Result string
}

// Pack is a policy pack that ran.
type Pack struct {
	Name       string
	VersionTag string
}

// Resource is a resource of the run.
type Resource struct {
	URN      string
	Type     string
	Provider string // the provider's package, e.g. "aws"
	Packs    []PackOutcome
}

// PackOutcome lists the policies of one pack that passed and failed on a
// resource.
type PackOutcome struct {
	Name   string
	Passed []string
	Failed []string
}

// Violation is one policy violation. ResourceURN is empty for a stack-level
// policy when the log never names the stack's root resource.
type Violation struct {
	PolicyPack       string
	PolicyPackTag    string
	PolicyName       string
	ResourceURN      string
	Message          string
	EnforcementLevel string // advisory, mandatory, remediate or disabled
	Severity         string // "" when the policy has none
}

// The engine event payloads this package reads; field names are those of
// Pulumi's apitype package.
type engineEvent struct {
	Sequence                       *int                `json:"sequence"`
	Timestamp                      *int64              `json:"timestamp"`
	PolicyEvent                    *policyEvent        `json:"policyEvent"`
	PolicyAnalyzeSummaryEvent      *policySummaryEvent `json:"policyAnalyzeSummaryEvent"`
	PolicyAnalyzeStackSummaryEvent *policySummaryEvent `json:"policyAnalyzeStackSummaryEvent"`
	ResourcePreEvent               *resourcePreEvent   `json:"resourcePreEvent"`
	SummaryEvent                   *summaryEvent       `json:"summaryEvent"`
}

type policyEvent struct {
	ResourceURN          string  `json:"resourceUrn"`
	Message              string  `json:"message"`
	Color                string  `json:"color"`
	PolicyName           string  `json:"policyName"`
	PolicyPackName       string  `json:"policyPackName"`
	PolicyPackVersion    string  `json:"policyPackVersion"`
	PolicyPackVersionTag string  `json:"policyPackVersionTag"`
	EnforcementLevel     string  `json:"enforcementLevel"`
	Severity             *string `json:"severity"`
}

type policySummaryEvent struct {
	ResourceURN          string   `json:"resourceUrn"`
	PolicyPackName       string   `json:"policyPackName"`
	PolicyPackVersion    string   `json:"policyPackVersion"`
	PolicyPackVersionTag string   `json:"policyPackVersionTag"`
	Passed               []string `json:"passed"`
	Failed               []string `json:"failed"`
}

type resourcePreEvent struct {
	Metadata struct {
		Op       string `json:"op"`
		URN      string `json:"urn"`
		Type     string `json:"type"`
		Provider string `json:"provider"`
	} `json:"metadata"`
}

type summaryEvent struct {
	// PolicyPacks maps pack names to versions; Pulumi's JSON key is
	// PascalCase, and newer CLIs write the version tag prefixed with "v".
	PolicyPacks map[string]string `json:"PolicyPacks"`
	IsPreview   bool              `json:"isPreview"`
	Result      string            `json:"result"`
}

// colorDirective matches the CLI's colour directives, e.g. <{%reset%}>.
var colorDirective = regexp.MustCompile(`<\{%[^%]*%\}>`)

// StripColor removes the CLI's colour directives from a message and its
// trailing newlines.
func StripColor(s string) string {
	return strings.TrimRight(colorDirective.ReplaceAllString(s, ""), "\r\n")
}

// Parse reads an event log. Blank lines and event kinds other than policy,
// resource-pre and summary events are skipped; a line that is not a JSON
// engine event is an error naming its line number.
func Parse(r io.Reader) (*Run, error) {
	p := &parser{resources: map[string]*resourceAcc{}, packs: map[string]string{}}
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := readLine(br)
		if len(bytes.TrimSpace(b)) > 0 {
			if perr := p.event(b); perr != nil {
				return nil, fmt.Errorf("line %d: %w", line, perr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	return p.run(), nil
}

// readLine reads one line without its newline, up to MaxLineSize.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		part, err := br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > MaxLineSize {
			return nil, fmt.Errorf("line longer than %d bytes", MaxLineSize)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), err
	}
}

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
	resources  map[string]*resourceAcc
	order      []string
	stackLevel *resourceAcc // outcomes and violations with no URN
	violations []Violation
	packs      map[string]string // name → version tag
	stackURN   string
	preview    bool
	result     string
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
		return p.policyEvent(e.PolicyEvent)
	case e.PolicyAnalyzeSummaryEvent != nil:
		if e.PolicyAnalyzeSummaryEvent.ResourceURN == "" {
			return errors.New("policyAnalyzeSummaryEvent without resourceUrn")
		}
		return p.summary(e.PolicyAnalyzeSummaryEvent)
	case e.PolicyAnalyzeStackSummaryEvent != nil:
		s := *e.PolicyAnalyzeStackSummaryEvent
		s.ResourceURN = ""
		return p.summary(&s)
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
		for name, version := range e.SummaryEvent.PolicyPacks {
			if _, ok := p.packs[name]; !ok || p.packs[name] == "" {
				p.packs[name] = trimV(version)
			}
		}
		p.preview = e.SummaryEvent.IsPreview
		p.result = e.SummaryEvent.Result
	}
	return nil
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

// tag is a pack's version tag as an event names it: the tag, else the
// version.
func (p *parser) notePack(name, version, tag string) error {
	if name == "" {
		return errors.New("policy event without policyPackName")
	}
	t := trimV(tag)
	if t == "" {
		t = trimV(version)
	}
	if p.packs[name] == "" {
		p.packs[name] = t
	}
	return nil
}

func (p *parser) policyEvent(e *policyEvent) error {
	if err := p.notePack(e.PolicyPackName, e.PolicyPackVersion, e.PolicyPackVersionTag); err != nil {
		return err
	}
	if e.PolicyName == "" {
		return errors.New("policyEvent without policyName")
	}
	r := p.resource(e.ResourceURN)
	r.live = true
	sev := ""
	if e.Severity != nil {
		sev = *e.Severity
	}
	p.violations = append(p.violations, Violation{
		PolicyPack: e.PolicyPackName, PolicyPackTag: p.packs[e.PolicyPackName], PolicyName: e.PolicyName,
		ResourceURN: e.ResourceURN, Message: StripColor(e.Message), EnforcementLevel: normalizeLevel(e.EnforcementLevel),
		Severity: sev,
	})
	return nil
}

func (p *parser) summary(e *policySummaryEvent) error {
	if err := p.notePack(e.PolicyPackName, e.PolicyPackVersion, e.PolicyPackVersionTag); err != nil {
		return err
	}
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
	return nil
}

func (p *parser) run() *Run {
	run := &Run{StackURN: p.stackURN, Preview: p.preview, Result: p.result,
		Packs: []Pack{}, Resources: []Resource{}, Violations: p.violations}
	if run.Violations == nil {
		run.Violations = []Violation{}
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

// trimV drops the "v" newer CLIs put before version tags in summaries.
func trimV(v string) string {
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

// normalizeLevel maps the engine's older names of enforcement levels to the
// API's.
func normalizeLevel(level string) string {
	switch level {
	case "warning":
		return "advisory"
	case "none":
		return "disabled"
	}
	return level
}

// providerPackage derives the package from a provider reference
// (urn:pulumi:<stack>::<project>::pulumi:providers:<package>::<name>::<id>):
// "aws" for the default AWS provider.
func providerPackage(ref string) string {
	if ref == "" {
		return ""
	}
	parts := strings.Split(ref, "::")
	if len(parts) < 3 {
		return ""
	}
	typ := parts[2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	if pkg, ok := strings.CutPrefix(typ, "pulumi:providers:"); ok {
		return pkg
	}
	return ""
}

// urnType is the resource type a URN names (the last '$' segment of its type
// part) and that type's package.
func urnType(urn string) (typ, pkg string) {
	parts := strings.SplitN(urn, "::", 4)
	if len(parts) != 4 {
		return "", ""
	}
	typ = parts[2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	pkg, _, _ = strings.Cut(typ, ":")
	return typ, pkg
}
