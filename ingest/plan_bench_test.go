package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
)

// benchEval is a complete evaluation of a 1,000-resource stack at version,
// 400 of its resources failing one policy.
func benchEval(version int64) Evaluation {
	ev := Evaluation{Stack: &StackRef{Project: "payments", Name: "prod", Version: version},
		ObservedAt: time.Unix(1700000000+version, 0), Complete: true,
		Packs: []EvaluatedPack{{Name: "aws-cis", VersionTag: "1.0.0", Policies: []model.PolicyInput{{Name: "s3-encryption", Severity: "high"}, {Name: "s3-versioning"}}}}}
	for i := 0; i < 1000; i++ {
		urn := fmt.Sprintf("urn:pulumi:prod::payments::aws:s3/bucket:Bucket::bucket-%04d", i)
		out := ResourcePackOutcome{Name: "aws-cis", Passed: []string{"s3-versioning"}}
		if i%5 < 2 {
			out.Failed = []string{"s3-encryption"}
			ev.Violations = append(ev.Violations, Violation{PolicyPack: "aws-cis", PolicyName: "s3-encryption", ResourceURN: urn, Message: "fails on " + urn})
		} else {
			out.Passed = append(out.Passed, "s3-encryption")
		}
		ev.Resources = append(ev.Resources, EvaluatedResource{URN: urn, Packs: []ResourcePackOutcome{out}})
	}
	return ev
}

// BenchmarkPlanDiff plans a stack's second evaluation, diffs it with the
// 400 issues the first opened, and computes its outcomes: the work of an
// evaluation outside the database.
func BenchmarkPlanDiff(b *testing.B) {
	e := &model.Entity{ID: 1, Type: model.EntityStack, Project: "payments", Name: "prod"}
	first := benchEval(1)
	p, err := NewPlan(&first)
	if err != nil {
		b.Fatal(err)
	}
	_ = p.AttributeGroups(nil)
	existing := p.Diff(1, e, nil, nil).Inserts
	for b.Loop() {
		ev := benchEval(2)
		p, err := NewPlan(&ev)
		if err != nil {
			b.Fatal(err)
		}
		_ = p.AttributeGroups(nil)
		issues := append([]model.Issue(nil), existing...)
		if d := p.Diff(1, e, issues, nil); d.Unchanged != 400 {
			b.Fatal(d.Unchanged)
		}
		p.Outcomes(1, 1)
	}
}
