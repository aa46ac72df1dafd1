package repository_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/groups"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/packs"
	"github.com/policyresults/policyresults/repository/repotest"
)

// ingestEnv is one organisation of a test database.
type ingestEnv struct {
	t   *testing.T
	ctx context.Context
	r   *repository.Repository
	org *model.Organization
}

func newIngestEnv(t *testing.T, b *repotest.Backend) *ingestEnv {
	t.Helper()
	ctx := context.Background()
	org, err := b.Repo.Accounts.CreateOrganization(ctx, repotest.UniqueName("ingest"))
	if err != nil {
		t.Fatal(err)
	}
	return &ingestEnv{t: t, ctx: ctx, r: b.Repo, org: org}
}

var ingestActor = repository.Actor{Name: "ci-bot", Type: "token"}

func (e *ingestEnv) apply(ev ingest.Evaluation) *repository.EvaluationSummary {
	e.t.Helper()
	sum, err := e.r.ApplyEvaluation(e.ctx, e.org.ID, ingestActor, ev)
	if err != nil {
		e.t.Fatalf("ApplyEvaluation: %v", err)
	}
	return sum
}

// issues returns the organisation's issues keyed by "policy@resource name".
func (e *ingestEnv) issues() map[string]model.Issue {
	e.t.Helper()
	var rows []model.Issue
	if err := e.r.DB().Where("org_id = ?", e.org.ID).Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	out := map[string]model.Issue{}
	for _, iss := range rows {
		out[iss.PolicyName+"@"+iss.ResourceName] = iss
	}
	return out
}

func (e *ingestEnv) issue(key string) model.Issue {
	e.t.Helper()
	iss, ok := e.issues()[key]
	if !ok {
		e.t.Fatalf("no issue %s", key)
	}
	return iss
}

func (e *ingestEnv) history(issueID string) []model.HistoryEntry {
	e.t.Helper()
	var rows []model.HistoryEntry
	if err := e.r.DB().Where("org_id = ? AND issue_id = ?", e.org.ID, issueID).Order("id").Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	return rows
}

var ingestTables = []string{"entities", "policy_group_entities", "evaluations", "pack_evaluations", "policy_outcomes",
	"resources", "policy_issues", "issue_history", "policy_groups", "policy_group_packs", "policy_packs"}

