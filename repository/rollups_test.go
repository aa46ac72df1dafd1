package repository_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/groups"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestRollupsMatchRecount drives an organisation through a random mix of
// complete and Pulumi-form evaluations, account scans, triage (some of it
// concurrent with ingest; by one issue, by batch, acceptances expiring) and
// group renames, and checks after each round
// that the rollups equal a recount from the issues and resources.
func TestRollupsMatchRecount(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		var users []string
		for _, login := range []string{"alice", "bob"} {
			u := &model.User{Login: repotest.UniqueName(login), Email: repotest.UniqueName(login) + "@example.com"}
			if err := e.r.Accounts.CreateUser(e.ctx, u); err != nil {
				t.Fatal(err)
			}
			if err := e.r.Accounts.AddMember(e.ctx, e.org.ID, u.ID, model.RoleMember); err != nil {
				t.Fatal(err)
			}
			users = append(users, u.Login, u.Email)
		}
		e.publishPack("aws-cis", "1.0.0", cisPolicies...)
		e.publishPack("aws-pci", "2.0.0",
			model.PolicyInput{Name: "pci-tls", Severity: "critical", EnforcementLevel: "mandatory"},
			model.PolicyInput{Name: "pci-logs", Severity: "", EnforcementLevel: "advisory"})
		if _, err := e.r.Groups.CreatePolicyGroup(e.ctx, e.org.ID, "payments", model.GroupStacks, model.ModeAudit); err != nil {
			t.Fatal(err)
		}
		if err := e.r.Groups.UpdatePolicyGroup(e.ctx, e.org.ID, "payments", []groups.Update{
			{AddPolicyPack: &groups.PackRef{Name: "aws-pci"}},
			{AddStack: &groups.StackMember{Name: "s0", RoutingProject: "payments"}},
		}); err != nil {
			t.Fatal(err)
		}

		rng := rand.New(rand.NewPCG(7, uint64(len(b.Dialect.String()))))
		versions := map[string]int64{}
		next := func(key string) int64 { versions[key]++; return versions[key] }
		groupName := "payments"
		policies := map[string][]string{"aws-cis": {"s3-encryption", "s3-versioning", "s3-logging"}, "aws-pci": {"pci-tls", "pci-logs"}}

		// completeEval evaluates both packs on a stack; each pair fails with
		// probability 0.4, and a third of the resources may be missing.
		completeEval := func(stack string) ingest.Evaluation {
			ev := ingest.Evaluation{Stack: &ingest.StackRef{Project: "payments", Name: stack, Version: next(stack)}, Complete: true}
			ev.ObservedAt = at(ev.Stack.Version)
			for _, pack := range []string{"aws-cis", "aws-pci"} {
				p := ingest.EvaluatedPack{Name: pack, VersionTag: map[string]string{"aws-cis": "1.0.0", "aws-pci": "2.0.0"}[pack]}
				if rng.IntN(10) == 0 {
					p.Error = "could not load"
				}
				ev.Packs = append(ev.Packs, p)
			}
			for i := 0; i < 8; i++ {
				if rng.IntN(3) == 0 {
					continue
				}
				name := fmt.Sprintf("%s-bucket-%d", stack, i)
				res := ingest.EvaluatedResource{URN: bucketURN(name)}
				for _, pack := range []string{"aws-cis", "aws-pci"} {
					out := ingest.ResourcePackOutcome{Name: pack}
					for _, pol := range policies[pack] {
						if rng.Float64() < 0.4 {
							out.Failed = append(out.Failed, pol)
							sev := []string{"", "low", "high"}[rng.IntN(3)]
							ev.Violations = append(ev.Violations, ingest.Violation{PolicyPack: pack, PolicyName: pol,
								ResourceURN: res.URN, Message: []string{"fails ", "still fails "}[rng.IntN(2)] + name, Severity: strPtr(sev)})
						} else {
							out.Passed = append(out.Passed, pol)
						}
					}
					res.Packs = append(res.Packs, out)
				}
				ev.Resources = append(ev.Resources, res)
			}
			return ev
		}
		pulumiEval := func(stack string) ingest.Evaluation {
			ev := ingest.Evaluation{Stack: &ingest.StackRef{Project: "payments", Name: stack, Version: next(stack)}}
			ev.ObservedAt = at(ev.Stack.Version)
			ev.Packs = []ingest.EvaluatedPack{{Name: "aws-cis"}}
			for i := 0; i < 8; i++ {
				if rng.IntN(2) == 0 {
					ev.Violations = append(ev.Violations, ingest.Violation{PolicyPack: "aws-cis", PolicyName: "s3-encryption",
						ResourceURN: bucketURN(fmt.Sprintf("%s-bucket-%d", stack, i))})
				}
			}
			if len(ev.Violations) == 0 && rng.IntN(2) == 0 {
				ev.Error = "policy run failed"
			}
			return ev
		}
		accountScan := func() ingest.Evaluation {
			v := next("account")
			scope := fmt.Sprintf("i-%d", rng.IntN(4))
			ev := ingest.Evaluation{Account: &ingest.AccountRef{Name: "aws-prod", Provider: "aws", Version: v}, Scope: scope,
				ObservedAt: at(v), Packs: []ingest.EvaluatedPack{{Name: "aws-cis", VersionTag: "1.0.0"}}}
			if rng.IntN(2) == 0 {
				ev.Violations = append(ev.Violations, ingest.Violation{PolicyPack: "aws-cis", PolicyName: "s3-versioning",
					ResourceURN: "urn:pulumi:aws-prod::insights::aws:ec2/instance:Instance::" + scope})
			}
			return ev
		}
		var batch func(rng *rand.Rand, ids []string) error
		triage := func(rng *rand.Rand) error {
			ids, err := e.r.ActiveIssueIDs(e.ctx, e.org.ID, 1000)
			if err != nil || len(ids) == 0 {
				return err
			}
			var u repository.IssueUpdate
			switch rng.IntN(5) {
			case 3:
				return batch(rng, ids)
			case 4:
				// Acceptances end an hour after they were set.
				_, err := e.r.ExpireAcceptances(e.ctx, time.Now().Add(2*time.Hour))
				return err
			case 0:
				u.Status = strPtr([]string{"open", "in_progress", "by_design", "ignored"}[rng.IntN(4)])
			case 1:
				u.Priority = strPtr([]string{"p0", "p1", "p2", "p3", "p4"}[rng.IntN(5)])
			default:
				u.Assignee = strPtr(append([]string{""}, users...)[rng.IntN(len(users)+1)])
			}
			_, err = e.r.UpdateIssue(e.ctx, e.org.ID, ids[rng.IntN(len(ids))], repository.Actor{Name: "alice", Type: "user"}, u)
			return err
		}
		// batch triages a few active issues by id, or every issue of a
		// policy by filter, accepting the risk when it ignores them.
		batch = func(rng *rand.Rand, ids []string) error {
			u := repository.BatchUpdate{}
			status := []string{"open", "in_progress", "by_design", "ignored"}[rng.IntN(4)]
			u.Status = &status
			if status == "ignored" || status == "by_design" {
				until := time.Now().Add(time.Hour)
				u.Acceptance = &repository.Acceptance{Until: &until, Reason: "accepted in a test"}
			}
			if rng.IntN(2) == 0 {
				u.Priority = strPtr([]string{"p0", "p1", "p2", "p3", "p4"}[rng.IntN(5)])
			}
			if rng.IntN(2) == 0 {
				for range 1 + rng.IntN(5) {
					u.IDs = append(u.IDs, ids[rng.IntN(len(ids))])
				}
			} else {
				pol := []string{"s3-encryption", "s3-versioning", "pci-tls"}[rng.IntN(3)]
				filter, err := grid.ParseFilter(grid.FilterModel(`{"colId":"policyName","filterType":"text","type":"equals","filter":"`+pol+`"}`), issuequery.IssueSchema)
				if err != nil {
					return err
				}
				u.ByFilter, u.Filter = true, filter
			}
			// The selection's count, from the refusal of a wrong one.
			u.ExpectedCount = 1 << 30
			_, err := e.r.BatchUpdateIssues(e.ctx, e.org.ID, repository.Actor{Name: "alice", Type: "user"}, u)
			var count *repository.BatchCountError
			if !errors.As(err, &count) {
				return fmt.Errorf("batch with a wrong count: %v", err)
			}
			u.ExpectedCount = count.Matched
			_, err = e.r.BatchUpdateIssues(e.ctx, e.org.ID, repository.Actor{Name: "alice", Type: "user"}, u)
			return err
		}
		check := func(round int) {
			t.Helper()
			if err := e.r.CheckRollups(e.ctx, e.org.ID); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if err := e.r.Trends().Check(e.ctx, e.org.ID); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}

		for round := 0; round < 12; round++ {
			for step := 0; step < 8; step++ {
				stack := fmt.Sprintf("s%d", rng.IntN(4))
				switch x := rng.IntN(10); {
				case x < 4:
					e.apply(completeEval(stack))
				case x < 6:
					e.apply(pulumiEval(stack))
				case x < 7:
					e.apply(accountScan())
				default:
					if err := triage(rng); err != nil {
						t.Fatal(err)
					}
				}
			}
			if round%4 == 3 {
				newName := fmt.Sprintf("payments-%d", round)
				if err := e.r.Groups.UpdatePolicyGroup(e.ctx, e.org.ID, groupName, []groups.Update{{NewName: newName}}); err != nil {
					t.Fatal(err)
				}
				groupName = newName
			}
			// Concurrent writers: an evaluation per stack and triage at
			// once (on SQLite they queue on the write lock).
			evs := make([]ingest.Evaluation, 4)
			for i := range evs {
				evs[i] = completeEval(fmt.Sprintf("s%d", i))
			}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range evs {
				wg.Add(2)
				go func(ev ingest.Evaluation) {
					defer wg.Done()
					_, err := e.r.ApplyEvaluation(e.ctx, e.org.ID, ingestActor, ev)
					errs <- err
				}(evs[i])
				go func(seed uint64) {
					defer wg.Done()
					errs <- triage(rand.New(rand.NewPCG(seed, 1)))
				}(uint64(round*10 + i))
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				// A batch's count may change under it while evaluations run.
				var count *repository.BatchCountError
				if err != nil && !errors.Is(err, repository.ErrPreconditionFailed) && !errors.As(err, &count) {
					t.Fatal(err)
				}
			}
			check(round)
		}

		// A tampered rollup is found.
		if err := e.r.DB().Exec("UPDATE issue_counts SET n = n + 1 WHERE org_id = ? AND n > 0", e.org.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := e.r.CheckRollups(e.ctx, e.org.ID); err == nil {
			t.Error("CheckRollups found nothing wrong with tampered counts")
		}
		// So is an issue pointing at another text of the dictionary.
		if err := e.r.DB().Exec("UPDATE issue_counts SET n = n - 1 WHERE org_id = ? AND n > 0", e.org.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := e.r.DB().Exec(`UPDATE policy_issues SET message_ref = (SELECT MIN(t.id) FROM issue_texts t
			WHERE t.org_id = policy_issues.org_id AND t.field = 'message' AND t.value <> policy_issues.message)
			WHERE org_id = ?`, e.org.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := e.r.CheckRollups(e.ctx, e.org.ID); err == nil || !strings.Contains(err.Error(), "issue_texts") {
			t.Errorf("CheckRollups on a wrong text reference: %v", err)
		}
		// So is a tampered row of a table compared row by row.
		if err := e.r.DB().Exec("UPDATE outcome_counts SET governed = governed + 1 WHERE org_id = ?", e.org.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := e.r.CheckRollups(e.ctx, e.org.ID); err == nil || !strings.Contains(err.Error(), "outcome_counts") {
			t.Errorf("CheckRollups on tampered outcome_counts: %v", err)
		}
	})
}
