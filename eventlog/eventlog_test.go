package eventlog_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/eventlog"
)

const (
	stackURN    = "urn:pulumi:prod::payments::pulumi:pulumi:Stack::payments-prod"
	receiptsURN = "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::receipts"
	bastionURN  = "urn:pulumi:prod::payments::aws:ec2/instance:Instance::bastion"
	tmpURN      = "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::tmp-exports"
	apiURN      = "urn:pulumi:prod::payments::payments:index:Api$kubernetes:apps/v1:Deployment::api"
)

func parseFile(t *testing.T, name string) *eventlog.Run {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := eventlog.Parse(f)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return run
}

type violationID struct{ pack, policy, urn string }

func violationSet(run *eventlog.Run) map[violationID]eventlog.Violation {
	out := map[violationID]eventlog.Violation{}
	for _, v := range run.Violations {
		out[violationID{v.PolicyPack, v.PolicyName, v.ResourceURN}] = v
	}
	return out
}

func resourceByURN(run *eventlog.Run, urn string) *eventlog.Resource {
	for i := range run.Resources {
		if run.Resources[i].URN == urn {
			return &run.Resources[i]
		}
	}
	return nil
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file       string
		packs      []eventlog.Pack
		violations []violationID
		absent     []string // URNs not in the inventory
		preview    bool
		result     string
	}{
		{
			file: "run1-preview.jsonl",
			packs: []eventlog.Pack{
				{Name: "aws-cis-compliance", VersionTag: "1.2.0"},
				{Name: "cost-tagging", VersionTag: "2.0.0"},
				{Name: "kubernetes-best-practices", VersionTag: "0.4.1"},
			},
			violations: []violationID{
				{"aws-cis-compliance", "s3-bucket-encryption", receiptsURN},
				{"aws-cis-compliance", "s3-bucket-versioning", "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::logs"},
				{"aws-cis-compliance", "iam-no-wildcard-actions", "urn:pulumi:prod::payments::aws:iam/policy:Policy::deployer"},
				{"aws-cis-compliance", "ec2-imdsv2-required", bastionURN},
				{"cost-tagging", "required-tags", bastionURN},
				{"aws-cis-compliance", "s3-bucket-encryption", tmpURN},
				{"kubernetes-best-practices", "pod-resource-limits", apiURN},
				{"kubernetes-best-practices", "no-latest-image-tag", apiURN},
				{"cost-tagging", "stack-owner-tag", stackURN},
			},
			preview: true,
			result:  "failed",
		},
		{
			file: "run2-fixes.jsonl",
			packs: []eventlog.Pack{
				{Name: "aws-cis-compliance", VersionTag: "1.2.0"},
				{Name: "cost-tagging", VersionTag: "2.0.0"},
				{Name: "kubernetes-best-practices", VersionTag: "0.4.1"},
			},
			violations: []violationID{
				{"aws-cis-compliance", "s3-bucket-versioning", "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::logs"},
				{"aws-cis-compliance", "ec2-imdsv2-required", bastionURN},
				{"cost-tagging", "required-tags", bastionURN},
				{"kubernetes-best-practices", "pod-resource-limits", apiURN},
			},
			absent: []string{tmpURN},
			result: "succeeded",
		},
		{
			file: "run3-reopens.jsonl",
			packs: []eventlog.Pack{
				{Name: "aws-cis-compliance", VersionTag: "1.3.0"},
				{Name: "cost-tagging", VersionTag: "2.0.0"},
				{Name: "kubernetes-best-practices", VersionTag: "0.4.1"},
			},
			violations: []violationID{
				{"aws-cis-compliance", "s3-bucket-encryption", receiptsURN},
				{"aws-cis-compliance", "ec2-imdsv2-required", bastionURN},
				{"cost-tagging", "required-tags", bastionURN},
				{"kubernetes-best-practices", "pod-resource-limits", apiURN},
				{"kubernetes-best-practices", "no-latest-image-tag", apiURN},
				{"kubernetes-best-practices", "no-privileged-containers", apiURN},
			},
			absent: []string{tmpURN},
			result: "failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			run := parseFile(t, tt.file)
			if !reflect.DeepEqual(run.Packs, tt.packs) {
				t.Errorf("packs = %+v, want %+v", run.Packs, tt.packs)
			}
			got := violationSet(run)
			if len(run.Violations) != len(tt.violations) {
				t.Errorf("%d violations, want %d: %+v", len(run.Violations), len(tt.violations), run.Violations)
			}
			for _, id := range tt.violations {
				if _, ok := got[id]; !ok {
					t.Errorf("missing violation %+v", id)
				}
			}
			if run.StackURN != stackURN {
				t.Errorf("StackURN = %q", run.StackURN)
			}
			if run.Preview != tt.preview || run.Result != tt.result {
				t.Errorf("preview/result = %v/%q", run.Preview, run.Result)
			}
			for _, urn := range tt.absent {
				if resourceByURN(run, urn) != nil {
					t.Errorf("deleted resource %s is in the inventory", urn)
				}
			}
			for _, v := range run.Violations {
				if strings.Contains(v.Message, "<{%") || strings.HasSuffix(v.Message, "\n") {
					t.Errorf("message not cleaned: %q", v.Message)
				}
			}
		})
	}
}