// rowCounts counts the organisation's rows in every table ingest writes.
func (e *ingestEnv) rowCounts() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	for _, table := range ingestTables {
		var n int64
		if err := e.r.DB().Table(table).Where("org_id = ?", e.org.ID).Count(&n).Error; err != nil {
			e.t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func (e *ingestEnv) outcomes() map[string]model.PolicyOutcome {
	e.t.Helper()
	var rows []model.PolicyOutcome
	if err := e.r.DB().Where("org_id = ?", e.org.ID).Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	out := map[string]model.PolicyOutcome{}
	for _, o := range rows {
		out[o.Scope+"/"+o.PackName+"/"+o.PolicyName] = o
	}
	return out
}

func (e *ingestEnv) packEvaluation(pack string) model.PackEvaluation {
	e.t.Helper()
	var pe model.PackEvaluation
	if err := e.r.DB().Where("org_id = ? AND pack_name = ?", e.org.ID, pack).Take(&pe).Error; err != nil {
		e.t.Fatalf("pack evaluation %s: %v", pack, err)
	}
	return pe
}

func (e *ingestEnv) resources() map[string]model.Resource {
	e.t.Helper()
	var rows []model.Resource
	if err := e.r.DB().Where("org_id = ?", e.org.ID).Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	out := map[string]model.Resource{}
	for _, r := range rows {
		out[r.Name] = r
	}
	return out
}

func (e *ingestEnv) group(name string) *groups.Detail {
	e.t.Helper()
	g, err := e.r.Groups.PolicyGroupDetail(e.ctx, e.org.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

// publishPack publishes a pack version with an archive.
func (e *ingestEnv) publishPack(name, tag string, policies ...model.PolicyInput) int {
	e.t.Helper()
	created, err := e.r.Packs.CreatePolicyPackVersion(e.ctx, e.org.ID, packs.Input{Name: name, DisplayName: name, VersionTag: tag, Policies: policies})
	if err != nil {
		e.t.Fatal(err)
	}
	v := created.Version
	if err := e.r.Packs.StorePolicyPackArchive(e.ctx, e.org.ID, name, v, []byte("archive of "+name)); err != nil {
		e.t.Fatal(err)
	}
	if err := e.r.Packs.CompletePolicyPackPublish(e.ctx, e.org.ID, name, v); err != nil {
		e.t.Fatal(err)
	}
	return v
}

func bucketURN(name string) string { return "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::" + name }

func strPtr(s string) *string { return &s }

var t0 = time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)

func at(version int64) time.Time { return t0.Add(time.Duration(version) * time.Hour) }

var cisPolicies = []model.PolicyInput{
	{Name: "s3-encryption", Severity: "high", EnforcementLevel: "mandatory", Message: "Buckets must be encrypted."},
	{Name: "s3-versioning", Severity: "medium", EnforcementLevel: "advisory"},
	{Name: "s3-logging", Severity: "low", EnforcementLevel: "disabled"},
}

// stackEval is a complete evaluation of payments/prod by pack aws-cis: each
// bucket passes the enabled policies except those failing on it.
func stackEval(version int64, tag string, buckets []string, failing map[string][]string) ingest.Evaluation {
	ev := ingest.Evaluation{
		Stack:      &ingest.StackRef{Project: "payments", Name: "prod", Version: version},
		ObservedAt: at(version),
		Complete:   true,
		Packs:      []ingest.EvaluatedPack{{Name: "aws-cis", VersionTag: tag, Policies: cisPolicies}},
	}
	for _, b := range buckets {
		out := ingest.ResourcePackOutcome{Name: "aws-cis"}
		fails := map[string]bool{}
		for _, p := range failing[b] {
			fails[p] = true
			out.Failed = append(out.Failed, p)
			ev.Violations = append(ev.Violations, ingest.Violation{
				PolicyPack: "aws-cis", PolicyName: p, ResourceURN: bucketURN(b), Message: p + " fails on " + b,
			})
		}
		for _, p := range []string{"s3-encryption", "s3-versioning"} {
			if !fails[p] {
				out.Passed = append(out.Passed, p)
			}
		}
		ev.Resources = append(ev.Resources, ingest.EvaluatedResource{URN: bucketURN(b), Packs: []ingest.ResourcePackOutcome{out}})
	}
	return ev
}

func checkSummary(t *testing.T, got *repository.EvaluationSummary, want repository.EvaluationSummary) {
	t.Helper()
	want.EvaluationID = got.EvaluationID
	if *got != want {
		t.Errorf("summary = %+v, want %+v", *got, want)
	}
	if got.EvaluationID == 0 {
		t.Error("no evaluation id")
	}
}

type historyRow struct{ field, old, new string }

func checkHistory(t *testing.T, got []model.HistoryEntry, want []historyRow) {
	t.Helper()
	var rows []historyRow
	for _, h := range got {
		if h.Actor != "evaluation" || h.ActorType != "evaluation" {
			t.Errorf("history actor = %s/%s", h.Actor, h.ActorType)
		}
		row := historyRow{field: h.Field}
		if h.OldValue != nil {
			row.old = *h.OldValue
		}
		if h.NewValue != nil {
			row.new = *h.NewValue
		}
		rows = append(rows, row)
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("history = %+v, want %+v", rows, want)
	}
}

func TestIngestLifecycle(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		buckets := []string{"a", "b", "c"}

		// Open: new violations open issues.
		sum := e.apply(stackEval(1, "1.0.0", buckets, map[string][]string{"a": {"s3-encryption"}, "b": {"s3-versioning"}}))
		checkSummary(t, sum, repository.EvaluationSummary{Opened: 2, ResourcesGoverned: 3})
		enc := e.issue("s3-encryption@a")
		one := int64(1)
		want := model.Issue{
			OrgID: e.org.ID, ID: enc.ID, EntityRef: enc.EntityRef, EntityType: "stack", EntityProject: "payments", EntityID: "prod",
			StackVersion: &one, PolicyPack: "aws-cis", PolicyPackTag: "1.0.0", PolicyName: "s3-encryption",
			ResourceURN: bucketURN("a"), ResourceProvider: "aws", ResourceType: "aws:s3/bucket:Bucket", ResourceName: "a",
			Message: "s3-encryption fails on a", ObservedAt: at(1), LastModified: at(1), Level: "mandatory",
			Severity: "high", SeverityRank: 3, Status: "open", StatusRank: 0, Active: true, Kind: "preventative",
			Priority: "p1", PolicyGroupName: model.DefaultStacksGroup, PolicyGroupType: "preventative", Revision: 1,
			// The dictionary's ids are its own; CheckRollups checks they
			// point at this issue's texts.
			NameRef: enc.NameRef, MessageRef: enc.MessageRef, URNPrefixRef: enc.URNPrefixRef, URNSuffixRef: enc.URNSuffixRef,
		}
		if enc.NameRef == 0 || enc.MessageRef == 0 || enc.URNPrefixRef == 0 || enc.URNSuffixRef == 0 {
			t.Errorf("opened issue has no text dictionary references: %+v", enc)
		}
		enc.ObservedAt, enc.LastModified = enc.ObservedAt.UTC(), enc.LastModified.UTC()
		if !reflect.DeepEqual(enc, want) {
			t.Errorf("opened issue =\n%+v\nwant\n%+v", enc, want)
		}
		if ver := e.issue("s3-versioning@b"); ver.Priority != "p2" || ver.Severity != "medium" || ver.Level != "advisory" {
			t.Errorf("versioning issue = %+v", ver)
		}
		checkHistory(t, e.history(enc.ID), []historyRow{{"status", "", "open"}})

		// Unchanged: reported again, only the version moves.
		sum = e.apply(stackEval(2, "1.0.0", buckets, map[string][]string{"a": {"s3-encryption"}, "b": {"s3-versioning"}}))
		checkSummary(t, sum, repository.EvaluationSummary{Unchanged: 2, ResourcesGoverned: 3})
		enc = e.issue("s3-encryption@a")
		if *enc.StackVersion != 2 || enc.Revision != 1 || !enc.LastModified.Equal(at(1)) || enc.Status != "open" {
			t.Errorf("unchanged issue = %+v", enc)
		}
		checkHistory(t, e.history(enc.ID), []historyRow{{"status", "", "open"}})

		// Idempotent resend: nothing changes.
		before, counts := e.issues(), e.rowCounts()
		sum = e.apply(stackEval(2, "1.0.0", buckets, map[string][]string{"a": {"s3-encryption"}, "b": {"s3-versioning"}}))
		checkSummary(t, sum, repository.EvaluationSummary{Unchanged: 2, ResourcesGoverned: 3})
		if after := e.issues(); !reflect.DeepEqual(before, after) {
			t.Errorf("resend changed issues:\n%+v\n%+v", before, after)
		}
		counts["evaluations"]++ // the audit log records every evaluation received
		if after := e.rowCounts(); !reflect.DeepEqual(counts, after) {
			t.Errorf("resend changed row counts: %v → %v", counts, after)
		}

		// Stale: an older version is rejected and writes nothing.
		counts = e.rowCounts()
		_, err := e.r.ApplyEvaluation(e.ctx, e.org.ID, ingestActor, stackEval(1, "1.0.0", buckets, nil))
		var ce *repository.ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, repository.ErrConflict) {
			t.Fatalf("stale evaluation: got %v, want ConflictError", err)
		}
		t.Logf("stale message: %s", ce.Message)
		if after := e.issues(); !reflect.DeepEqual(before, after) {
			t.Error("stale evaluation changed issues")
		}
		if after := e.rowCounts(); !reflect.DeepEqual(counts, after) {
			t.Errorf("stale evaluation wrote rows: %v → %v", counts, after)
		}

		// A person accepts the versioning risk.
		ver := e.issue("s3-versioning@b")
		if err := e.r.DB().Model(&model.Issue{}).Where("org_id = ? AND id = ?", e.org.ID, ver.ID).
			Updates(map[string]any{"status": "ignored", "status_rank": 3, "active": false}).Error; err != nil {
			t.Fatal(err)
		}

		// Fixed: no longer reported. Ignored kept: reported again.
		sum = e.apply(stackEval(3, "1.0.0", buckets, map[string][]string{"b": {"s3-versioning"}}))
		checkSummary(t, sum, repository.EvaluationSummary{Fixed: 1, Unchanged: 1, ResourcesGoverned: 3})
		enc = e.issue("s3-encryption@a")
		if enc.Status != "fixed" || enc.Active || enc.StatusRank != 4 || enc.Revision != 2 || !enc.LastModified.Equal(at(3)) || *enc.StackVersion != 3 {
			t.Errorf("fixed issue = %+v", enc)
		}
		checkHistory(t, e.history(enc.ID), []historyRow{{"status", "", "open"}, {"status", "open", "fixed"}})
		if ver = e.issue("s3-versioning@b"); ver.Status != "ignored" || ver.Revision != 1 {
			t.Errorf("ignored issue = %+v", ver)
		}

		// Reopened: fixed and reported again. Ignored and no longer
		// reported: fixed.
		sum = e.apply(stackEval(4, "1.0.0", buckets, map[string][]string{"a": {"s3-encryption"}}))
		checkSummary(t, sum, repository.EvaluationSummary{Reopened: 1, Fixed: 1, ResourcesGoverned: 3})
		reopened := e.issue("s3-encryption@a")
		if reopened.ID != enc.ID || reopened.Status != "open" || !reopened.Active || reopened.Revision != 3 || !reopened.ObservedAt.Equal(at(1)) {
			t.Errorf("reopened issue = %+v", reopened)
		}
		checkHistory(t, e.history(enc.ID), []historyRow{{"status", "", "open"}, {"status", "open", "fixed"}, {"status", "fixed", "open"}})
		ver = e.issue("s3-versioning@b")
		if ver.Status != "fixed" {
			t.Errorf("ignored, no longer reported: status %s, want fixed", ver.Status)
		}
		checkHistory(t, e.history(ver.ID), []historyRow{{"status", "", "open"}, {"status", "ignored", "fixed"}})

		// A new pack version keeps the issue and updates its tag (and a new
		// message).
		ev := stackEval(5, "v1.1.0", buckets, map[string][]string{"a": {"s3-encryption"}})
		ev.Violations[0].Message = "Bucket a is not encrypted."
		sum = e.apply(ev)
		checkSummary(t, sum, repository.EvaluationSummary{Unchanged: 1, ResourcesGoverned: 3})
		tagged := e.issue("s3-encryption@a")
		if tagged.ID != enc.ID || tagged.PolicyPackTag != "1.1.0" || tagged.Message != "Bucket a is not encrypted." || tagged.Revision != 4 {
			t.Errorf("issue after pack version change = %+v", tagged)
		}
		checkHistory(t, e.history(enc.ID), []historyRow{{"status", "", "open"}, {"status", "open", "fixed"}, {"status", "fixed", "open"},
			{"message", "s3-encryption fails on a", "Bucket a is not encrypted."}, {"policyPackTag", "1.0.0", "1.1.0"}})
		// The text dictionary follows the change: contains finds the issue
		// by its new message only.
		for needle, want := range map[string]int64{"NOT ENCRYPTED": 1, "s3-encryption fails": 0} {
			q := parseIssueQuery(t, `{"startRow":0,"endRow":10,"filterModel":{"message":`+
				`{"filterType":"text","type":"contains","filter":"`+needle+`"}}}`, issuequery.IssueGridOptions)
			page, err := e.r.Issues.ListIssues(e.ctx, e.org.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			if page.RowCount != want || int64(len(page.Issues)) != want || (want == 1 && page.Issues[0].ID != enc.ID) {
				t.Errorf("message contains %q: %d rows of %d, want %d", needle, len(page.Issues), page.RowCount, want)
			}
		}
		if pe := e.packEvaluation("aws-cis"); pe.PackTag != "1.1.0" || pe.Version != 5 {
			t.Errorf("pack evaluation = %+v", pe)
		}

		// A level change is recorded too.
		ev = stackEval(6, "1.1.0", buckets, map[string][]string{"a": {"s3-encryption"}})
		ev.Violations[0].Message = "Bucket a is not encrypted."
		ev.Violations[0].EnforcementLevel = "advisory"
		e.apply(ev)
		h := e.history(enc.ID)
		if last := h[len(h)-1]; last.Field != "level" || *last.OldValue != "mandatory" || *last.NewValue != "advisory" {
			t.Errorf("level change history = %+v", last)
		}

		var evals []model.EvaluationRecord
		if err := e.r.DB().Where("org_id = ?", e.org.ID).Order("id").Find(&evals).Error; err != nil {
			t.Fatal(err)
		}
		if len(evals) != 7 || evals[0].Opened != 2 || evals[0].Actor != "ci-bot" || evals[0].ActorType != "token" ||
			evals[0].Source != model.SourcePolicyResults || evals[0].Kind != "preventative" {
			t.Errorf("evaluations = %+v", evals)
		}
	})
}

func TestIngestOutcomesAndResources(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		ev := stackEval(1, "1.0.0", []string{"a", "b", "c"}, map[string][]string{"a": {"s3-encryption"}})
		// A resource no policy evaluated, and a stack-level violation of a
		// policy known only from the violation.
		ev.Resources = append(ev.Resources, ingest.EvaluatedResource{URN: "urn:pulumi:prod::payments::pulumi:providers:aws::default"})
		ev.Violations = append(ev.Violations, ingest.Violation{PolicyPack: "aws-cis", PolicyName: "stack-owner", Severity: strPtr("critical")})
		sum := e.apply(ev)
		checkSummary(t, sum, repository.EvaluationSummary{Opened: 2, ResourcesGoverned: 4})

		groups, err := e.r.Groups.ListPolicyGroups(e.ctx, e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		var defID int64
		for _, g := range groups {
			if g.Name == model.DefaultStacksGroup {
				defID = g.ID
			}
		}
		got := e.outcomes()
		want := map[string]model.PolicyOutcome{
			"/aws-cis/s3-encryption": {Severity: "high", EnforcementLevel: "mandatory", Governed: 3},
			"/aws-cis/s3-versioning": {Severity: "medium", EnforcementLevel: "advisory", Governed: 3},
			"/aws-cis/stack-owner":   {Severity: "critical", EnforcementLevel: "advisory", Governed: 1},
		}
		if len(got) != len(want) {
			t.Errorf("outcomes = %+v (the disabled s3-logging must be absent)", got)
		}
		for k, w := range want {
			o := got[k]
			if o.Severity != w.Severity || o.EnforcementLevel != w.EnforcementLevel || o.Governed != w.Governed || o.GroupID == nil || *o.GroupID != defID {
				t.Errorf("outcome %s = %+v, want %+v in group %d", k, o, w, defID)
			}
		}
		pe := e.packEvaluation("aws-cis")
		if pe.Version != 1 || pe.PackTag != "1.0.0" || pe.Kind != "preventative" || pe.Error != nil || pe.GroupID == nil || *pe.GroupID != defID ||
			pe.EvaluationID != sum.EvaluationID || !pe.EvaluatedAt.Equal(at(1)) {
			t.Errorf("pack evaluation = %+v", pe)
		}
		res := e.resources()
		if len(res) != 5 {
			t.Errorf("resources = %+v", res)
		}
		for name, governed := range map[string]bool{"a": true, "b": true, "c": true, "default": false, "payments-prod": true} {
			if r, ok := res[name]; !ok || r.Governed != governed {
				t.Errorf("resource %s = %+v, want governed %v", name, r, governed)
			}
		}
		stack := e.issue("stack-owner@payments-prod")
		if stack.ResourceURN != ingest.StackURN("payments", "prod") || stack.ResourceType != "pulumi:pulumi:Stack" ||
			stack.ResourceProvider != "pulumi" || stack.Priority != "p0" {
			t.Errorf("stack-level issue = %+v", stack)
		}

		// Resource c leaves the inventory: no longer governed. The stack-level
		// policy no longer reports: its issue is fixed.
		sum = e.apply(stackEval(2, "1.0.0", []string{"a", "b"}, map[string][]string{"a": {"s3-encryption"}}))
		checkSummary(t, sum, repository.EvaluationSummary{Unchanged: 1, Fixed: 1, ResourcesGoverned: 2})
		res = e.resources()
		if res["c"].Governed || res["payments-prod"].Governed || !res["a"].Governed {
			t.Errorf("resources after c left = %+v", res)
		}
		if o := e.outcomes(); o["/aws-cis/s3-encryption"].Governed != 2 || len(o) != 2 {
			t.Errorf("outcomes after c left = %+v", o)
		}
		if s := e.issue("stack-owner@payments-prod"); s.Status != "fixed" {
			t.Errorf("stack-level issue = %s, want fixed", s.Status)
		}

		// c comes back: the row it left behind is governed again, not added
		// a second time; the ungoverned default provider stays as it is.
		sum = e.apply(stackEval(3, "1.0.0", []string{"a", "b", "c"}, map[string][]string{"a": {"s3-encryption"}}))
		checkSummary(t, sum, repository.EvaluationSummary{Unchanged: 1, ResourcesGoverned: 3})
		res = e.resources()
		if len(res) != 5 || !res["c"].Governed || res["default"].Governed || res["payments-prod"].Governed {
			t.Errorf("resources after c came back = %+v", res)
		}
		if err := e.r.CheckRollups(e.ctx, e.org.ID); err != nil {
			t.Error(err)
		}
	})
}

