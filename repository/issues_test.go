package repository_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/policyresults/policyresults/model"
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
		actor := repository.Actor{Name: "alice", Type: "user"}
		cases := []struct {
			name        string
			update      repository.IssueUpdate
			wantFields  []string // history entries added, in the order recorded
			wantStatus  string
			wantActive  bool
			wantRevBump bool
		}{
			{"priority", repository.IssueUpdate{Priority: strPtr("p4")}, []string{"priority"}, "open", true, true},
			{"same priority writes nothing", repository.IssueUpdate{Priority: strPtr("p4")}, nil, "open", true, false},
			{"status and priority", repository.IssueUpdate{Status: strPtr("in_progress"), Priority: strPtr("p2")}, []string{"status", "priority"}, "in_progress", true, true},
			{"to an inactive status", repository.IssueUpdate{Status: strPtr("ignored")}, []string{"status"}, "ignored", false, true},
			{"back to open", repository.IssueUpdate{Status: strPtr("open")}, []string{"status"}, "open", true, true},
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

// TestConcurrentTriageOfOneIssue sends many triage changes of one issue at
// once, beside evaluations that report it again: no change is lost (each
// field's history is a chain, every old value the previous new value), the
// revision counts the changes, and the rollups match a recount.
func TestConcurrentTriageOfOneIssue(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		var members []string
		for _, login := range []string{"carol", "dave"} {
			u := &model.User{Login: repotest.UniqueName(login), Email: repotest.UniqueName(login) + "@example.com"}
			if err := e.r.Accounts.CreateUser(e.ctx, u); err != nil {
				t.Fatal(err)
			}
			if err := e.r.Accounts.AddMember(e.ctx, e.org.ID, u.ID, model.RoleMember); err != nil {
				t.Fatal(err)
			}
			members = append(members, u.Login)
		}
		e.publishPack("aws-cis", "1.0.0", cisPolicies...)
		failing := map[string][]string{"a": {"s3-encryption"}, "b": {"s3-versioning"}}
		e.apply(stackEval(1, "1.0.0", []string{"a", "b"}, failing))
		id := e.issue("s3-encryption@a").ID

		updates := []repository.IssueUpdate{
			{Priority: strPtr("p0")}, {Priority: strPtr("p3")}, {Status: strPtr("in_progress")}, {Status: strPtr("open")},
			{Assignee: strPtr(members[0])}, {Assignee: strPtr(members[1])}, {Assignee: strPtr("")},
			{Status: strPtr("in_progress"), Priority: strPtr("p2")},
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 8 {
					u := updates[(w*3+i)%len(updates)]
					if _, err := e.r.UpdateIssue(e.ctx, e.org.ID, id, repository.Actor{Name: "alice", Type: "user"}, u); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := int64(2); v < 6; v++ {
				if _, err := e.r.ApplyEvaluation(e.ctx, e.org.ID, ingestActor, stackEval(v, "1.0.0", []string{"a", "b"}, failing)); err != nil {
					errs <- err
				}
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}

		is := e.issue("s3-encryption@a")
		last := map[string]*string{}
		recorded := 0
		for _, h := range e.history(id) {
			if h.Actor != "alice" {
				continue
			}
			recorded++
			if prev, seen := last[h.Field]; seen && !equalText(prev, h.OldValue) {
				t.Errorf("%s changed from %v, but the previous change set %v: a change was lost", h.Field, deref(h.OldValue), deref(prev))
			}
			last[h.Field] = h.NewValue
		}
		if recorded == 0 {
			t.Fatal("no triage change was recorded")
		}
		if got := deref(last["priority"]); got != "" && got != is.Priority {
			t.Errorf("priority %q, last recorded %q", is.Priority, got)
		}
		if s, ok := last["status"]; ok && deref(s) != is.Status {
			t.Errorf("status %q, last recorded %q", is.Status, deref(s))
		}
		if err := e.r.CheckRollups(e.ctx, e.org.ID); err != nil {
			t.Error(err)
		}
	})
}

func equalText(a, b *string) bool { return deref(a) == deref(b) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