func TestParseDetails(t *testing.T) {
	run := parseFile(t, "run1-preview.jsonl")
	v := violationSet(run)
	enc := v[violationID{"aws-cis-compliance", "s3-bucket-encryption", receiptsURN}]
	want := eventlog.Violation{
		PolicyPack: "aws-cis-compliance", PolicyPackTag: "1.2.0", PolicyName: "s3-bucket-encryption", ResourceURN: receiptsURN,
		Message:          "S3 buckets must have server-side encryption enabled.\nBucket receipts has no server_side_encryption_configuration.",
		EnforcementLevel: "mandatory", Severity: "high",
	}
	if enc != want {
		t.Errorf("violation = %+v\nwant %+v", enc, want)
	}
	if tags := v[violationID{"cost-tagging", "required-tags", bastionURN}]; tags.Severity != "" || tags.EnforcementLevel != "advisory" {
		t.Errorf("severity absent must stay unset: %+v", tags)
	}
	stack := v[violationID{"cost-tagging", "stack-owner-tag", stackURN}]
	if stack.Message != "Stacks should declare an owner.\nStack payments-prod has no pulumi:owner tag." {
		t.Errorf("stack-level message = %q", stack.Message)
	}

	api := resourceByURN(run, apiURN)
	if api == nil || api.Type != "kubernetes:apps/v1:Deployment" || api.Provider != "kubernetes" {
		t.Fatalf("api resource = %+v", api)
	}
	wantPacks := []eventlog.PackOutcome{
		{Name: "aws-cis-compliance", Passed: []string{"ec2-imdsv2-required", "iam-no-wildcard-actions", "s3-bucket-encryption", "s3-bucket-versioning"}, Failed: []string{}},
		{Name: "kubernetes-best-practices", Passed: []string{"no-privileged-containers"}, Failed: []string{"no-latest-image-tag", "pod-resource-limits"}},
		{Name: "cost-tagging", Passed: []string{"required-tags"}, Failed: []string{}},
	}
	if !reflect.DeepEqual(api.Packs, wantPacks) {
		t.Errorf("api outcomes = %+v\nwant %+v", api.Packs, wantPacks)
	}
	bastion := resourceByURN(run, bastionURN)
	if bastion == nil || bastion.Provider != "aws" || bastion.Type != "aws:ec2/instance:Instance" {
		t.Errorf("bastion = %+v", bastion)
	}
	root := resourceByURN(run, stackURN)
	if root == nil || root.Type != "pulumi:pulumi:Stack" || root.Provider != "pulumi" {
		t.Fatalf("stack resource = %+v", root)
	}
	var cost *eventlog.PackOutcome
	for i := range root.Packs {
		if root.Packs[i].Name == "cost-tagging" {
			cost = &root.Packs[i]
		}
	}
	if cost == nil || !reflect.DeepEqual(cost.Failed, []string{"stack-owner-tag"}) {
		t.Errorf("stack-level outcomes = %+v", root.Packs)
	}
	// Providers and components are in the inventory without outcomes.
	if p := resourceByURN(run, "urn:pulumi:prod::payments::pulumi:providers:aws::default_6_56_0"); p == nil || len(p.Packs) != 0 {
		t.Errorf("provider resource = %+v", p)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, log, want string
	}{
		{"malformed JSON", `{"sequence":0,"timestamp":1,"cancelEvent":{}}` + "\n" + `{"sequence":1,"timestamp":1,"policyEvent":{` + "\n", "line 2:"},
		{"not an event", `{"sequence":0,"timestamp":1}` + "\n\n" + `[1,2]` + "\n", "line 3:"},
		{"no sequence", `{"policyEvent":{"policyName":"a","policyPackName":"b"}}`, "line 1:"},
		{"two values", `{"sequence":0,"timestamp":1} {"sequence":1,"timestamp":1}`, "line 1:"},
		{"known field of another type", `{"sequence":0,"timestamp":1,"policyAnalyzeSummaryEvent":{"resourceUrn":"u","policyPackName":"p","passed":"a"}}`, "line 1:"},
		{"not JSON after valid lines", `{"sequence":0,"timestamp":1,"policyEvent":{"policyName":"a","policyPackName":"p","message":"m"}}` + "\n" +
			`{"sequence":1,"timestamp":1,"summaryEvent":{"PolicyPacks":{"p":"1.0.0"}}}` + "\n" + "pulumi:up failed\n", "line 3: not a JSON engine event"},
		{"summary without urn", `{"sequence":0,"timestamp":1,"policyAnalyzeSummaryEvent":{"policyPackName":"p","passed":["a"]}}`, "line 1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, err := eventlog.Parse(strings.NewReader(tt.log))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if run != nil {
				t.Errorf("a refused log gave a run: %+v", run)
			}
		})
	}
}