func TestIngestInventoryFixesOtherPacks(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		tagPolicy := []model.PolicyInput{{Name: "required-tags", Severity: "low"}}
		ev := stackEval(1, "1.0.0", []string{"c", "d"}, nil)
		ev.Packs = append(ev.Packs, ingest.EvaluatedPack{Name: "tagging", VersionTag: "2.0.0", Policies: tagPolicy})
		for _, name := range []string{"c", "d"} {
			ev.Violations = append(ev.Violations, ingest.Violation{PolicyPack: "tagging", PolicyName: "required-tags", ResourceURN: bucketURN(name)})
		}
		checkSummary(t, e.apply(ev), repository.EvaluationSummary{Opened: 2, ResourcesGoverned: 2})

		// Only aws-cis runs; c is gone from the inventory, d is still there.
		sum := e.apply(stackEval(2, "1.0.0", []string{"d"}, nil))
		checkSummary(t, sum, repository.EvaluationSummary{Fixed: 1, ResourcesGoverned: 1})
		if c := e.issue("required-tags@c"); c.Status != "fixed" {
			t.Errorf("issue of a resource gone from the inventory: %s, want fixed", c.Status)
		}
		if d := e.issue("required-tags@d"); d.Status != "open" {
			t.Errorf("issue of a pack not evaluated on a present resource: %s, want open", d.Status)
		}
		if pe := e.packEvaluation("tagging"); pe.Version != 1 {
			t.Errorf("tagging pack evaluation moved: %+v", pe)
		}
	})
}

