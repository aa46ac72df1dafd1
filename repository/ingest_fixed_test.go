package repository_test

import (
	"context"
	"testing"
	"time"

	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestEvaluationLeavesUnreportedFixedIssuesAlone: an evaluation reads and
// locks the stack's issues that are not fixed and the fixed ones it reports
// again, not every fixed issue of the stack's history, so a fixed issue
// someone else holds (a triage in progress) does not hold the stack's
// evaluation up. Writers take turns on SQLite, so this is PostgreSQL's
// (required in CI); reopening is tested on both databases.
func TestEvaluationLeavesUnreportedFixedIssuesAlone(t *testing.T) {
	e := newIngestEnv(t, repotest.Postgres(t, "row locks need PostgreSQL"))
	buckets := []string{"a", "b", "c"}
	e.apply(stackEval(1, "1.0.0", buckets, map[string][]string{"a": {"s3-encryption"}, "b": {"s3-encryption"}}))
	e.apply(stackEval(2, "1.0.0", buckets, map[string][]string{"c": {"s3-encryption"}}))
	held := e.issue("s3-encryption@a")
	if held.Status != repository.StatusFixed {
		t.Fatalf("s3-encryption@a is %s after its second evaluation; want fixed", held.Status)
	}

	hold := e.r.DB().Begin()
	defer hold.Rollback()
	if err := hold.Exec(`SELECT 1 FROM policy_issues WHERE org_id = ? AND id = ? FOR UPDATE`, e.org.ID, held.ID).Error; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	sum, err := e.r.ApplyEvaluation(ctx, e.org.ID, ingestActor,
		stackEval(3, "1.0.0", buckets, map[string][]string{"b": {"s3-encryption"}, "c": {"s3-versioning"}}))
	if err != nil {
		t.Fatalf("the evaluation waited for a fixed issue it does not report: %v", err)
	}
	if err := hold.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	checkSummary(t, sum, repository.EvaluationSummary{Opened: 1, Reopened: 1, Fixed: 1, ResourcesGoverned: 3})

	issues := e.issues()
	for key, want := range map[string]string{
		"s3-encryption@a": repository.StatusFixed, "s3-encryption@b": repository.StatusOpen,
		"s3-encryption@c": repository.StatusFixed, "s3-versioning@c": repository.StatusOpen,
	} {
		if got := issues[key].Status; got != want {
			t.Errorf("%s is %s; want %s", key, got, want)
		}
	}
	if got := issues["s3-encryption@a"]; got.Revision != held.Revision || !got.LastModified.Equal(held.LastModified) {
		t.Errorf("the unreported fixed issue changed: revision %d → %d, lastModified %v → %v",
			held.Revision, got.Revision, held.LastModified, got.LastModified)
	}
	if err := e.r.CheckRollups(e.ctx, e.org.ID); err != nil {
		t.Error(err)
	}
}