func TestParseSkipsOtherEvents(t *testing.T) {
	log := strings.Join([]string{
		`{"sequence":0,"timestamp":1,"preludeEvent":{"config":{}}}`,
		`{"sequence":1,"timestamp":1,"diagnosticEvent":{"message":"x","color":"raw","severity":"info"}}`,
		`{"sequence":2,"timestamp":1,"progressEvent":{"type":"plugin-download","id":"a","message":"m","received":1,"total":2,"done":false}}`,
		`{"sequence":3,"timestamp":1,"someFutureEvent":{"x":1}}`,
		`{"sequence":4,"timestamp":1,"policyEvent":{"resourceUrn":"urn:pulumi:dev::p::aws:s3/bucket:Bucket::b","message":"m\n","color":"raw","policyName":"x","policyPackName":"pk","policyPackVersion":"3","policyPackVersionTag":"","enforcementLevel":"warning"}}`,
		`{"sequence":5,"timestamp":1,"summaryEvent":{"PolicyPacks":{"pk":"3","other":"v1.0.0"}}}`,
	}, "\r\n")
	run, err := eventlog.Parse(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	want := []eventlog.Pack{{Name: "other", VersionTag: "1.0.0"}, {Name: "pk", VersionTag: "3"}}
	if !reflect.DeepEqual(run.Packs, want) {
		t.Errorf("packs = %+v", run.Packs)
	}
	if len(run.Violations) != 1 || run.Violations[0].EnforcementLevel != "advisory" || run.Violations[0].Message != "m" {
		t.Errorf("violations = %+v", run.Violations)
	}
	// No resourcePreEvent: type and provider come from the URN.
	if len(run.Resources) != 1 || run.Resources[0].Type != "aws:s3/bucket:Bucket" || run.Resources[0].Provider != "aws" {
		t.Errorf("resources = %+v", run.Resources)
	}
}

func TestStripColor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"<{%reset%}>S3 buckets must be encrypted.<{%reset%}>\n", "S3 buckets must be encrypted."},
		{"<{%fg 1%}>error<{%reset%}>: <{%bold%}>bad<{%reset%}>\r\n\n", "error: bad"},
		{"line one\nline two\n", "line one\nline two"},
		{"100% <{%fg 13%}>sure", "100% sure"},
	}
	for _, tt := range tests {
		if got := eventlog.StripColor(tt.in); got != tt.want {
			t.Errorf("StripColor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