func TestIngestPackError(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		e.apply(stackEval(1, "1.0.0", []string{"a"}, map[string][]string{"a": {"s3-encryption"}}))

		ev := stackEval(2, "1.0.0", []string{"a"}, nil)
		ev.Packs[0].Error = "config: s3-encryption.allowedAlgorithms must be a list"
		ev.Resources[0].Packs = nil
		sum := e.apply(ev)
		checkSummary(t, sum, repository.EvaluationSummary{})
		if iss := e.issue("s3-encryption@a"); iss.Status != "open" || *iss.StackVersion != 1 {
			t.Errorf("a pack that could not run must not fix: %+v", iss)
		}
		pe := e.packEvaluation("aws-cis")
		if pe.Error == nil || *pe.Error != ev.Packs[0].Error || pe.Version != 2 {
			t.Errorf("pack evaluation = %+v", pe)
		}
		if o := e.outcomes(); len(o) != 0 {
			t.Errorf("outcomes of a pack that could not run = %+v", o)
		}
		// Violations of a pack that could not run open nothing.
		ev = stackEval(3, "1.0.0", []string{"a"}, map[string][]string{"a": {"s3-versioning"}})
		ev.Packs[0].Error = "crashed"
		checkSummary(t, e.apply(ev), repository.EvaluationSummary{})
		if _, ok := e.issues()["s3-versioning@a"]; ok {
			t.Error("a pack that could not run opened an issue")
		}

		sum = e.apply(stackEval(4, "1.0.0", []string{"a"}, nil))
		checkSummary(t, sum, repository.EvaluationSummary{Fixed: 1, ResourcesGoverned: 1})
		if pe := e.packEvaluation("aws-cis"); pe.Error != nil {
			t.Errorf("error not cleared: %+v", pe)
		}
	})
}

