package repository_test

import (
	"context"
	"testing"
	"time"

	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestEvaluationsSharingNewTextsDoNotWait: an evaluation that brings a
// message no issue had yet does not hold it locked for the rest of its
// transaction, so an evaluation of another stack bringing the same message
// goes on while the first is still open. Writers take turns on SQLite, so
// this is PostgreSQL's (required in CI).
func TestEvaluationsSharingNewTextsDoNotWait(t *testing.T) {
	e := newIngestEnv(t, repotest.Postgres(t, "concurrent writers need PostgreSQL"))
	shared := repotest.UniqueName("a message no issue had")
	// stack is a complete evaluation of payments/name at version by pack
	// (aws-cis renamed), with policy failing on each bucket with its
	// message.
	stack := func(name string, version int64, pack, policy string, messages map[string]string) ingest.Evaluation {
		var buckets []string
		failing := map[string][]string{}
		byURN := map[string]string{}
		for b, m := range messages {
			buckets = append(buckets, b)
			failing[b] = []string{policy}
			byURN[bucketURN(b)] = m
		}
		ev := stackEval(version, "1.0.0", buckets, failing)
		ev.Stack.Name = name
		ev.Packs[0].Name = pack
		for i := range ev.Resources {
			ev.Resources[i].Packs[0].Name = pack
		}
		for i := range ev.Violations {
			ev.Violations[i].PolicyPack = pack
			ev.Violations[i].Message = byURN[ev.Violations[i].ResourceURN]
		}
		return ev
	}
	e.apply(stack("prod", 1, "aws-cis", "s3-encryption", map[string]string{"logs": "an old message"}))
	var prodID int64
	if err := e.r.DB().Raw(`SELECT id FROM entities WHERE org_id = ? AND name = 'prod'`, e.org.ID).Scan(&prodID).Error; err != nil {
		t.Fatal(err)
	}

	// Hold prod's resource counts, which an evaluation that opens an issue
	// recounts last: prod's next evaluation stops there, its transaction
	// open after it has written its texts and issues.
	hold := e.r.DB().Begin()
	defer hold.Rollback()
	if err := hold.Exec(`SELECT 1 FROM entity_counts WHERE org_id = ? AND entity_ref = ? FOR UPDATE`, e.org.ID, prodID).Error; err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		// prod's evaluations and staging's run different packs and fail
		// different policies: the rollups both update (the issue cube,
		// the policies' outcomes) count them in different rows.
		_, err := e.r.ApplyEvaluation(e.ctx, e.org.ID, ingestActor,
			stack("prod", 2, "aws-cis", "s3-encryption", map[string]string{"logs": "an old message", "data": shared}))
		first <- err
	}()
	waitForLockWait(t, e, "entity_counts")

	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if _, err := e.r.ApplyEvaluation(ctx, e.org.ID, ingestActor, stack("staging", 1, "aws-extra", "s3-versioning", map[string]string{"assets": shared})); err != nil {
		t.Fatalf("the evaluation of staging waited for prod's open transaction: %v", err)
	}
	if err := hold.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatalf("prod's evaluation: %v", err)
	}

	issues := e.issues()
	for _, key := range []string{"s3-encryption@data", "s3-versioning@assets"} {
		if got := issues[key]; got.Message != shared || got.Status != policy.StatusOpen {
			t.Errorf("%s: message %q, status %s; want %q, open", key, got.Message, got.Status, shared)
		}
	}
	if err := e.r.CheckRollups(e.ctx, e.org.ID); err != nil {
		t.Error(err)
	}
}

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
	if held.Status != policy.StatusFixed {
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
		"s3-encryption@a": policy.StatusFixed, "s3-encryption@b": policy.StatusOpen,
		"s3-encryption@c": policy.StatusFixed, "s3-versioning@c": policy.StatusOpen,
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

// waitForLockWait waits until a session of the test database waits for a
// lock in a statement naming table.
func waitForLockWait(t *testing.T, e *ingestEnv, table string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int64
		if err := e.r.DB().Raw(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE ?`, "%"+table+"%").Scan(&waiting).Error; err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no statement on %s waited for a lock within 10 s", table)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
