package repository_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestIssueDetailsByID reads issues with the registry's record of their
// policy: the version carrying the issue's tag ("v" prefix ignored), the
// published one of several, and no policy or no version where the registry
// lacks them.
func TestIssueDetailsByID(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		e.publishPack("aws-cis", "1.0.0", cisPolicies[0])
		e.publishPack("aws-cis", "2.0.0", cisPolicies...)
		e.apply(stackEval(1, "v1.0.0", []string{"a"}, map[string][]string{"a": {"s3-encryption", "s3-versioning"}}))

		cases := []struct {
			key         string
			wantVersion int // 0: no version
			wantPolicy  bool
		}{
			{"s3-encryption@a", 1, true},
			{"s3-versioning@a", 1, false}, // 1.0.0 lacks the policy
		}
		for _, c := range cases {
			is := e.issue(c.key)
			d, err := e.r.IssueDetailsByID(e.ctx, e.org.ID, is.ID)
			if err != nil {
				t.Fatalf("%s: %v", c.key, err)
			}
			if d.Issue.ID != is.ID || d.Issue.PolicyName != is.PolicyName || d.Issue.Revision != is.Revision || d.Issue.Status != is.Status {
				t.Errorf("%s: issue %+v, want %+v", c.key, d.Issue, is)
			}
			if d.Version == nil || d.Pack == nil {
				t.Fatalf("%s: no version, want %d", c.key, c.wantVersion)
			}
			if d.Version.Version != c.wantVersion || d.Version.VersionTag != "1.0.0" || d.Pack.Name != "aws-cis" || d.Version.PackID != d.Pack.ID {
				t.Errorf("%s: version %+v of pack %+v", c.key, d.Version, d.Pack)
			}
			if _, err := uuid.Parse(d.Version.UUID); err != nil {
				t.Errorf("%s: version uuid %q", c.key, d.Version.UUID)
			}
			switch {
			case c.wantPolicy && d.Policy == nil:
				t.Errorf("%s: no policy", c.key)
			case c.wantPolicy && (d.Policy.Severity != "high" || d.Policy.EnforcementLevel != "mandatory" || d.Policy.Message != cisPolicies[0].Message):
				t.Errorf("%s: policy %+v", c.key, d.Policy)
			case !c.wantPolicy && d.Policy != nil:
				t.Errorf("%s: policy %+v, want none", c.key, d.Policy)
			}
		}

		// A tag the registry does not hold.
		e.apply(stackEval(2, "9.9.9", []string{"a"}, map[string][]string{"a": {"s3-encryption"}}))
		d, err := e.r.IssueDetailsByID(e.ctx, e.org.ID, e.issue("s3-encryption@a").ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Issue.PolicyPackTag != "9.9.9" || d.Version != nil || d.Pack != nil || d.Policy != nil {
			t.Errorf("unregistered tag: tag %q, version %+v, pack %+v, policy %+v", d.Issue.PolicyPackTag, d.Version, d.Pack, d.Policy)
		}
		if _, err := e.r.IssueDetailsByID(e.ctx, e.org.ID, uuid.NewString()); !errors.Is(err, repository.ErrNotFound) {
			t.Errorf("unknown issue: %v", err)
		}
	})
}

// TestUpdateIssueAnswersDetails checks that a triage change answers the
// issue as changed with its policy, records each field's change once, and
// keeps the rollups exact, for every kind of change.
func TestUpdateIssueAnswersDetails(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		e.publishPack("aws-cis", "1.0.0", cisPolicies...)
		e.apply(stackEval(1, "1.0.0", []string{"a"}, map[string][]string{"a": {"s3-encryption"}}))
		is := e.issue("s3-encryption@a")
		str := func(s string) *string { return &s }
		actor := repository.Actor{Name: "alice", Type: "user"}
		cases := []struct {
			name        string
			update      repository.IssueUpdate
			wantFields  []string // history entries added, in the order recorded
			wantStatus  string
			wantActive  bool
			wantRevBump bool
		}{
			{"priority", repository.IssueUpdate{Priority: str("p4")}, []string{"priority"}, "open", true, true},
			{"same priority writes nothing", repository.IssueUpdate{Priority: str("p4")}, nil, "open", true, false},
			{"status and priority", repository.IssueUpdate{Status: str("in_progress"), Priority: str("p2")}, []string{"status", "priority"}, "in_progress", true, true},
			{"to an inactive status", repository.IssueUpdate{Status: str("ignored")}, []string{"status"}, "ignored", false, true},
			{"back to open", repository.IssueUpdate{Status: str("open")}, []string{"status"}, "open", true, true},
		}
		rev := is.Revision
		for _, c := range cases {
			before := len(e.history(is.ID))
			d, err := e.r.UpdateIssue(e.ctx, e.org.ID, is.ID, actor, c.update)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if c.wantRevBump {
				rev++
			}
			if d.Issue.Status != c.wantStatus || d.Issue.Active != c.wantActive || d.Issue.Revision != rev {
				t.Errorf("%s: answered status %q active %v revision %d, want %q %v %d", c.name, d.Issue.Status, d.Issue.Active, d.Issue.Revision, c.wantStatus, c.wantActive, rev)
			}
			if d.Policy == nil || d.Policy.Name != "s3-encryption" || d.Version == nil || d.Version.VersionTag != "1.0.0" {
				t.Errorf("%s: policy %+v version %+v", c.name, d.Policy, d.Version)
			}
			stored := e.issue("s3-encryption@a")
			if stored.Status != c.wantStatus || stored.Revision != rev || stored.Priority != d.Issue.Priority {
				t.Errorf("%s: stored status %q revision %d priority %q, answered priority %q", c.name, stored.Status, stored.Revision, stored.Priority, d.Issue.Priority)
			}
			var fields []string
			for _, h := range e.history(is.ID)[before:] {
				fields = append(fields, h.Field)
				if h.Actor != "alice" || h.ActorType != "user" || h.NewValue == nil {
					t.Errorf("%s: history entry %+v", c.name, h)
				}
			}
			if !slices.Equal(fields, c.wantFields) {
				t.Errorf("%s: history fields %v, want %v", c.name, fields, c.wantFields)
			}
			if err := e.r.CheckRollups(e.ctx, e.org.ID); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	})
}