func TestIngestPulumiForm(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		e.publishPack("aws-cis", "1.0.0", cisPolicies...)
		if err := e.r.Groups.UpdatePolicyGroup(e.ctx, e.org.ID, model.DefaultStacksGroup,
			[]groups.Update{{AddPolicyPack: &groups.PackRef{Name: "aws-cis"}}}); err != nil {
			t.Fatal(err)
		}
		pulumi := func(version int64, violations ...ingest.Violation) ingest.Evaluation {
			ev := ingest.Evaluation{Stack: &ingest.StackRef{Project: "payments", Name: "prod", Version: version}, ObservedAt: at(version)}
			seen := map[string]bool{}
			for _, v := range violations {
				if !seen[v.PolicyPack] {
					seen[v.PolicyPack] = true
					ev.Packs = append(ev.Packs, ingest.EvaluatedPack{Name: v.PolicyPack, VersionTag: "1.0.0"})
				}
			}
			ev.Violations = violations
			return ev
		}
		enc := ingest.Violation{PolicyPack: "aws-cis", PolicyName: "s3-encryption", ResourceURN: bucketURN("a"), Message: "not encrypted", EnforcementLevel: "mandatory"}
		ver := ingest.Violation{PolicyPack: "aws-cis", PolicyName: "s3-versioning", ResourceURN: bucketURN("b"), Severity: strPtr("critical")}
		local := ingest.Violation{PolicyPack: "local-pack", PolicyName: "no-public", ResourceURN: bucketURN("a")}
		sum := e.apply(pulumi(1, enc, ver, local))
		checkSummary(t, sum, repository.EvaluationSummary{Opened: 3, ResourcesGoverned: 2})
		if iss := e.issue("s3-encryption@a"); iss.Severity != "high" || iss.Priority != "p1" || iss.Level != "mandatory" {
			t.Errorf("severity from the registered pack: %+v", iss)
		}
		if iss := e.issue("s3-versioning@b"); iss.Severity != "critical" || iss.Priority != "p0" {
			t.Errorf("severity from the violation: %+v", iss)
		}
		if iss := e.issue("no-public@a"); iss.Severity != "" || iss.Priority != "p4" || iss.Level != "advisory" {
			t.Errorf("unregistered pack: %+v", iss)
		}
		o := e.outcomes()
		if len(o) != 3 || o["/aws-cis/s3-encryption"].Governed != 1 || o["/aws-cis/s3-versioning"].Governed != 1 ||
			o["/local-pack/no-public"].Governed != 1 || o["/aws-cis/s3-versioning"].Severity != "critical" {
			t.Errorf("outcomes = %+v", o)
		}
		var rec model.EvaluationRecord
		if err := e.r.DB().Where("org_id = ? AND id = ?", e.org.ID, sum.EvaluationID).Take(&rec).Error; err != nil || rec.Source != model.SourcePulumi {
			t.Errorf("evaluation record = %+v, %v", rec, err)
		}

		// succeeded: false without violations: the group's pack could not
		// run; nothing is fixed.
		ev := pulumi(2)
		ev.Error = "policy pack aws-cis failed to load"
		checkSummary(t, e.apply(ev), repository.EvaluationSummary{})
		if pe := e.packEvaluation("aws-cis"); pe.Error == nil || pe.Version != 2 {
			t.Errorf("pack evaluation = %+v", pe)
		}
		if iss := e.issue("s3-encryption@a"); iss.Status != "open" {
			t.Errorf("failed evaluation fixed an issue: %+v", iss)
		}

		// succeeded: true without violations: the packs applied to the
		// stack's group passed; the local pack was not named and is kept.
		sum = e.apply(pulumi(3))
		checkSummary(t, sum, repository.EvaluationSummary{Fixed: 2})
		if iss := e.issue("s3-encryption@a"); iss.Status != "fixed" {
			t.Errorf("issue = %+v, want fixed", iss)
		}
		if iss := e.issue("no-public@a"); iss.Status != "open" {
			t.Errorf("local pack issue = %+v, want open", iss)
		}
		if o := e.outcomes(); o["/aws-cis/s3-encryption"].Governed != 0 || o["/aws-cis/s3-encryption"].Severity != "high" {
			t.Errorf("outcomes after a clean run = %+v", o)
		}
		// Pulumi's form never ungoverns resources it does not name.
		if r := e.resources(); !r["a"].Governed || !r["b"].Governed {
			t.Errorf("resources = %+v", r)
		}
		checkSummary(t, e.apply(pulumi(4, enc)), repository.EvaluationSummary{Reopened: 1, ResourcesGoverned: 1})
	})
}

