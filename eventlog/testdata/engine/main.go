// Command engine writes the event-log fixtures local-*.jsonl of package
// eventlog with Pulumi's own apitype.EngineEvent and json.Encoder, as the
// CLI's event logger does (a sequence from 0, Unix-second timestamps, one
// event a line), in the order the engine emits them: per resource and pack
// Remediate then Analyze, then the step; AnalyzeStack; the summary.
//
// The run is `pulumi up --policy-pack ~/src/policies/security --policy-pack
// ~/src/policies/legacy` on shop/dev. The security pack declares no version;
// the legacy analyzer gives no name (its summary events, its violation and
// its summaryEvent entry name no pack). Run 2 is written as CLIs before
// policy summary events and summaryEvent.result wrote it.
//
// It is a module of its own so that package eventlog's module does not
// depend on the Pulumi SDK. From this directory:
//
//	go run . ..
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

const (
	stackURN    = "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"
	providerURN = "urn:pulumi:dev::shop::pulumi:providers:aws::default_6_56_0"
	providerRef = providerURN + "::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
	assetsURN   = "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::assets"
	logsURN     = "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::logs"
	webURN      = "urn:pulumi:dev::shop::aws:ec2/securityGroup:SecurityGroup::web"

	securityKey = "security|local|~/src/policies/security"
	legacyKey   = "|local|~/src/policies/legacy"
)

type resource struct {
	urn, typ, id string
	inputs       map[string]any
}

