package repository_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/policyresults/policyresults/eventlog"
	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
)

// runEvaluation maps a parsed event log to a complete evaluation of
// payments/prod, as the import command does through the HTTP API.
func runEvaluation(t *testing.T, file string, version int64) ingest.Evaluation {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "eventlog", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := eventlog.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	ev := ingest.Evaluation{
		Stack:      &ingest.StackRef{Project: "payments", Name: "prod", Version: version},
		ObservedAt: at(version),
		Complete:   true,
	}
	for _, p := range run.Packs {
		ev.Packs = append(ev.Packs, ingest.EvaluatedPack{Name: p.Name, VersionTag: p.VersionTag})
	}
	for _, r := range run.Resources {
		res := ingest.EvaluatedResource{URN: r.URN, Type: r.Type, Provider: r.Provider}
		for _, o := range r.Packs {
			res.Packs = append(res.Packs, ingest.ResourcePackOutcome{Name: o.Name, Passed: o.Passed, Failed: o.Failed})
		}
		ev.Resources = append(ev.Resources, res)
	}
	for _, v := range run.Violations {
		var sev *string
		if v.Severity != "" {
			sev = strPtr(v.Severity)
		}
		ev.Violations = append(ev.Violations, ingest.Violation{PolicyPack: v.PolicyPack, PolicyName: v.PolicyName,
			ResourceURN: v.ResourceURN, Message: v.Message, EnforcementLevel: v.EnforcementLevel, Severity: sev})
	}
	return ev
}

func TestIngestEventLogFixtures(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)

		// Run 1 opens: 8 resource violations and one stack-level.
		checkSummary(t, e.apply(runEvaluation(t, "run1-preview.jsonl", 1)),
			repository.EvaluationSummary{Opened: 9, ResourcesGoverned: 7})
		issues := e.issues()
		first := issues["ec2-imdsv2-required@bastion"]
		if first.Severity != "low" || first.Priority != "p3" || first.PolicyPackTag != "1.2.0" || first.Level != "advisory" {
			t.Errorf("imdsv2 issue = %+v", first)
		}
		if api := issues["pod-resource-limits@api"]; api.ResourceType != "kubernetes:apps/v1:Deployment" || api.ResourceProvider != "kubernetes" {
			t.Errorf("api issue = %+v", api)
		}
		if tags := issues["required-tags@bastion"]; tags.Severity != "" || tags.Priority != "p4" {
			t.Errorf("unset severity: %+v", tags)
		}
		if stack := issues["stack-owner-tag@payments-prod"]; stack.ResourceURN != ingest.StackURN("payments", "prod") ||
			stack.Message != "Stacks should declare an owner.\nStack payments-prod has no pulumi:owner tag." {
			t.Errorf("stack-level issue = %+v", stack)
		}
		o := e.outcomes()
		if got := o["/aws-cis-compliance/s3-bucket-encryption"]; got.Governed != 6 || got.Severity != "high" || got.EnforcementLevel != "mandatory" {
			t.Errorf("s3-bucket-encryption outcome = %+v", got)
		}
		if got := o["/cost-tagging/stack-owner-tag"]; got.Governed != 1 {
			t.Errorf("stack-owner-tag outcome = %+v", got)
		}

		// Run 2 fixes five, one of them because tmp-exports was deleted.
		checkSummary(t, e.apply(runEvaluation(t, "run2-fixes.jsonl", 2)),
			repository.EvaluationSummary{Fixed: 5, Unchanged: 4, ResourcesGoverned: 6})
		issues = e.issues()
		for _, k := range []string{"s3-bucket-encryption@receipts", "s3-bucket-encryption@tmp-exports", "iam-no-wildcard-actions@deployer",
			"no-latest-image-tag@api", "stack-owner-tag@payments-prod"} {
			if issues[k].Status != "fixed" {
				t.Errorf("after run 2: %s", statuses(issues))
				break
			}
		}
		if r := e.resources(); r["tmp-exports"].Governed {
			t.Error("deleted resource still governed")
		}

		// Run 3 reopens two, opens one, fixes one; the AWS pack moved to
		// 1.3.0 on the issue that stayed open.
		checkSummary(t, e.apply(runEvaluation(t, "run3-reopens.jsonl", 3)),
			repository.EvaluationSummary{Opened: 1, Reopened: 2, Fixed: 1, Unchanged: 3, ResourcesGoverned: 6})
		issues = e.issues()
		want := map[string]string{
			"s3-bucket-encryption@receipts": "open", "no-latest-image-tag@api": "open", "no-privileged-containers@api": "open",
			"s3-bucket-versioning@logs": "fixed", "ec2-imdsv2-required@bastion": "open", "pod-resource-limits@api": "open",
			"required-tags@bastion": "open", "s3-bucket-encryption@tmp-exports": "fixed", "iam-no-wildcard-actions@deployer": "fixed",
			"stack-owner-tag@payments-prod": "fixed",
		}
		for k, status := range want {
			if issues[k].Status != status {
				t.Errorf("after run 3: %s", statuses(issues))
				break
			}
		}
		if len(issues) != len(want) {
			t.Errorf("issues = %s", statuses(issues))
		}
		imds := issues["ec2-imdsv2-required@bastion"]
		if imds.ID != first.ID || imds.PolicyPackTag != "1.3.0" || *imds.StackVersion != 3 {
			t.Errorf("imdsv2 issue after the pack update = %+v", imds)
		}
		checkHistory(t, e.history(issues["s3-bucket-encryption@receipts"].ID), []historyRow{
			{"status", "", "open"}, {"status", "open", "fixed"}, {"status", "fixed", "open"}, {"policyPackTag", "1.2.0", "1.3.0"},
		})
	})
}

// A complete evaluation that lists a pack and reports none of its violations
// fixes the pack's open issues on the stack, here a clean run whose log
// names the pack only in its summary; a later run reporting them reopens
// them. The pack has no version: its issues carry no tag.
func TestIngestEventLogPackOnlyInSummary(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		checkSummary(t, e.apply(runEvaluation(t, "local-1-remediations.jsonl", 1)),
			repository.EvaluationSummary{Opened: 3, ResourcesGoverned: 4})
		checkSummary(t, e.apply(runEvaluation(t, "local-2-clean-older-cli.jsonl", 2)),
			repository.EvaluationSummary{Fixed: 3})
		checkSummary(t, e.apply(runEvaluation(t, "local-3-reopens.jsonl", 3)),
			repository.EvaluationSummary{Reopened: 2, ResourcesGoverned: 4})
		want := map[string]string{"s3-no-public-read@assets": "open", "sg-no-open-ssh@web": "open", "stack-has-owner@shop-dev": "fixed"}
		issues := e.issues()
		for k, status := range want {
			if issues[k].Status != status || issues[k].PolicyPackTag != "" {
				t.Errorf("issues = %s; %s: %+v", statuses(issues), k, issues[k])
			}
		}
		if len(issues) != len(want) {
			t.Errorf("issues = %s", statuses(issues))
		}
	})
}