func TestIngestAccounts(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		urn := "urn:pulumi:aws-prod::insights::aws:ec2/instance:Instance::i-0abc"
		scan := func(scope string, version int64, violations ...ingest.Violation) ingest.Evaluation {
			return ingest.Evaluation{
				Account: &ingest.AccountRef{Name: "aws-prod", Provider: "aws", Version: version}, Scope: scope,
				ObservedAt: at(version), Packs: []ingest.EvaluatedPack{{Name: "aws-cis", VersionTag: "1.0.0"}}, Violations: violations,
			}
		}
		imds := ingest.Violation{PolicyPack: "aws-cis", PolicyName: "ec2-imdsv2", ResourceURN: urn, Severity: strPtr("low")}
		checkSummary(t, e.apply(scan("i-0abc", 7, imds)), repository.EvaluationSummary{Opened: 1, ResourcesGoverned: 1})
		iss := e.issue("ec2-imdsv2@i-0abc")
		if iss.EntityType != "insights-account" || iss.EntityProject != "aws-prod" || iss.EntityID != "i-0abc" || iss.Scope != "i-0abc" ||
			iss.StackVersion != nil || iss.ResourceVersion == nil || *iss.ResourceVersion != 7 || iss.Kind != "audit" ||
			iss.PolicyGroupName != model.DefaultAccountsGroup || iss.PolicyGroupType != "audit" || iss.ResourceProvider != "aws" {
			t.Errorf("account issue = %+v", iss)
		}
		// Another resource of the account at an older version: its own
		// scope, neither stale nor fixing the first.
		checkSummary(t, e.apply(scan("i-0def", 3)), repository.EvaluationSummary{})
		if iss := e.issue("ec2-imdsv2@i-0abc"); iss.Status != "open" {
			t.Errorf("another scope fixed the issue: %+v", iss)
		}
		if _, err := e.r.ApplyEvaluation(e.ctx, e.org.ID, ingestActor, scan("i-0abc", 6)); !errors.Is(err, repository.ErrConflict) {
			t.Errorf("stale scan: got %v, want ErrConflict", err)
		}
		checkSummary(t, e.apply(scan("i-0abc", 8)), repository.EvaluationSummary{Fixed: 1})
		if g := e.group(model.DefaultAccountsGroup); !reflect.DeepEqual(g.Accounts, []string{"aws-prod"}) {
			t.Errorf("default accounts group = %+v", g.Accounts)
		}
		var ent model.Entity
		if err := e.r.DB().Where("org_id = ? AND type = ?", e.org.ID, "account").Take(&ent).Error; err != nil || ent.Provider != "aws" || ent.Project != "aws-prod" {
			t.Errorf("account entity = %+v, %v", ent, err)
		}
	})
}

