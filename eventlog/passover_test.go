package eventlog_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/eventlog"
)

// The local-*.jsonl fixtures are written by testdata/engine with Pulumi's
// apitype.EngineEvent, as the CLI's event logger writes them.
const (
	shopStackURN = "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"
	shopProvider = "urn:pulumi:dev::shop::pulumi:providers:aws::default_6_56_0"
	assetsURN    = "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::assets"
	logsURN      = "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::logs"
	webURN       = "urn:pulumi:dev::shop::aws:ec2/securityGroup:SecurityGroup::web"
)

// A current CLI's `pulumi up` with a local pack that declares no version and
// an analyzer that names no pack: the unnamed analyzer's summary events, its
// violation and its summaryEvent entry are passed over, the rest is read.
func TestParseUnnamedAnalyzerAndEmptyVersion(t *testing.T) {
	run := parseFile(t, "local-1-remediations.jsonl")
	if want := []eventlog.Pack{{Name: "security", VersionTag: ""}}; !reflect.DeepEqual(run.Packs, want) {
		t.Errorf("packs = %+v, want %+v", run.Packs, want)
	}
	// 5 resources × (remediate + analyze) and 1 stack summary of the
	// unnamed analyzer; its one violation; its "|local|PATH" entry.
	if want := (eventlog.PassedOver{SummaryEvents: 11, Violations: 1, Packs: 1}); run.PassedOver != want {
		t.Errorf("passed over %+v, want %+v", run.PassedOver, want)
	}
	wantViolations := []eventlog.Violation{
		{PolicyPack: "security", PolicyName: "s3-no-public-read", ResourceURN: assetsURN, EnforcementLevel: "advisory", Severity: "high",
			Message: "S3 buckets must not be publicly readable.\nBucket assets has acl public-read."},
		{PolicyPack: "security", PolicyName: "sg-no-open-ssh", ResourceURN: webURN, EnforcementLevel: "advisory", Severity: "medium",
			Message: "Security groups must not open SSH to the internet.\nSecurity group web allows 0.0.0.0/0 on port 22."},
		{PolicyPack: "security", PolicyName: "stack-has-owner", ResourceURN: shopStackURN, EnforcementLevel: "advisory",
			Message: "Stacks should declare an owner."},
	}
	if !reflect.DeepEqual(run.Violations, wantViolations) {
		t.Errorf("violations = %+v\nwant %+v", run.Violations, wantViolations)
	}
	if run.Result != "succeeded" || run.Preview || run.StackURN != shopStackURN {
		t.Errorf("result/preview/stack = %q/%v/%q", run.Result, run.Preview, run.StackURN)
	}
	urns := make([]string, len(run.Resources))
	for i, r := range run.Resources {
		urns[i] = r.URN
		for _, o := range r.Packs {
			if o.Name != "security" {
				t.Errorf("%s has outcomes of pack %q", r.URN, o.Name)
			}
		}
	}
	if want := []string{shopStackURN, shopProvider, assetsURN, logsURN, webURN}; !reflect.DeepEqual(urns, want) {
		t.Errorf("inventory = %v, want %v", urns, want)
	}
	// The stack's own outcome comes from the stack summary.
	root := resourceByURN(run, shopStackURN)
	if want := []eventlog.PackOutcome{{Name: "security", Passed: []string{}, Failed: []string{"stack-has-owner"}}}; !reflect.DeepEqual(root.Packs, want) {
		t.Errorf("stack outcomes = %+v, want %+v", root.Packs, want)
	}
}

// A remediation policy that fixed a resource is neither a violation nor a
// failed policy: the remediate summary lists it as failed, the analysis of
// the remediated inputs that follows as passed.
func TestParseRemediations(t *testing.T) {
	run := parseFile(t, "local-1-remediations.jsonl")
	want := []eventlog.Remediation{
		{PolicyPack: "security", PolicyName: "require-tags", ResourceURN: assetsURN},
		{PolicyPack: "security", PolicyName: "require-tags", ResourceURN: logsURN},
	}
	if !reflect.DeepEqual(run.Remediations, want) {
		t.Errorf("remediations = %+v, want %+v", run.Remediations, want)
	}
	for _, v := range run.Violations {
		if v.PolicyName == "require-tags" {
			t.Errorf("a remediation became a violation: %+v", v)
		}
	}
	assets := resourceByURN(run, assetsURN)
	wantOutcome := []eventlog.PackOutcome{{Name: "security", Passed: []string{"require-tags"}, Failed: []string{"s3-no-public-read"}}}
	if assets == nil || !reflect.DeepEqual(assets.Packs, wantOutcome) {
		t.Errorf("assets outcomes = %+v, want %+v", assets, wantOutcome)
	}
	logs := resourceByURN(run, logsURN)
	wantOutcome = []eventlog.PackOutcome{{Name: "security", Passed: []string{"require-tags", "s3-no-public-read"}, Failed: []string{}}}
	if logs == nil || !reflect.DeepEqual(logs.Packs, wantOutcome) {
		t.Errorf("logs outcomes = %+v, want %+v", logs, wantOutcome)
	}
}

// A clean run of a CLI from before policy summary events names its packs
// only in the summaryEvent.
func TestParsePackOnlyInSummary(t *testing.T) {
	run := parseFile(t, "local-2-clean-older-cli.jsonl")
	if want := []eventlog.Pack{{Name: "security"}}; !reflect.DeepEqual(run.Packs, want) {
		t.Errorf("packs = %+v, want %+v", run.Packs, want)
	}
	if len(run.Violations) != 0 || len(run.Remediations) != 0 || run.Result != "" {
		t.Errorf("violations %+v, remediations %+v, result %q", run.Violations, run.Remediations, run.Result)
	}
	if want := (eventlog.PassedOver{Packs: 1}); run.PassedOver != want {
		t.Errorf("passed over %+v, want %+v", run.PassedOver, want)
	}
	if len(run.Resources) != 5 {
		t.Errorf("inventory = %+v", run.Resources)
	}
}