var resources = []resource{
	{stackURN, "pulumi:pulumi:Stack", "", map[string]any{}},
	{providerURN, "pulumi:providers:aws", "04da6b54-80e4-46f7-96ec-b56ff0331ba9", map[string]any{"region": "eu-west-1"}},
	{assetsURN, "aws:s3/bucket:Bucket", "assets-4f1c2d9", map[string]any{"bucket": "assets-4f1c2d9", "acl": "public-read"}},
	{logsURN, "aws:s3/bucket:Bucket", "logs-77ab310", map[string]any{"bucket": "logs-77ab310", "acl": "private"}},
	{webURN, "aws:ec2/securityGroup:SecurityGroup", "sg-0c2a94d1e5b7f3a60", map[string]any{
		"ingress": []any{map[string]any{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": []any{"0.0.0.0/0"}}}}},
}

// log encodes events as the CLI's event logger does.
type log struct {
	enc  *json.Encoder
	seq  int
	time int
}

func (l *log) emit(e apitype.EngineEvent) {
	e.Sequence, l.seq = l.seq, l.seq+1
	e.Timestamp = l.time
	l.time += l.seq % 2
	if err := l.enc.Encode(e); err != nil {
		panic(err)
	}
}

func state(r resource) *apitype.StepEventStateMetadata {
	s := &apitype.StepEventStateMetadata{Type: r.typ, URN: r.urn, ID: r.id, Inputs: r.inputs, Outputs: r.inputs}
	if r.typ != "pulumi:pulumi:Stack" {
		s.Custom = true
		s.Parent = stackURN
	}
	if r.typ != "pulumi:pulumi:Stack" && r.typ != "pulumi:providers:aws" {
		s.Provider = providerRef
	}
	return s
}

func step(op apitype.OpType, r resource) apitype.StepEventMetadata {
	m := apitype.StepEventMetadata{Op: op, URN: r.urn, Type: r.typ, New: state(r), Provider: state(r).Provider}
	if op != apitype.OpCreate {
		m.Old = state(r)
	}
	return m
}

// policy is what one pack reports on one resource.
type policy struct {
	pack, version   string
	remediated      []string // remediation policies that changed the inputs
	remediatePassed []string
	violations      map[string]string // policy → message
	severity, level string
	passed          []string
}

func (l *log) resource(r resource, op apitype.OpType, preview bool, packs []policy) {
	for _, p := range packs {
		for _, name := range p.remediated {
			after := map[string]any{"tags": map[string]any{"owner": "shop-team"}}
			for k, v := range r.inputs {
				after[k] = v
			}
			l.emit(apitype.EngineEvent{PolicyRemediationEvent: &apitype.PolicyRemediationEvent{
				ResourceURN: r.urn, Color: "raw", PolicyName: name, PolicyPackName: p.pack,
				PolicyPackVersion: p.version, PolicyPackVersionTag: p.version, Before: r.inputs, After: after,
			}})
			// The step carries the remediated inputs.
			r.inputs = after
		}
		l.emit(apitype.EngineEvent{PolicyRemediateSummaryEvent: &apitype.PolicyRemediateSummaryEvent{
			ResourceURN: r.urn, PolicyPackName: p.pack, PolicyPackVersion: p.version, PolicyPackVersionTag: p.version,
			Passed: p.remediatePassed, Failed: p.remediated,
		}})
	}
	for _, p := range packs {
		var failed []string
		for name, msg := range p.violations {
			failed = append(failed, name)
			l.emit(apitype.EngineEvent{PolicyEvent: &apitype.PolicyEvent{
				ResourceURN: r.urn, Message: "<{%reset%}>" + msg + "<{%reset%}>\n", Color: "raw", PolicyName: name,
				PolicyPackName: p.pack, PolicyPackVersion: p.version, PolicyPackVersionTag: p.version,
				EnforcementLevel: p.level, Severity: p.severity,
			}})
		}
		l.emit(apitype.EngineEvent{PolicyAnalyzeSummaryEvent: &apitype.PolicyAnalyzeSummaryEvent{
			ResourceURN: r.urn, PolicyPackName: p.pack, PolicyPackVersion: p.version, PolicyPackVersionTag: p.version,
			Passed: p.passed, Failed: failed,
		}})
	}
	l.emit(apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: step(op, r), Planning: preview}})
	l.emit(apitype.EngineEvent{ResOutputsEvent: &apitype.ResOutputsEvent{Metadata: step(op, r), Planning: preview}})
}

// run writes one `pulumi up` with the policy summary events of current
// CLIs. openSSH and publicAssets choose the violations; stackOwner the
// stack policy's.
func run(l *log, op apitype.OpType, publicAssets, openSSH, stackOwner bool) {
	l.emit(apitype.EngineEvent{PreludeEvent: &apitype.PreludeEvent{Config: map[string]string{"aws:region": "eu-west-1"}}})
	l.emit(apitype.EngineEvent{PolicyLoadEvent: &apitype.PolicyLoadEvent{}})
	l.emit(apitype.EngineEvent{PolicyLoadEvent: &apitype.PolicyLoadEvent{}})
	legacy := policy{}
	for _, r := range resources {
		sec := policy{pack: "security", level: "advisory"}
		ops := op
		if r.typ == "pulumi:pulumi:Stack" || r.typ == "pulumi:providers:aws" {
			// Neither is of a type the packs' policies apply to.
			ops = apitype.OpSame
			l.resource(r, ops, false, []policy{sec, legacy})
			continue
		}
		switch r.typ {
		case "aws:s3/bucket:Bucket":
			sec.remediated = []string{"require-tags"}
			sec.remediatePassed = []string{"s3-no-public-read"}
			sec.passed = []string{"require-tags"}
			if r.urn == assetsURN && publicAssets {
				sec.violations = map[string]string{"s3-no-public-read": "S3 buckets must not be publicly readable.\nBucket assets has acl public-read."}
				sec.severity = "high"
			} else {
				sec.passed = append(sec.passed, "s3-no-public-read")
			}
			lg := policy{passed: []string{"bucket-naming"}}
			if r.urn == logsURN {
				// The legacy analyzer names no pack, in its violations too.
				lg = policy{violations: map[string]string{"bucket-naming": "Bucket names should start with the project name."}, level: "advisory"}
			}
			l.resource(r, ops, false, []policy{sec, lg})
		default:
			sec.remediatePassed = []string{"require-tags", "sg-no-open-ssh"}
			sec.passed = []string{"require-tags"}
			if openSSH {
				sec.violations = map[string]string{"sg-no-open-ssh": "Security groups must not open SSH to the internet.\nSecurity group web allows 0.0.0.0/0 on port 22."}
				sec.severity = "medium"
			} else {
				sec.passed = append(sec.passed, "sg-no-open-ssh")
			}
			l.resource(r, ops, false, []policy{sec, legacy})
		}
	}
	sum := &apitype.PolicyAnalyzeStackSummaryEvent{PolicyPackName: "security", Passed: []string{"stack-has-owner"}}
	if stackOwner {
		l.emit(apitype.EngineEvent{PolicyEvent: &apitype.PolicyEvent{
			Message: "<{%reset%}>Stacks should declare an owner.<{%reset%}>\n", Color: "raw", PolicyName: "stack-has-owner",
			PolicyPackName: "security", EnforcementLevel: "advisory",
		}})
		sum.Passed, sum.Failed = nil, []string{"stack-has-owner"}
	}
	l.emit(apitype.EngineEvent{PolicyAnalyzeStackSummaryEvent: sum})
	l.emit(apitype.EngineEvent{PolicyAnalyzeStackSummaryEvent: &apitype.PolicyAnalyzeStackSummaryEvent{}})
	changes := map[apitype.OpType]int{apitype.OpSame: 2, op: 3}
	l.emit(apitype.EngineEvent{SummaryEvent: &apitype.SummaryEvent{
		DurationSeconds: 9, ResourceChanges: changes, Result: apitype.OperationResultSucceeded,
		PolicyPacks: map[string]string{securityKey: "", legacyKey: ""},
	}})
	l.emit(apitype.EngineEvent{CancelEvent: &apitype.CancelEvent{}})
}

// olderSummary is apitype.SummaryEvent before its result field.
type olderSummary struct {
	MaybeCorrupt    bool                   `json:"maybeCorrupt"`
	DurationSeconds int                    `json:"durationSeconds"`
	ResourceChanges map[apitype.OpType]int `json:"resourceChanges"`
	PolicyPacks     map[string]string      `json:"PolicyPacks"`
	IsPreview       bool                   `json:"isPreview"`
}

// cleanOlderRun writes a clean `pulumi up` by a CLI from before policy
// summary events: no policy event at all, the packs only in the summary.
func cleanOlderRun(l *log) {
	l.emit(apitype.EngineEvent{PreludeEvent: &apitype.PreludeEvent{Config: map[string]string{"aws:region": "eu-west-1"}}})
	l.emit(apitype.EngineEvent{PolicyLoadEvent: &apitype.PolicyLoadEvent{}})
	l.emit(apitype.EngineEvent{PolicyLoadEvent: &apitype.PolicyLoadEvent{}})
	for _, r := range resources {
		l.emit(apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: step(apitype.OpSame, r)}})
		l.emit(apitype.EngineEvent{ResOutputsEvent: &apitype.ResOutputsEvent{Metadata: step(apitype.OpSame, r)}})
	}
	line := struct {
		Sequence     int           `json:"sequence"`
		Timestamp    int           `json:"timestamp"`
		SummaryEvent *olderSummary `json:"summaryEvent"`
	}{l.seq, l.time, &olderSummary{DurationSeconds: 6, ResourceChanges: map[apitype.OpType]int{apitype.OpSame: 5},
		PolicyPacks: map[string]string{securityKey: "", legacyKey: ""}}}
	l.seq++
	if err := l.enc.Encode(line); err != nil {
		panic(err)
	}
	l.emit(apitype.EngineEvent{CancelEvent: &apitype.CancelEvent{}})
}

func write(dir, name string, start int, f func(*log)) {
	out, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		panic(err)
	}
	defer out.Close()
	f(&log{enc: json.NewEncoder(out), time: start})
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . TESTDATA-DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	write(dir, "local-1-remediations.jsonl", 1764000000, func(l *log) { run(l, apitype.OpCreate, true, true, true) })
	write(dir, "local-2-clean-older-cli.jsonl", 1764086400, cleanOlderRun)
	write(dir, "local-3-reopens.jsonl", 1764172800, func(l *log) { run(l, apitype.OpUpdate, true, true, false) })
}