func TestIngestGroupAttribution(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		e.publishPack("aws-cis", "1.0.0", cisPolicies...)
		g, err := e.r.Groups.CreatePolicyGroup(e.ctx, e.org.ID, "prod-audit", "stacks", "audit")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.r.Groups.UpdatePolicyGroup(e.ctx, e.org.ID, "prod-audit", []groups.Update{
			{AddStack: &groups.StackMember{Name: "prod", RoutingProject: "payments"}},
			{AddPolicyPack: &groups.PackRef{Name: "aws-cis"}},
		}); err != nil {
			t.Fatal(err)
		}
		ev := stackEval(1, "1.0.0", []string{"a"}, map[string][]string{"a": {"s3-encryption"}})
		ev.Packs = append(ev.Packs, ingest.EvaluatedPack{Name: "other", VersionTag: "1.0.0"})
		ev.Violations = append(ev.Violations, ingest.Violation{PolicyPack: "other", PolicyName: "x", ResourceURN: bucketURN("a")})
		e.apply(ev)
		if iss := e.issue("s3-encryption@a"); iss.PolicyGroupName != "prod-audit" || iss.PolicyGroupType != "audit" || iss.Kind != "audit" {
			t.Errorf("issue of a pack the group applies = %+v", iss)
		}
		if iss := e.issue("x@a"); iss.PolicyGroupName != model.DefaultStacksGroup || iss.Kind != "preventative" {
			t.Errorf("issue of a pack no group applies = %+v", iss)
		}
		if pe := e.packEvaluation("aws-cis"); pe.GroupID == nil || *pe.GroupID != g.ID || pe.Kind != "audit" {
			t.Errorf("pack evaluation = %+v", pe)
		}

		// A named group wins, and an explicit kind wins over the mode; the
		// change of group and kind is recorded.
		ev = stackEval(2, "1.0.0", []string{"a"}, map[string][]string{"a": {"s3-encryption"}})
		ev.PolicyGroup = model.DefaultStacksGroup
		ev.Kind = "preventative"
		e.apply(ev)
		iss := e.issue("s3-encryption@a")
		if iss.PolicyGroupName != model.DefaultStacksGroup || iss.Kind != "preventative" || iss.Revision != 2 {
			t.Errorf("issue under a named group = %+v", iss)
		}
		checkHistory(t, e.history(iss.ID), []historyRow{{"status", "", "open"}, {"kind", "audit", "preventative"},
			{"policyGroupName", "prod-audit", model.DefaultStacksGroup}, {"policyGroupType", "audit", "preventative"}})

		// Renaming a group renames it on its issues.
		e.apply(stackEval(3, "1.0.0", []string{"a"}, map[string][]string{"a": {"s3-encryption"}}))
		if err := e.r.Groups.UpdatePolicyGroup(e.ctx, e.org.ID, "prod-audit", []groups.Update{{NewName: "prod-compliance"}}); err != nil {
			t.Fatal(err)
		}
		if iss := e.issue("s3-encryption@a"); iss.PolicyGroupName != "prod-compliance" {
			t.Errorf("issue after group rename = %+v", iss)
		}
	})
}

