package compliance

import (
	"slices"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

func TestDeltaChange(t *testing.T) {
	open := model.Issue{EntityRef: 7, PolicyPack: "aws", PolicyName: "no-public-buckets", Severity: "high",
		Status: policy.StatusOpen, Active: true}

	d := NewDelta()
	d.Change(&open, &open)
	if len(d.counts)+len(d.policies)+len(d.cells)+len(d.entities) != 0 {
		t.Fatalf("an unchanged issue changed the counts: %+v", d)
	}

	fixed := open
	fixed.Status, fixed.Active = policy.StatusFixed, false
	d.Change(&open, &fixed)
	if d.counts[CountKeyOf(&open)] != -1 || d.counts[CountKeyOf(&fixed)] != 1 {
		t.Errorf("cube after a fix: %v", d.counts)
	}
	if got := d.policies[policyCountKey{7, "aws", "no-public-buckets"}]; got != -1 {
		t.Errorf("active issues of the policy after a fix: %d, want -1", got)
	}
	if !d.entities[7] || !slices.Equal(d.CellPacks(), []string{"aws"}) {
		t.Errorf("a fix recounts entities %v and cells %v; want entity 7 and pack aws", d.entities, d.CellPacks())
	}

	severe := fixed
	severe.Severity = "critical"
	d = NewDelta()
	d.Change(&fixed, &severe)
	if len(d.cells) != 0 || len(d.entities) != 0 || len(d.policies) != 0 {
		t.Errorf("an inactive issue's change recounted cells %v, entities %v or policies %v", d.cells, d.entities, d.policies)
	}
}

func TestDeltaOutcome(t *testing.T) {
	group := int64(3)
	d := NewDelta()
	d.Outcome(&model.PolicyOutcome{PackName: "aws", PolicyName: "p", Governed: 4}, 1)
	d.Outcome(&model.PolicyOutcome{GroupID: &group, PackName: "aws", PolicyName: "p", EnforcementLevel: policy.LevelDisabled, Governed: 4}, 1)
	if len(d.outcomes) != 0 {
		t.Fatalf("outcomes without a group or of a disabled policy were counted: %v", d.outcomes)
	}
	o := model.PolicyOutcome{GroupID: &group, PackName: "aws", PolicyName: "p", Severity: "low", EnforcementLevel: policy.LevelMandatory, Governed: 4}
	d.Outcome(&o, 1)
	d.Outcome(&o, 1)
	d.Outcome(&o, -1)
	if got := d.outcomes[outcomeKey{3, "aws", "p", "low"}]; got != (outcomeDelta{outcomes: 1, governed: 4}) {
		t.Errorf("outcome row: %+v, want 1 outcome of 4 governed", got)
	}
}

func TestTakeCounts(t *testing.T) {
	d := NewDelta()
	if sql, args := d.TakeCounts(1, 1, ""); sql != "" || args != nil {
		t.Fatalf("an empty delta gave %q %v", sql, args)
	}
	is := model.Issue{PolicyPack: "aws", Status: policy.StatusOpen, Active: true}
	d.Add(&is, 1)
	sql, args := d.TakeCounts(1, 4, "WHERE EXISTS (SELECT 1 FROM updated)")
	if !strings.HasPrefix(sql, "INSERT INTO issue_counts (") || !strings.Contains(sql, "$4::bigint[]") ||
		!strings.Contains(sql, "WHERE EXISTS (SELECT 1 FROM updated) ON CONFLICT") || len(args) != len(CountKeyColumns)+5 {
		t.Errorf("TakeCounts: %q with %d arguments", sql, len(args))
	}
	if len(d.counts) != 0 {
		t.Errorf("TakeCounts left %v in the delta", d.counts)
	}
}
