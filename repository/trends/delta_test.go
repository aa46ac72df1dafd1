package trends

import (
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

var observed = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func testIssue() *model.Issue {
	return &model.Issue{ID: "i1", Status: policy.StatusOpen, Severity: "high", PolicyPack: "aws", EntityType: "stack",
		Kind: "audit", PolicyGroupName: "default", ObservedAt: observed, LastModified: observed}
}

// changed is is after a change at at made by edit.
func changed(is *model.Issue, at time.Time, edit func(*model.Issue)) *model.Issue {
	after := *is
	after.LastModified = at
	edit(&after)
	return &after
}

// wantRows checks that d holds, in every dimension of is, the counts want
// on day, and nothing else but rows of zero.
func wantRows(t *testing.T, d Delta, is *model.Issue, day string, want counts) {
	t.Helper()
	s := stateOf(is)
	for i, dim := range dimensions {
		if got := d[key{dim, s.values[i], day}]; got != want {
			t.Errorf("%s=%q on %s: got %+v, want %+v", dim, s.values[i], day, got, want)
		}
	}
}

func TestChangeOpened(t *testing.T) {
	d := Delta{}
	is := testIssue()
	d.Change(nil, is)
	wantRows(t, d, is, "2026-03-01", counts{opened: 1, active: 1})
	if len(d) != len(dimensions) {
		t.Errorf("%d rows, want one per dimension: %v", len(d), d)
	}
}

func TestChangeFixedCountsFixTimeInTheGroupsBefore(t *testing.T) {
	d := Delta{}
	before := testIssue()
	after := changed(before, observed.Add(50*time.Hour+300*time.Millisecond), func(is *model.Issue) {
		is.Status, is.Severity = policy.StatusFixed, "low"
	})
	d.Change(before, after)
	wantRows(t, d, before, "2026-03-03", counts{fixed: 1, fixSeconds: 50 * 3600, active: -1})
	if c := d[key{BySeverity, "low", "2026-03-03"}]; c != (counts{}) {
		t.Errorf("the severity after a fix counts %+v, want nothing", c)
	}
}

func TestChangeReopened(t *testing.T) {
	d := Delta{}
	before := changed(testIssue(), observed, func(is *model.Issue) { is.Status = policy.StatusFixed })
	after := changed(before, observed.Add(24*time.Hour), func(is *model.Issue) {
		is.Status, is.Severity = policy.StatusOpen, "critical"
	})
	d.Change(before, after)
	if c := d[key{BySeverity, "high", "2026-03-02"}]; c != (counts{reopened: 1}) {
		t.Errorf("the severity while fixed: %+v, want one reopened", c)
	}
	if c := d[key{BySeverity, "critical", "2026-03-02"}]; c != (counts{active: 1}) {
		t.Errorf("the severity after: %+v, want one more active", c)
	}
	if c := d[key{"", "", "2026-03-02"}]; c != (counts{reopened: 1, active: 1}) {
		t.Errorf("totals: %+v, want one reopened and one more active", c)
	}
}

func TestChangeActiveIssueMovesGroup(t *testing.T) {
	d := Delta{}
	before := testIssue()
	after := changed(before, observed.Add(time.Hour), func(is *model.Issue) { is.PolicyGroupName = "payments" })
	d.Change(before, after)
	if c := d[key{ByPolicyGroupName, "default", "2026-03-01"}]; c != (counts{active: -1}) {
		t.Errorf("old group: %+v", c)
	}
	if c := d[key{ByPolicyGroupName, "payments", "2026-03-01"}]; c != (counts{active: 1}) {
		t.Errorf("new group: %+v", c)
	}
	if c := d[key{"", "", "2026-03-01"}]; c != (counts{}) {
		t.Errorf("totals: %+v, want no change", c)
	}
}

func TestChangeWithinActiveOrUnchangedCountsNothing(t *testing.T) {
	before := testIssue()
	for name, after := range map[string]*model.Issue{
		"unchanged":   changed(before, observed.Add(time.Hour), func(*model.Issue) {}),
		"in progress": changed(before, observed.Add(time.Hour), func(is *model.Issue) { is.Status = policy.StatusInProgress }),
		"message":     changed(before, observed.Add(time.Hour), func(is *model.Issue) { is.Message = "new text" }),
	} {
		d := Delta{}
		d.Change(before, after)
		for k, c := range d {
			if c != (counts{}) {
				t.Errorf("%s: %v counts %+v", name, k, c)
			}
		}
	}
}

func TestChangeIgnoredLeavesActiveWithoutFix(t *testing.T) {
	d := Delta{}
	before := testIssue()
	after := changed(before, observed.Add(time.Hour), func(is *model.Issue) { is.Status = policy.StatusIgnored })
	d.Change(before, after)
	wantRows(t, d, before, "2026-03-01", counts{active: -1})
}

// TestReplayMatchesChanges replays the history of an issue's life and
// compares it with the changes as the repository records them.
func TestReplayMatchesChanges(t *testing.T) {
	str := func(s string) *string { return &s }
	opened := testIssue()
	moved := changed(opened, observed.Add(26*time.Hour), func(is *model.Issue) { is.Severity, is.Kind = "medium", "preventative" })
	fixed := changed(moved, observed.Add(74*time.Hour), func(is *model.Issue) { is.Status = policy.StatusFixed })
	reopened := changed(fixed, observed.Add(98*time.Hour), func(is *model.Issue) {
		is.Status, is.Severity, is.PolicyGroupName = policy.StatusOpen, "critical", "payments"
	})
	accepted := changed(reopened, observed.Add(99*time.Hour), func(is *model.Issue) { is.Status = policy.StatusIgnored })

	live := Delta{}
	live.Change(nil, opened)
	live.Change(opened, moved)
	live.Change(moved, fixed)
	live.Change(fixed, reopened)
	live.Change(reopened, accepted)

	cur := entry{IssueID: "i1", Status: accepted.Status, Severity: accepted.Severity, PolicyPack: accepted.PolicyPack,
		EntityType: accepted.EntityType, Kind: accepted.Kind, PolicyGroupName: accepted.PolicyGroupName, ObservedAt: observed}
	at := func(e entry, when time.Time, field string, old, new *string) entry {
		e.At, e.Field, e.OldValue, e.NewValue = when, field, old, new
		return e
	}
	history := []entry{
		at(cur, opened.LastModified, "status", nil, str(policy.StatusOpen)),
		at(cur, moved.LastModified, "severity", str("high"), str("medium")),
		at(cur, moved.LastModified, "kind", str("audit"), str("preventative")),
		at(cur, fixed.LastModified, "status", str(policy.StatusOpen), str(policy.StatusFixed)),
		at(cur, reopened.LastModified, "status", str(policy.StatusFixed), str(policy.StatusOpen)),
		at(cur, reopened.LastModified, "severity", str("medium"), str("critical")),
		at(cur, reopened.LastModified, "policyGroupName", str("default"), str("payments")),
		at(cur, accepted.LastModified, "status", str(policy.StatusOpen), str(policy.StatusIgnored)),
	}
	replayed := Delta{}
	replayed.replay(history)

	for k, c := range live {
		if replayed[k] != c {
			t.Errorf("%v: replayed %+v, recorded %+v", k, replayed[k], c)
		}
	}
	for k, c := range replayed {
		if _, ok := live[k]; !ok && c != (counts{}) {
			t.Errorf("%v: replayed %+v, recorded nothing", k, c)
		}
	}
	if c := live[key{"", "", "2026-03-04"}]; c != (counts{fixed: 1, active: -1, fixSeconds: 74 * 3600}) {
		t.Errorf("the fix's day: %+v", c)
	}
}

// BenchmarkDeltaChange adds the changes of an evaluation's issues (fixed,
// one in ten) to a Delta, as every recorded change does.
func BenchmarkDeltaChange(b *testing.B) {
	before := make([]*model.Issue, 400)
	after := make([]*model.Issue, len(before))
	for i := range before {
		before[i] = testIssue()
		after[i] = changed(before[i], observed.Add(time.Hour), func(is *model.Issue) {
			if i%10 == 0 {
				is.Status = policy.StatusFixed
			}
			is.Message = "changed"
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		d := Delta{}
		for i := range before {
			d.Change(before[i], after[i])
		}
	}
}
