package ingest

import (
	"reflect"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

var payments = &model.Entity{ID: 5, Type: model.EntityStack, Project: "payments", Name: "prod"}

// opened is the issues a first evaluation of the failing buckets opens.
func opened(t *testing.T, failing map[string][]string, buckets ...string) []model.Issue {
	t.Helper()
	d := mustPlan(t, stackEval(1, buckets, failing)).Diff(1, payments, nil, nil)
	return d.Inserts
}

// byPolicy finds the issue of policy on a bucket.
func byPolicy(t *testing.T, issues []model.Issue, policyName, bucket string) *model.Issue {
	t.Helper()
	for i := range issues {
		if issues[i].PolicyName == policyName && issues[i].ResourceURN == bucketURN(bucket) {
			return &issues[i]
		}
	}
	t.Fatalf("no issue of %s on %s in %d", policyName, bucket, len(issues))
	return nil
}

// history lists the history rows of an issue as field: old → new.
func history(d *Diff, id string) []string {
	var out []string
	for _, h := range d.History {
		if h.IssueID != id {
			continue
		}
		old, new := "nil", "nil"
		if h.OldValue != nil {
			old = *h.OldValue
		}
		if h.NewValue != nil {
			new = *h.NewValue
		}
		out = append(out, h.Field+": "+old+" → "+new)
	}
	return out
}

func TestDiffOpensNewViolations(t *testing.T) {
	ev := stackEval(1, []string{"a", "b"}, map[string][]string{"a": {"s3-encryption"}, "b": {"s3-versioning"}})
	ev.Violations[1].Severity = strPtr("critical")
	d := mustPlan(t, ev).Diff(1, payments, nil, nil)
	if d.Opened != 2 || len(d.Inserts) != 2 || len(d.Updates) != 0 || d.Fixed+d.Reopened+d.Unchanged != 0 {
		t.Fatalf("diff = %+v", d)
	}
	a := byPolicy(t, d.Inserts, "s3-encryption", "a")
	v := int64(1)
	want := model.Issue{
		ID: a.ID, OrgID: 1, EntityRef: 5, EntityType: "stack", EntityProject: "payments", EntityID: "prod",
		StackVersion: &v, PolicyPack: "aws-cis", PolicyPackTag: "1.0.0", PolicyName: "s3-encryption",
		ResourceURN: bucketURN("a"), ResourceProvider: "aws", ResourceType: "aws:s3/bucket:Bucket", ResourceName: "a",
		Message: "Buckets must be encrypted.", ObservedAt: at(1), LastModified: at(1), Level: "mandatory",
		Severity: "high", SeverityRank: policy.SeverityRank("high"), Status: policy.StatusOpen,
		StatusRank: policy.StatusRank(policy.StatusOpen), Active: true, Kind: model.ModePreventative,
		Priority: policy.PriorityForSeverity("high"), Revision: 1,
	}
	if !reflect.DeepEqual(*a, want) {
		t.Errorf("opened\n %+v\nwant\n %+v", *a, want)
	}
	if b := byPolicy(t, d.Inserts, "s3-versioning", "b"); b.Severity != "critical" || b.Level != "advisory" || b.Priority != policy.PriorityForSeverity("critical") {
		t.Errorf("the violation's severity wins: %+v", b)
	}
	if got := history(d, a.ID); !reflect.DeepEqual(got, []string{"status: nil → open"}) {
		t.Errorf("history = %v", got)
	}
	if h := d.History[0]; h.Actor != HistoryActor || h.ActorType != HistoryActor || !h.At.Equal(at(1)) {
		t.Errorf("history row = %+v", h)
	}
}

func TestDiffAccountIssue(t *testing.T) {
	v := int64(42)
	ev := Evaluation{Account: &AccountRef{Name: "aws-prod", Provider: "aws", Version: 7}, ObservedAt: at(1), Complete: true,
		Packs:      []EvaluatedPack{{Name: "aws-cis"}},
		Resources:  []EvaluatedResource{{URN: bucketURN("a"), ID: "arn:a", Version: &v}},
		Violations: []Violation{{PolicyPack: "aws-cis", PolicyName: "p", ResourceURN: bucketURN("a")}, {PolicyPack: "aws-cis", PolicyName: "q"}}}
	account := &model.Entity{ID: 6, Type: model.EntityAccount, Project: "aws-prod"}
	d := mustPlan(t, ev).Diff(1, account, nil, nil)
	a := byPolicy(t, d.Inserts, "p", "a")
	if a.EntityType != "insights-account" || a.EntityID != "arn:a" || a.StackVersion != nil || *a.ResourceVersion != 42 || a.Kind != model.ModeAudit {
		t.Errorf("resource issue = %+v", a)
	}
	if acc := d.Inserts[1]; acc.ResourceURN != AccountURN("aws-prod") || acc.EntityID != "aws-prod" || *acc.ResourceVersion != 7 {
		t.Errorf("account-level issue = %+v", acc)
	}
}

func TestDiffReportedAgain(t *testing.T) {
	failing := map[string][]string{"a": {"s3-encryption"}}
	existing := opened(t, failing, "a")
	id := existing[0].ID

	t.Run("unchanged: only the versions move", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		d := mustPlan(t, stackEval(2, []string{"a"}, failing)).Diff(1, payments, issues, nil)
		if d.Unchanged != 1 || len(d.Updates) != 0 || len(d.History) != 0 {
			t.Fatalf("diff = %+v", d)
		}
		if want := map[Versions][]string{{Stack: 2, HasStack: true}: {id}}; !reflect.DeepEqual(d.Moved, want) {
			t.Errorf("moved = %v, want %v", d.Moved, want)
		}
	})
	t.Run("same version: nothing", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		d := mustPlan(t, stackEval(1, []string{"a"}, failing)).Diff(1, payments, issues, nil)
		if d.Unchanged != 1 || len(d.Updates)+len(d.Moved)+len(d.History) != 0 {
			t.Fatalf("diff = %+v", d)
		}
	})
	t.Run("a fixed issue reopens", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		issues[0].Status, issues[0].StatusRank, issues[0].Active = policy.StatusFixed, policy.StatusRank(policy.StatusFixed), false
		d := mustPlan(t, stackEval(3, []string{"a"}, failing)).Diff(1, payments, issues, nil)
		if d.Reopened != 1 || d.Unchanged != 0 || len(d.Updates) != 1 {
			t.Fatalf("diff = %+v", d)
		}
		up := d.Updates[0]
		if up.Status != policy.StatusOpen || !up.Active || up.StatusRank != policy.StatusRank(policy.StatusOpen) ||
			up.Revision != 2 || !up.LastModified.Equal(at(3)) || *up.StackVersion != 3 {
			t.Errorf("reopened = %+v", up)
		}
		if d.Befores[0].Status != policy.StatusFixed {
			t.Errorf("before = %+v", d.Befores[0])
		}
		if got := history(d, id); !reflect.DeepEqual(got, []string{"status: fixed → open"}) {
			t.Errorf("history = %v", got)
		}
	})
	t.Run("triage is kept", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		assignee := int64(9)
		iss := &issues[0]
		iss.Status, iss.StatusRank = policy.StatusInProgress, policy.StatusRank(policy.StatusInProgress)
		iss.Priority, iss.AssigneeID, iss.AssigneeLogin = "p0", &assignee, "alice"
		d := mustPlan(t, stackEval(2, []string{"a"}, failing)).Diff(1, payments, issues, nil)
		if d.Unchanged != 1 || len(d.Updates) != 0 {
			t.Fatalf("diff = %+v", d)
		}
		if iss.Status != policy.StatusInProgress || iss.Priority != "p0" || *iss.AssigneeID != 9 || iss.AssigneeLogin != "alice" {
			t.Errorf("triage lost: %+v", iss)
		}
	})
	t.Run("the evaluation's fields are recorded", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		issues[0].LastModified = at(9) // later than the evaluation: never backwards
		ev := stackEval(2, []string{"a"}, failing)
		ev.Packs[0].VersionTag = "1.1.0"
		ev.Violations[0].Message = "now public"
		ev.Violations[0].EnforcementLevel = "advisory"
		ev.Violations[0].Severity = strPtr("")
		d := mustPlan(t, ev).Diff(1, payments, issues, nil)
		if d.Unchanged != 1 || len(d.Updates) != 1 {
			t.Fatalf("diff = %+v", d)
		}
		up := d.Updates[0]
		want := []string{"level: mandatory → advisory", "message: Buckets must be encrypted. → now public", "policyPackTag: 1.0.0 → 1.1.0"}
		if got := history(d, id); !reflect.DeepEqual(got, want) {
			t.Errorf("history = %v, want %v", got, want)
		}
		if up.Severity != "high" || up.Revision != 2 || !up.LastModified.Equal(at(9)) || !d.History[0].At.Equal(at(9)) {
			t.Errorf("updated = %+v (an empty severity keeps the issue's)", up)
		}
	})
}