func TestIngestValidation(t *testing.T) {
	valid := func() ingest.Evaluation {
		return stackEval(10, "1.0.0", []string{"a", "b"}, map[string][]string{"a": {"s3-encryption"}})
	}
	tests := []struct {
		name  string
		edit  func(ev *ingest.Evaluation)
		field string
	}{
		// The plan's refusals (ingest.TestNewPlanRefuses has them all) are
		// validation errors.
		{"bad project", func(ev *ingest.Evaluation) { ev.Stack.Project = "pay ments" }, "stack.project"},
		{"bad policy severity", func(ev *ingest.Evaluation) {
			ev.Packs[0].Policies = []model.PolicyInput{{Name: "x", Severity: "severe"}}
		}, "policyPacks[0].policies[0].severity"},
		{"unknown severity", func(ev *ingest.Evaluation) { ev.Violations[0].Severity = strPtr("urgent") }, "violations[0].severity"},
		// These two fail in the transaction, after the new entity is
		// created: it must be rolled back.
		{"unknown policy group", func(ev *ingest.Evaluation) { ev.Stack.Name = "new-stack"; ev.PolicyGroup = "nope" }, "policyGroup"},
		{"group of accounts", func(ev *ingest.Evaluation) {
			ev.Stack.Name = "new-stack"
			ev.PolicyGroup = model.DefaultAccountsGroup
		}, "policyGroup"},
	}
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		e.apply(stackEval(1, "1.0.0", []string{"a"}, map[string][]string{"a": {"s3-versioning"}}))
		before, issues := e.rowCounts(), e.issues()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ev := valid()
				tt.edit(&ev)
				_, err := e.r.ApplyEvaluation(e.ctx, e.org.ID, ingestActor, ev)
				var ve *repository.ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.field {
					t.Fatalf("error = %v, want a ValidationError on %s", err, tt.field)
				}
				if after := e.rowCounts(); !reflect.DeepEqual(before, after) {
					t.Errorf("rows written: %v → %v", before, after)
				}
				if after := e.issues(); !reflect.DeepEqual(issues, after) {
					t.Error("issues changed")
				}
			})
		}
	})
}

// sortedKeys lists a map's keys in order, for messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func statuses(issues map[string]model.Issue) string {
	s := ""
	for _, k := range sortedKeys(issues) {
		s += fmt.Sprintf("%s=%s ", k, issues[k].Status)
	}
	return s
}

// BenchmarkApplyEvaluation applies complete evaluations of a 1,000-resource
// stack with 50 violations, five of which move to other resources each time
// (five fixed, five opened or reopened). With history, the stack has first
// had each of its 2,000 (resource, policy) pairs fail and get fixed; with
// gone, ten earlier inventories held 1,000 other resources each: a
// long-lived stack's fixed issues and an account's short-lived resources,
// which its evaluations must not pay for.
func BenchmarkApplyEvaluation(b *testing.B) {
	const resources, violations = 1000, 50
	names := make([]string, resources)
	for i := range names {
		names[i] = fmt.Sprintf("bucket-%04d", i)
	}
	eval := func(version int64) ingest.Evaluation {
		failing := map[string][]string{}
		for i := 0; i < violations; i++ {
			failing[names[(i*17+int(version%10)*5*boolInt(i < 5))%resources]] = []string{"s3-encryption"}
		}
		return stackEval(version, "1.0.0", names, failing)
	}
	// past fails every policy on the version'th slice of 50 resources.
	past := func(version int64) ingest.Evaluation {
		failing := map[string][]string{}
		for _, name := range names[(version-1)*violations : version*violations] {
			failing[name] = []string{"s3-encryption", "s3-versioning"}
		}
		return stackEval(version, "1.0.0", names, failing)
	}
	// gone is an inventory of 1,000 resources no later one holds.
	gone := func(version int64) ingest.Evaluation {
		other := make([]string, resources)
		for i := range other {
			other[i] = fmt.Sprintf("gone-%02d-%04d", version, i)
		}
		return stackEval(version, "1.0.0", other, map[string][]string{other[0]: {"s3-encryption"}})
	}
	cases := []struct {
		name    string
		history int64
		before  func(version int64) ingest.Evaluation
	}{{"", 0, nil}, {"/history", resources / violations, past}, {"/gone", 10, gone}}
	for _, be := range repotest.Backends(b) {
		for _, c := range cases {
			history := c.history
			b.Run(be.Dialect.String()+c.name, func(b *testing.B) {
				ctx := context.Background()
				org, err := be.Repo.Accounts.CreateOrganization(ctx, repotest.UniqueName("bench"))
				if err != nil {
					b.Fatal(err)
				}
				for v := int64(1); v <= history; v++ {
					if _, err := be.Repo.ApplyEvaluation(ctx, org.ID, ingestActor, c.before(v)); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := be.Repo.ApplyEvaluation(ctx, org.ID, ingestActor, eval(history+1)); err != nil {
					b.Fatal(err)
				}
				if be.Dialect == repository.Postgres {
					// What autovacuum does after the setup's writes (the
					// test clusters run without it): without statistics the
					// planner scans the resources for a list of URNs.
					if err := be.Repo.DB().Exec("ANALYZE resources, policy_issues").Error; err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := be.Repo.ApplyEvaluation(ctx, org.ID, ingestActor, eval(history+int64(i)+2)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