func TestParseSummaryPackKeys(t *testing.T) {
	tests := []struct {
		name       string
		packs      string // summaryEvent.PolicyPacks
		want       []eventlog.Pack
		passedOver int
	}{
		{"required pack, newer CLI", `{"aws-guard":"v1.4.0"}`, []eventlog.Pack{{"aws-guard", "1.4.0"}}, 0},
		{"required pack, older CLI", `{"aws-guard":"3"}`, []eventlog.Pack{{"aws-guard", "3"}}, 0},
		{"local pack", `{"security|local|~/src/policies/security":"2.0.0"}`, []eventlog.Pack{{"security", "2.0.0"}}, 0},
		{"local pack without a version", `{"security|local|~/src/policies/security":""}`, []eventlog.Pack{{"security", ""}}, 0},
		{"local path with a bar", `{"security|local|/tmp/a|b":"1.0.0"}`, []eventlog.Pack{{"security", "1.0.0"}}, 0},
		{"local pack without a name", `{"|local|~/src/policies/legacy":""}`, []eventlog.Pack{}, 1},
		{"oldest CLIs' local pack", `{"./policies":"(local)"}`, []eventlog.Pack{}, 1},
		{"one name at two paths", `{"sec|local|/b":"2.0.0","sec|local|/a":"1.0.0"}`, []eventlog.Pack{{"sec", "1.0.0"}}, 0},
		{"one name at two paths, the first without a version", `{"sec|local|/a":"","sec|local|/b":"2.0.0"}`, []eventlog.Pack{{"sec", "2.0.0"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, err := eventlog.Parse(strings.NewReader(`{"sequence":0,"timestamp":1,"summaryEvent":{"PolicyPacks":` + tt.packs + `,"isPreview":false}}`))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(run.Packs, tt.want) || run.PassedOver.Packs != tt.passedOver {
				t.Errorf("packs = %+v, passed over %d; want %+v, %d", run.Packs, run.PassedOver.Packs, tt.want, tt.passedOver)
			}
		})
	}
}

// Events, payloads and fields newer CLIs add are ignored; values the API
// does not know (an enforcement level, a severity) are left unset.
func TestParseIgnoresUnknownEventsAndFields(t *testing.T) {
	run := parseFile(t, "unknown-events.jsonl")
	want := &eventlog.Run{
		Packs: []eventlog.Pack{{Name: "security", VersionTag: "2.1.0"}},
		Resources: []eventlog.Resource{{URN: assetsURN, Type: "aws:s3/bucket:Bucket", Provider: "aws",
			Packs: []eventlog.PackOutcome{{Name: "security", Passed: []string{"require-tags"}, Failed: []string{"s3-no-public-read"}}}}},
		Violations: []eventlog.Violation{{PolicyPack: "security", PolicyPackTag: "2.1.0", PolicyName: "s3-no-public-read",
			ResourceURN: assetsURN, Message: "S3 buckets must not be publicly readable."}},
		Remediations: []eventlog.Remediation{},
		Preview:      true,
		Result:       "succeeded",
	}
	if !reflect.DeepEqual(run, want) {
		t.Errorf("run = %+v\nwant %+v", run, want)
	}
}

func TestParsePassesOverPolicyEventsWithoutNames(t *testing.T) {
	log := strings.Join([]string{
		`{"sequence":0,"timestamp":1,"policyEvent":{"resourceUrn":"urn:pulumi:dev::p::aws:s3/bucket:Bucket::b","message":"m","color":"raw","policyName":"x","policyPackName":"","policyPackVersion":"","policyPackVersionTag":"","enforcementLevel":"advisory"}}`,
		`{"sequence":1,"timestamp":1,"policyEvent":{"message":"m","color":"raw","policyName":"","policyPackName":"pk","policyPackVersion":"1.0.0","policyPackVersionTag":"1.0.0","enforcementLevel":"mandatory"}}`,
		`{"sequence":2,"timestamp":1,"policyAnalyzeStackSummaryEvent":{"policyPackName":"","policyPackVersion":"","policyPackVersionTag":"","failed":["x"]}}`,
		`{"sequence":3,"timestamp":1,"policyRemediationEvent":{"resourceUrn":"urn:pulumi:dev::p::aws:s3/bucket:Bucket::b","color":"raw","policyName":"fix","policyPackName":"","policyPackVersion":"","policyPackVersionTag":""}}`,
		`{"sequence":4,"timestamp":1,"summaryEvent":{"maybeCorrupt":false,"durationSeconds":1,"resourceChanges":{},"PolicyPacks":{"pk":""},"isPreview":false,"result":"failed"}}`,
	}, "\n")
	run, err := eventlog.Parse(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if want := (eventlog.PassedOver{SummaryEvents: 1, Violations: 2}); run.PassedOver != want {
		t.Errorf("passed over %+v, want %+v", run.PassedOver, want)
	}
	if len(run.Violations) != 0 || !reflect.DeepEqual(run.Packs, []eventlog.Pack{{Name: "pk"}}) {
		t.Errorf("violations %+v, packs %+v", run.Violations, run.Packs)
	}
	// A remediation that names no pack is still reported.
	if want := []eventlog.Remediation{{PolicyName: "fix", ResourceURN: "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b"}}; !reflect.DeepEqual(run.Remediations, want) {
		t.Errorf("remediations = %+v", run.Remediations)
	}
}