func TestDiffFixes(t *testing.T) {
	failing := map[string][]string{"a": {"s3-encryption"}, "b": {"s3-versioning"}}
	existing := opened(t, failing, "a", "b")

	t.Run("not reported by its pack", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		d := mustPlan(t, stackEval(2, []string{"a", "b"}, map[string][]string{"b": {"s3-versioning"}})).Diff(1, payments, issues, nil)
		if d.Fixed != 1 || d.Unchanged != 1 || len(d.Updates) != 1 {
			t.Fatalf("diff = %+v", d)
		}
		up := d.Updates[0]
		if up.PolicyName != "s3-encryption" || up.Status != policy.StatusFixed || up.Active || up.Revision != 2 || *up.StackVersion != 2 {
			t.Errorf("fixed = %+v", up)
		}
		if got := history(d, up.ID); !reflect.DeepEqual(got, []string{"status: open → fixed"}) {
			t.Errorf("history = %v", got)
		}
	})
	t.Run("whatever its triage, and its risk acceptance ends", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		until := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		a := byPolicy(t, issues, "s3-encryption", "a")
		a.Status, a.AcceptedUntil, a.AcceptanceReason = policy.StatusIgnored, &until, "compensating control"
		d := mustPlan(t, stackEval(2, []string{"a", "b"}, map[string][]string{"b": {"s3-versioning"}})).Diff(1, payments, issues, nil)
		if d.Fixed != 1 || !reflect.DeepEqual(d.Unaccepted, []string{a.ID}) {
			t.Fatalf("diff = %+v", d)
		}
		up := d.Updates[0]
		if up.Status != policy.StatusFixed || up.AcceptedUntil != nil || up.AcceptanceReason != "" {
			t.Errorf("fixed = %+v", up)
		}
		want := []string{"status: ignored → fixed", "acceptedUntil: 2026-01-01T00:00:00Z → nil", "acceptanceReason: compensating control → nil"}
		if got := history(d, a.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("history = %v, want %v", got, want)
		}
	})
	t.Run("a pack that could not run changes nothing", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		ev := stackEval(2, []string{"a", "b", "c"}, map[string][]string{"c": {"s3-encryption"}})
		ev.Packs[0].Error = "crashed"
		d := mustPlan(t, ev).Diff(1, payments, issues, nil)
		if d.Opened+d.Fixed+d.Reopened+d.Unchanged != 0 || len(d.Inserts)+len(d.Updates)+len(d.Moved) != 0 {
			t.Fatalf("diff = %+v", d)
		}
	})
	t.Run("a resource gone from the complete inventory", func(t *testing.T) {
		other := append([]model.Issue(nil), existing...)
		for i := range other {
			other[i].PolicyPack = "other-pack"
		}
		// Only a is listed: b's issue of a pack not evaluated is fixed, a's stays.
		d := mustPlan(t, stackEval(2, []string{"a"}, nil)).Diff(1, payments, other, nil)
		if d.Fixed != 1 || d.Updates[0].ResourceURN != bucketURN("b") {
			t.Fatalf("diff = %+v", d)
		}
		// Unless its pack was since evaluated at a newer version.
		other = append([]model.Issue(nil), existing...)
		for i := range other {
			other[i].PolicyPack = "other-pack"
		}
		d = mustPlan(t, stackEval(2, []string{"a"}, nil)).Diff(1, payments, other, map[string]int64{"other-pack": 3})
		if d.Fixed != 0 || len(d.Updates) != 0 {
			t.Fatalf("diff = %+v", d)
		}
	})
	t.Run("pulumi form: only the packs evaluated", func(t *testing.T) {
		other := append([]model.Issue(nil), existing...)
		other[0].PolicyPack = "other-pack"
		ev := stackEval(2, nil, nil)
		ev.Complete = false
		d := mustPlan(t, ev).Diff(1, payments, other, nil)
		if d.Fixed != 1 || d.Updates[0].PolicyPack != "aws-cis" {
			t.Fatalf("diff = %+v", d)
		}
	})
	t.Run("fixed issues stay fixed", func(t *testing.T) {
		issues := append([]model.Issue(nil), existing...)
		for i := range issues {
			issues[i].Status = policy.StatusFixed
		}
		d := mustPlan(t, stackEval(2, []string{"a", "b"}, nil)).Diff(1, payments, issues, nil)
		if d.Fixed+d.Opened+d.Reopened+d.Unchanged != 0 || len(d.Updates)+len(d.Moved) != 0 {
			t.Fatalf("diff = %+v", d)
		}
	})
}
