package ingest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

var t0 = time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)

func at(version int64) time.Time { return t0.Add(time.Duration(version) * time.Hour) }

func strPtr(s string) *string { return &s }

func bucketURN(name string) string { return "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::" + name }

var cisPolicies = []model.PolicyInput{
	{Name: "s3-encryption", Severity: "high", EnforcementLevel: "mandatory", Message: "Buckets must be encrypted."},
	{Name: "s3-versioning", Severity: "medium", EnforcementLevel: "advisory"},
	{Name: "s3-logging", Severity: "low", EnforcementLevel: "disabled"},
}

// stackEval is a complete evaluation of payments/prod by pack aws-cis: each
// bucket passes the enabled policies except those failing on it.
func stackEval(version int64, buckets []string, failing map[string][]string) Evaluation {
	ev := Evaluation{
		Stack:      &StackRef{Project: "payments", Name: "prod", Version: version},
		ObservedAt: at(version),
		Complete:   true,
		Packs:      []EvaluatedPack{{Name: "aws-cis", VersionTag: "1.0.0", Policies: cisPolicies}},
	}
	for _, b := range buckets {
		out := ResourcePackOutcome{Name: "aws-cis"}
		fails := map[string]bool{}
		for _, p := range failing[b] {
			fails[p] = true
			out.Failed = append(out.Failed, p)
			ev.Violations = append(ev.Violations, Violation{PolicyPack: "aws-cis", PolicyName: p, ResourceURN: bucketURN(b)})
		}
		for _, p := range []string{"s3-encryption", "s3-versioning"} {
			if !fails[p] {
				out.Passed = append(out.Passed, p)
			}
		}
		ev.Resources = append(ev.Resources, EvaluatedResource{URN: bucketURN(b), Packs: []ResourcePackOutcome{out}})
	}
	return ev
}

