package policy

import (
	"errors"
	"strings"
	"testing"
)

// TestLifecycle follows an issue through evaluations: opened, reported
// again, fixed when no longer reported, reopened when reported once more;
// a person's triage stands while the violation is reported and ends with a
// fix.
func TestLifecycle(t *testing.T) {
	status := StatusOpen
	steps := []struct {
		event string
		set   string // a person's triage before the event, "" none
		want  string
	}{
		{event: "reported", want: StatusOpen},
		{event: "reported", set: StatusInProgress, want: StatusInProgress},
		{event: "not reported", want: StatusFixed},
		{event: "reported", want: StatusOpen},
		{event: "reported", set: StatusIgnored, want: StatusIgnored},
		{event: "reported", want: StatusIgnored},
		{event: "not reported", want: StatusFixed},
		{event: "not reported", want: StatusFixed},
		{event: "reported", want: StatusOpen},
		{event: "reported", set: StatusByDesign, want: StatusByDesign},
	}
	for i, s := range steps {
		if s.set != "" {
			if err := CheckTriage(&s.set, nil); err != nil {
				t.Fatalf("step %d: a person may set %s: %v", i, s.set, err)
			}
			status = s.set
		}
		if s.event == "reported" {
			status = StatusReported(status)
		} else {
			status = StatusNotReported(status)
		}
		if status != s.want {
			t.Fatalf("step %d (%s after %q): status %s, want %s", i, s.event, s.set, status, s.want)
		}
	}
}

func TestActiveAndRanks(t *testing.T) {
	order := []string{StatusOpen, StatusInProgress, StatusByDesign, StatusIgnored, StatusFixed}
	for i, s := range order {
		if StatusRank(s) != i {
			t.Errorf("StatusRank(%s) = %d, want %d", s, StatusRank(s), i)
		}
		if active := s == StatusOpen || s == StatusInProgress; IsActive(s) != active {
			t.Errorf("IsActive(%s) = %v", s, IsActive(s))
		}
	}
	for i, s := range []string{"", "low", "medium", "high", "critical"} {
		if SeverityRank(s) != i {
			t.Errorf("SeverityRank(%q) = %d, want %d", s, SeverityRank(s), i)
		}
	}
	for sev, want := range map[string]string{"critical": "p0", "high": "p1", "medium": "p2", "low": "p3", "": "p4"} {
		if got := PriorityForSeverity(sev); got != want {
			t.Errorf("PriorityForSeverity(%q) = %s, want %s", sev, got, want)
		}
	}
}

// TestCheckTriage: a person sets any status but fixed and a priority p0 to
// p4; refusals name the field and what is allowed.
func TestCheckTriage(t *testing.T) {
	for _, s := range []string{StatusOpen, StatusInProgress, StatusByDesign, StatusIgnored} {
		if err := CheckTriage(&s, nil); err != nil {
			t.Errorf("status %s refused: %v", s, err)
		}
	}
	for _, p := range []string{"p0", "p1", "p2", "p3", "p4"} {
		if err := CheckTriage(nil, &p); err != nil {
			t.Errorf("priority %s refused: %v", p, err)
		}
	}
	if err := CheckTriage(nil, nil); err != nil {
		t.Errorf("nothing to set refused: %v", err)
	}
	fixed, bogus, p5 := StatusFixed, "closed", "p5"
	for _, c := range []struct {
		status, priority *string
		field, says      string
	}{
		{status: &fixed, field: "status", says: "fixed cannot be set manually"},
		{status: &bogus, field: "status", says: "allowed values: open, in_progress, by_design, ignored"},
		{priority: &p5, field: "priority", says: "allowed values: p0, p1, p2, p3, p4"},
	} {
		var fe *FieldError
		err := CheckTriage(c.status, c.priority)
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Message, c.says) {
			t.Errorf("CheckTriage(%v, %v) = %v, want a refusal of %s saying %q", c.status, c.priority, err, c.field, c.says)
		}
	}
}

func TestScore(t *testing.T) {
	for _, c := range []struct {
		allError              bool
		total, failing, score int
	}{
		{false, 3, 1, 66},
		{false, 3, 0, 100},
		{false, 3, 3, 0},
		{false, 3, 5, 0}, // more failing than evaluated counts as all failing
		{false, 0, 0, 100},
		{true, 3, 1, ScoreError},
		{false, 7, 1, 85}, // rounded down
	} {
		if got := Score(c.allError, c.total, c.failing); got != c.score {
			t.Errorf("Score(%v, %d, %d) = %d, want %d", c.allError, c.total, c.failing, got, c.score)
		}
	}
}

func TestVersionTags(t *testing.T) {
	for tag, want := range map[string]string{"": "", "1.2.0": "1.2.0", "v1.2.0": "1.2.0", "V1.2.0-rc.1+build.5": "1.2.0-rc.1+build.5"} {
		if got, err := NewVersionTag(tag); err != nil || got != want {
			t.Errorf("NewVersionTag(%q) = %q, %v; want %q", tag, got, err, want)
		}
	}
	for _, tag := range []string{"v", "1.2", "01.2.0", " 1.2.0", "latest"} {
		var fe *FieldError
		if _, err := NewVersionTag(tag); !errors.As(err, &fe) || fe.Field != "versionTag" {
			t.Errorf("NewVersionTag(%q) = %v, want a refusal of versionTag", tag, err)
		}
	}
	if NormalizeTag("vnext") != "vnext" || NormalizeTag("v2") != "2" {
		t.Error(`NormalizeTag drops a "v" only before a digit`)
	}
	for _, l := range []string{LevelAdvisory, LevelMandatory, LevelRemediate, LevelDisabled} {
		if !ValidLevel(l) {
			t.Errorf("level %s refused", l)
		}
	}
	if ValidLevel("") || ValidLevel("warn") || !ValidSeverity("") || ValidSeverity("severe") {
		t.Error("levels and severities: wrong verdicts")
	}
}