// mustPlan plans ev with the groups given.
func mustPlan(t *testing.T, ev Evaluation, groups ...*Group) *Plan {
	t.Helper()
	p, err := NewPlan(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AttributeGroups(groups); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewPlanRefuses(t *testing.T) {
	valid := func() Evaluation {
		return stackEval(10, []string{"a", "b"}, map[string][]string{"a": {"s3-encryption"}})
	}
	tests := []struct {
		name  string
		edit  func(ev *Evaluation)
		field string
	}{
		{"no entity", func(ev *Evaluation) { ev.Stack = nil }, "stack"},
		{"stack and account", func(ev *Evaluation) { ev.Account = &AccountRef{Name: "x"} }, "stack"},
		{"bad project", func(ev *Evaluation) { ev.Stack.Project = "pay ments" }, "stack.project"},
		{"negative stack version", func(ev *Evaluation) { ev.Stack.Version = -1 }, "stack.version"},
		{"negative account version", func(ev *Evaluation) {
			ev.Stack, ev.Account = nil, &AccountRef{Name: "aws-prod", Version: -2}
		}, "account.version"},
		{"scope on a stack", func(ev *Evaluation) { ev.Scope = "i-1" }, "scope"},
		{"unknown kind", func(ev *Evaluation) { ev.Kind = "detective" }, "kind"},
		{"bad group name", func(ev *Evaluation) { ev.PolicyGroup = "-x" }, "policyGroup"},
		{"NUL in the error", func(ev *Evaluation) { ev.Error = "a\x00b" }, "error"},
		{"no packs", func(ev *Evaluation) { ev.Packs, ev.Resources, ev.Violations = nil, nil, nil }, "policyPacks"},
		{"pack twice", func(ev *Evaluation) { ev.Packs = append(ev.Packs, ev.Packs[0]) }, "policyPacks[1].name"},
		{"bad pack name", func(ev *Evaluation) { ev.Packs[0].Name = "aws cis" }, "policyPacks[0].name"},
		{"bad version tag", func(ev *Evaluation) { ev.Packs[0].VersionTag = "1 0" }, "policyPacks[0].versionTag"},
		{"bad policy severity", func(ev *Evaluation) {
			ev.Packs[0].Policies = []model.PolicyInput{{Name: "x", Severity: "severe"}}
		}, "policyPacks[0].policies[0].severity"},
		{"policy twice", func(ev *Evaluation) {
			ev.Packs[0].Policies = []model.PolicyInput{{Name: "x"}, {Name: "x"}}
		}, "policyPacks[0].policies[1].name"},
		{"malformed resource URN", func(ev *Evaluation) { ev.Resources[1].URN = "arn:aws:s3:::b" }, "resources[1].urn"},
		{"resource URN without type package", func(ev *Evaluation) {
			ev.Resources[0].URN = "urn:pulumi:prod::payments::Bucket::a"
		}, "resources[0].urn"},
		{"negative resource version", func(ev *Evaluation) { v := int64(-1); ev.Resources[0].Version = &v }, "resources[0].version"},
		{"resource outcome of a pack not listed", func(ev *Evaluation) { ev.Resources[1].Packs[0].Name = "other" }, "resources[1].policyPacks[0].name"},
		{"bad passed policy name", func(ev *Evaluation) { ev.Resources[1].Packs[0].Passed = []string{"ok", ""} }, "resources[1].policyPacks[0].passed[1]"},
		{"violation of a pack not listed", func(ev *Evaluation) {
			ev.Violations = append(ev.Violations, Violation{PolicyPack: "other", PolicyName: "x"})
		}, "violations[1].policyPack"},
		{"violation without policy", func(ev *Evaluation) { ev.Violations[0].PolicyName = "" }, "violations[0].policyName"},
		{"malformed violation URN", func(ev *Evaluation) {
			ev.Violations[0].ResourceURN = "urn:pulumi:prod::payments::aws:s3/bucket:Bucket"
		}, "violations[0].resourceURN"},
		{"unknown level", func(ev *Evaluation) { ev.Violations[0].EnforcementLevel = "warning" }, "violations[0].enforcementLevel"},
		{"unknown severity", func(ev *Evaluation) { ev.Violations[0].Severity = strPtr("urgent") }, "violations[0].severity"},
		{"pulumi form: malformed URN", func(ev *Evaluation) {
			ev.Complete, ev.Resources = false, nil
			ev.Violations[0].ResourceURN = "urn:pulumi:prod"
		}, "violations[0].resourceURN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := valid()
			tt.edit(&ev)
			p, err := NewPlan(&ev)
			var fe *policy.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || p != nil {
				t.Fatalf("NewPlan = %v, %v; want a FieldError on %s", p, err, tt.field)
			}
		})
	}
	if _, err := NewPlan(new(valid())); err != nil {
		t.Fatalf("the valid evaluation: %v", err)
	}
}

func TestNewPlanNormalises(t *testing.T) {
	ev := stackEval(3, []string{"a"}, map[string][]string{"a": {"s3-encryption"}})
	ev.Packs[0].VersionTag = " v1.2.0 "
	ev.ObservedAt = time.Date(2025, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))
	// The same violation twice, and a resource listed twice, are one.
	ev.Violations = append(ev.Violations, Violation{PolicyPack: "aws-cis", PolicyName: "s3-encryption", ResourceURN: bucketURN("a"), Message: "later"})
	ev.Resources = append(ev.Resources, EvaluatedResource{URN: bucketURN("a"), Name: "renamed"})
	// A violation without a URN is the stack's.
	ev.Violations = append(ev.Violations, Violation{PolicyPack: "aws-cis", PolicyName: "s3-versioning"})
	p, err := NewPlan(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if p.packs[0].tag != "1.2.0" {
		t.Errorf("tag = %q, want 1.2.0", p.packs[0].tag)
	}
	if want := time.Date(2025, 1, 2, 2, 4, 5, 6000, time.UTC); !p.ObservedAt.Equal(want) || p.ObservedAt.Location() != time.UTC {
		t.Errorf("ObservedAt = %v, want %v", p.ObservedAt, want)
	}
	want := [][3]string{
		{"aws-cis", "s3-encryption", bucketURN("a")},
		{"aws-cis", "s3-versioning", StackURN("payments", "prod")},
	}
	if got := p.ReportedKeys(); !reflect.DeepEqual(got, want) {
		t.Errorf("ReportedKeys = %v, want %v", got, want)
	}
	if got := p.ResourceURNs(); !reflect.DeepEqual(got, []string{bucketURN("a"), StackURN("payments", "prod")}) {
		t.Errorf("ResourceURNs = %v", got)
	}
	if r := p.resources[bucketURN("a")]; r.name != "renamed" || r.typ != "aws:s3/bucket:Bucket" || r.provider != "aws" {
		t.Errorf("resource a = %+v", r)
	}
	if p.EntityType != model.EntityStack || p.Project != "payments" || p.Name != "prod" || p.Version != 3 {
		t.Errorf("entity = %s %s/%s@%d", p.EntityType, p.Project, p.Name, p.Version)
	}
}

func TestAttributeGroups(t *testing.T) {
	pinned := 2
	def := &Group{ID: 1, Name: "default-stacks", EntityType: model.GroupStacks, Mode: model.ModeAudit, IsDefault: true, Packs: map[string]*int{}}
	accounts := &Group{ID: 2, Name: "default-accounts", EntityType: model.GroupAccounts, Mode: model.ModeAudit, IsDefault: true, Packs: map[string]*int{}}
	prod := &Group{ID: 3, Name: "prod", EntityType: model.GroupStacks, Mode: model.ModePreventative, Member: true,
		Packs: map[string]*int{"aws-cis": &pinned, "tagging": nil}}
	ev := func() Evaluation { return stackEval(1, []string{"a"}, map[string][]string{"a": {"s3-encryption"}}) }

	t.Run("the member group applying the pack", func(t *testing.T) {
		p := mustPlan(t, ev(), prod, def, accounts)
		if pk := p.packs[0]; pk.group != prod || pk.kind != model.ModePreventative {
			t.Errorf("group %v, kind %s", pk.group, pk.kind)
		}
		if got := p.PackNames(); !reflect.DeepEqual(got, []string{"aws-cis"}) {
			t.Errorf("complete form packs = %v, want only those listed", got)
		}
	})
	t.Run("else the default group", func(t *testing.T) {
		p := mustPlan(t, ev(), def, accounts)
		if pk := p.packs[0]; pk.group != def || pk.kind != model.ModeAudit || p.Kind() != model.ModeAudit {
			t.Errorf("group %v, kind %s", pk.group, pk.kind)
		}
	})
	t.Run("no group: the entity type's mode", func(t *testing.T) {
		p := mustPlan(t, ev())
		if pk := p.packs[0]; pk.group != nil || pk.kind != model.ModePreventative {
			t.Errorf("group %v, kind %s", pk.group, pk.kind)
		}
	})
	t.Run("the evaluation's kind wins", func(t *testing.T) {
		e := ev()
		e.Kind = model.ModeAudit
		if p := mustPlan(t, e, prod, def); p.packs[0].kind != model.ModeAudit || p.packs[0].group != prod {
			t.Errorf("kind %s", p.packs[0].kind)
		}
	})
	t.Run("the named group", func(t *testing.T) {
		e := ev()
		e.PolicyGroup = "default-stacks"
		if p := mustPlan(t, e, prod, def); p.packs[0].group != def {
			t.Errorf("group %v", p.packs[0].group)
		}
		for name, groups := range map[string][]*Group{"nope": {prod, def}, "default-accounts": {prod, def, accounts}} {
			e.PolicyGroup = name
			p, err := NewPlan(&e)
			if err != nil {
				t.Fatal(err)
			}
			var fe *policy.FieldError
			if err := p.AttributeGroups(groups); !errors.As(err, &fe) || fe.Field != "policyGroup" {
				t.Errorf("group %s: %v, want a FieldError on policyGroup", name, err)
			}
		}
	})
	t.Run("pulumi form adds the groups' packs, and the evaluation's error", func(t *testing.T) {
		e := ev()
		e.Complete, e.Resources, e.Error = false, nil, " crashed "
		p := mustPlan(t, e, prod, def)
		if got := p.PackNames(); !reflect.DeepEqual(got, []string{"aws-cis", "tagging"}) {
			t.Fatalf("packs = %v", got)
		}
		for _, pk := range p.packs {
			if pk.err != "crashed" || pk.group != prod {
				t.Errorf("pack %s: err %q, group %v", pk.name, pk.err, pk.group)
			}
		}
		if !p.Evaluates("tagging") || p.Evaluates("other") {
			t.Error("Evaluates")
		}
		if p.Source() != model.SourcePulumi {
			t.Errorf("Source = %s", p.Source())
		}
	})
}

func TestSelectVersions(t *testing.T) {
	pinned := 1
	group := &Group{ID: 3, Name: "prod", EntityType: model.GroupStacks, Member: true, Packs: map[string]*int{"pinned": &pinned}}
	e := stackEval(1, nil, nil)
	e.Packs = []EvaluatedPack{{Name: "aws-cis", VersionTag: "v1.0.0"}, {Name: "latest"}, {Name: "pinned"}, {Name: "unknown", VersionTag: "9.9.9"}}
	p := mustPlan(t, e, group)
	// Ordered by name, published first, newest first.
	ids := p.SelectVersions([]PackVersion{
		{ID: 10, Name: "aws-cis", Version: 2, VersionTag: "2.0.0", Published: true},
		{ID: 11, Name: "aws-cis", Version: 1, VersionTag: "1.0.0", Published: true},
		{ID: 20, Name: "latest", Version: 3, VersionTag: "3.0.0", Published: true},
		{ID: 21, Name: "latest", Version: 2, VersionTag: "2.0.0", Published: true},
		{ID: 22, Name: "latest", Version: 4, VersionTag: "4.0.0", Published: false},
		{ID: 30, Name: "pinned", Version: 2, VersionTag: "2.0.0", Published: true},
		{ID: 31, Name: "pinned", Version: 1, VersionTag: "1.0.0", Published: true},
		{ID: 40, Name: "unknown", Version: 1, VersionTag: "1.0.0", Published: true},
	})
	got := map[int64]string{}
	for _, id := range ids {
		got[id] = p.versionPack[id].name
	}
	if want := map[int64]string{11: "aws-cis", 20: "latest", 31: "pinned"}; !reflect.DeepEqual(got, want) {
		t.Errorf("chosen %v, want %v", got, want)
	}
	for name, tag := range map[string]string{"aws-cis": "1.0.0", "latest": "3.0.0", "pinned": "1.0.0", "unknown": "9.9.9"} {
		if pk := p.packByName[name]; pk.tag != tag {
			t.Errorf("%s tag = %q, want %q", name, pk.tag, tag)
		}
	}
	p.AddRegistered([]model.Policy{{VersionID: 20, Name: "x", Severity: "critical", EnforcementLevel: "mandatory", Message: "registered"}})
	pk := p.packByName["latest"]
	if pk.severity("x", "") != "critical" || pk.level("x", "") != "mandatory" || pk.message("x", "") != "registered" {
		t.Errorf("registered metadata not used: %s %s %s", pk.severity("x", ""), pk.level("x", ""), pk.message("x", ""))
	}
	if pk.severity("x", "low") != "low" || pk.level("y", "") != policy.LevelAdvisory || pk.message("y", "") != "" {
		t.Error("precedence: the violation's first, advisory by default")
	}
}

func TestOutcomes(t *testing.T) {
	ev := stackEval(4, []string{"a", "b", "c"}, map[string][]string{"a": {"s3-encryption"}})
	ev.Resources[2].Packs = nil // listed without outcomes: not governed
	p := mustPlan(t, ev, &Group{ID: 7, Name: "d", EntityType: model.GroupStacks, IsDefault: true, Packs: map[string]*int{}})
	outcomes, governed := p.Outcomes(1, 2)
	got := map[string]model.PolicyOutcome{}
	for _, o := range outcomes {
		got[o.PolicyName] = o
	}
	if len(outcomes) != 2 || got["s3-encryption"].Governed != 2 || got["s3-versioning"].Governed != 2 ||
		got["s3-encryption"].Severity != "high" || *got["s3-encryption"].GroupID != 7 {
		t.Errorf("outcomes = %+v (s3-logging is disabled: none)", outcomes)
	}
	if !reflect.DeepEqual(governed, map[string]bool{bucketURN("a"): true, bucketURN("b"): true}) {
		t.Errorf("governed = %v", governed)
	}
	rows := p.PackEvaluations(1, 2, 99)
	if len(rows) != 1 || rows[0].EvaluationID != 99 || rows[0].PackTag != "1.0.0" || rows[0].Version != 4 || *rows[0].GroupID != 7 || rows[0].Error != nil {
		t.Errorf("pack evaluations = %+v", rows)
	}

	now := at(5)
	existing := map[string]model.Resource{
		bucketURN("a"): {URN: bucketURN("a"), Type: "aws:s3/bucket:Bucket", Provider: "aws", Name: "a", Governed: true, Version: 1},
		bucketURN("c"): {URN: bucketURN("c"), Type: "aws:s3/bucket:Bucket", Provider: "aws", Name: "c", Governed: true, Version: 1},
	}
	upserts, changed := p.ResourceChanges(1, 2, governed, existing, now)
	urns := []string{}
	for _, r := range upserts {
		urns = append(urns, r.URN)
		if r.Version != 4 || !r.UpdatedAt.Equal(now) {
			t.Errorf("%s: version %d, updated %v", r.URN, r.Version, r.UpdatedAt)
		}
	}
	// a is unchanged; b is new and governed; c stops being governed.
	if !reflect.DeepEqual(urns, []string{bucketURN("b"), bucketURN("c")}) || !changed {
		t.Errorf("upserts %v, changed %v", urns, changed)
	}
	if !p.Reports(bucketURN("c")) || p.Reports(bucketURN("z")) {
		t.Error("Reports")
	}
}

func TestKnownTexts(t *testing.T) {
	ev := stackEval(1, []string{"a", "b"}, map[string][]string{"a": {"s3-encryption"}, "b": {"s3-versioning"}})
	p := mustPlan(t, ev)
	var got [][3]string
	p.KnownTexts(func(name, urn, message string) { got = append(got, [3]string{name, urn, message}) })
	// s3-versioning has no message in the evaluation: the registry may give one.
	want := [][3]string{{"a", bucketURN("a"), "Buckets must be encrypted."}, {"b", bucketURN("b"), ""}}
	if !reflect.DeepEqual(got, want) || p.Violations() != 2 {
		t.Errorf("KnownTexts = %v, want %v", got, want)
	}
}
