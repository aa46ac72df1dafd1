package repository_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/repotest"
)

// iqBase is the first observation of the fixed data set.
var iqBase = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

const iqCount = 30

type iqFixture struct {
	r      *repository.Repository
	org    int64
	issues []model.Issue
}

// iqSeed creates an organisation with a fixed set of issues that vary every
// column. Issues 2k and 2k+1 share severity and observedAt, so only the id
// orders them.
// issueFilter parses a filter model on the issues, as the handlers do.
func issueFilter(tb testing.TB, model string) grid.Node {
	tb.Helper()
	n, err := grid.ParseFilter(grid.FilterModel(model), issuequery.IssueSchema)
	if err != nil {
		tb.Fatalf("filter %s: %v", model, err)
	}
	return n
}

func iqSeed(t *testing.T, b *repotest.Backend) *iqFixture {
	t.Helper()
	ctx := context.Background()
	r := b.Repo
	org, err := r.Accounts.CreateOrganization(ctx, repotest.UniqueName("iq"))
	if err != nil {
		t.Fatal(err)
	}
	entities := []model.Entity{
		{OrgID: org.ID, Type: model.EntityStack, Project: "payments", Name: "prod"},
		{OrgID: org.ID, Type: model.EntityStack, Project: "Payments-EU", Name: "dev"},
		{OrgID: org.ID, Type: model.EntityAccount, Project: "aws-main"},
	}
	if err := r.DB().WithContext(ctx).Create(&entities).Error; err != nil {
		t.Fatal(err)
	}
	sevs := []string{"critical", "high", "medium", "low", ""}
	statuses := []string{policy.StatusOpen, policy.StatusInProgress, policy.StatusByDesign, policy.StatusIgnored, policy.StatusFixed}
	policies := []string{"s3-bucket-encryption", "S3_Public_Read", "iam-mfa", "Pod-No-Root", "tag_100%"}
	issues := make([]model.Issue, iqCount)
	for i := range issues {
		e := entities[i%3]
		pair := i / 2
		sev := sevs[pair%5]
		status := statuses[(i*3)%5]
		observed := iqBase.Add(time.Duration(pair) * 7 * time.Hour)
		is := model.Issue{
			OrgID:            org.ID,
			ID:               uuid.NewString(),
			EntityRef:        e.ID,
			EntityType:       "stack",
			EntityProject:    e.Project,
			EntityID:         e.Name,
			PolicyPack:       []string{"aws-cis", "k8s-best"}[i%2],
			PolicyPackTag:    []string{"1.0.0", "2.1.0"}[(i/3)%2],
			PolicyName:       policies[i%5],
			ResourceURN:      fmt.Sprintf("urn:pulumi:prod::payments::aws:s3/bucket:Bucket::res-%02d", i),
			ResourceProvider: []string{"aws", "kubernetes"}[i%2],
			ResourceType:     []string{"aws:s3/bucket:Bucket", "kubernetes:core/v1:Pod"}[i%2],
			ResourceName:     fmt.Sprintf("res-%02d", i),
			Message:          fmt.Sprintf("Policy violated on resource %d", i),
			ObservedAt:       observed,
			LastModified:     observed.Add(time.Duration(i) * time.Minute),
			Level:            []string{"advisory", "mandatory", "remediate"}[i%3],
			Severity:         sev,
			SeverityRank:     policy.SeverityRank(sev),
			Status:           status,
			StatusRank:       policy.StatusRank(status),
			Active:           policy.IsActive(status),
			Kind:             []string{model.ModePreventative, model.ModeAudit}[i%2],
			Priority:         policy.PriorityForSeverity(sev),
			PolicyGroupName:  []string{"Prod Group", "default-policy-group", "default-policy-group"}[i%3],
			PolicyGroupType:  []string{model.ModeAudit, model.ModePreventative}[pair%2],
		}
		if e.Type == model.EntityAccount {
			is.EntityType, is.EntityID = "insights-account", "acct-123456"
			v := int64(i % 5)
			is.ResourceVersion = &v
		} else {
			v := int64(i%4 + 1)
			is.StackVersion = &v
		}
		switch i {
		case 13:
			is.ResourceName = "50%_off-13"
		case 14:
			is.ResourceName = "50x-off-14"
		}
		if i%6 == 0 {
			is.Message = ""
		}
		if i%7 == 0 {
			is.Priority = "p0"
		}
		switch i % 4 {
		case 0:
			is.AssigneeLogin, is.AssigneeEmail = "alice", "alice@example.com"
			if i%8 == 0 {
				// Triaged before alice changed her email.
				is.AssigneeEmail = "alice@old.example.com"
			}
		case 1:
			is.AssigneeLogin, is.AssigneeEmail = "bob", "Bob@Example.com"
		}
		issues[i] = is
	}
	if err := r.DB().WithContext(ctx).Create(&issues).Error; err != nil {
		t.Fatal(err)
	}
	// The issues were written around the repository: count them into the
	// rollups the queries read.
	if err := r.RebuildRollups(ctx, org.ID); err != nil {
		t.Fatal(err)
	}
	return &iqFixture{r: r, org: org.ID, issues: issues}
}

// parseIssueQuery decodes and parses a grid request body on the issues.
func parseIssueQuery(tb testing.TB, body string, opts grid.Options) *grid.Query {
	tb.Helper()
	req, err := grid.DecodeRequest([]byte(body))
	if err != nil {
		tb.Fatal(err)
	}
	q, err := grid.Parse(req, issuequery.IssueSchema, opts)
	if err != nil {
		tb.Fatalf("parse %s: %v", body, err)
	}
	return q
}

func (f *iqFixture) list(t *testing.T, body string) *issuequery.IssuePage {
	t.Helper()
	page, err := f.r.Issues.ListIssues(context.Background(), f.org, parseIssueQuery(t, body, issuequery.IssueGridOptions))
	if err != nil {
		t.Fatalf("ListIssues %s: %v", body, err)
	}
	return page
}

func iqNames(issues []model.Issue) []string {
	out := make([]string, len(issues))
	for i, is := range issues {
		out[i] = is.ResourceName
	}
	return out
}

// iqSort is one key of an expected order.
type iqSort struct {
	cmp  func(a, b *model.Issue) int
	desc bool
}

var (
	iqBySeverity = func(a, b *model.Issue) int {
		return cmp.Compare(policy.SeverityRank(a.Severity), policy.SeverityRank(b.Severity))
	}
	iqByStatus = func(a, b *model.Issue) int {
		return cmp.Compare(policy.StatusRank(a.Status), policy.StatusRank(b.Status))
	}
	iqByObserved   = func(a, b *model.Issue) int { return a.ObservedAt.Compare(b.ObservedAt) }
	iqByPriority   = func(a, b *model.Issue) int { return cmp.Compare(a.Priority, b.Priority) }
	iqByPolicyName = func(a, b *model.Issue) int { return cmp.Compare(a.PolicyName, b.PolicyName) }
	iqByAssignee   = func(a, b *model.Issue) int { return cmp.Compare(a.AssigneeLogin, b.AssigneeLogin) }
	iqByStack      = func(a, b *model.Issue) int {
		switch {
		case a.StackVersion == nil && b.StackVersion == nil:
			return 0
		case a.StackVersion == nil:
			return -1
		case b.StackVersion == nil:
			return 1
		}
		return cmp.Compare(*a.StackVersion, *b.StackVersion)
	}
	iqDefault = []iqSort{{iqBySeverity, true}, {iqByObserved, true}}
)

// iqExpect filters and orders the fixture in Go: the answer the database
// must give. Ties break on id in the direction of the last key.
func (f *iqFixture) expect(match func(*model.Issue) bool, keys []iqSort) []string {
	var rows []model.Issue
	for i := range f.issues {
		if match == nil || match(&f.issues[i]) {
			rows = append(rows, f.issues[i])
		}
	}
	tieDesc := keys[len(keys)-1].desc
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		for _, k := range keys {
			c := k.cmp(a, b)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		if tieDesc {
			return a.ID > b.ID
		}
		return a.ID < b.ID
	})
	return iqNames(rows)
}

func lower(s string) string { return strings.ToLower(s) }

func TestListIssuesFilters(t *testing.T) {
	day := func(d int) time.Time { return iqBase.AddDate(0, 0, d-1) }
	tests := []struct {
		name  string
		model string
		match func(*model.Issue) bool
	}{
		{"no filter", `null`, nil},
		{"empty filter", `{}`, nil},
		{"text equals is case-insensitive", `{"colId":"policyName","filterType":"text","type":"equals","filter":"S3-BUCKET-encryption"}`,
			func(i *model.Issue) bool { return i.PolicyName == "s3-bucket-encryption" }},
		{"policy and group equals under OR", `{"type":"OR","conditions":[{"colId":"policyName","type":"equals","filter":"IAM-mfa"},
			{"colId":"policyGroupName","type":"equals","filter":"PROD GROUP"}]}`,
			func(i *model.Issue) bool { return i.PolicyName == "iam-mfa" || i.PolicyGroupName == "Prod Group" }},
		{"equals a policy no issue has, under OR", `{"type":"OR","conditions":[{"colId":"policyName","type":"equals","filter":"no-such-policy"},
			{"colId":"status","type":"equals","filter":"open"}]}`,
			func(i *model.Issue) bool { return i.Status == "open" }},
		{"text notEqual", `{"colId":"policyName","type":"notEqual","filter":"iam-MFA"}`,
			func(i *model.Issue) bool { return i.PolicyName != "iam-mfa" }},
		{"text contains", `{"colId":"policyName","type":"contains","filter":"s3"}`,
			func(i *model.Issue) bool { return strings.Contains(lower(i.PolicyName), "s3") }},
		{"text contains escapes wildcards", `{"colId":"resourceName","type":"contains","filter":"0%_"}`,
			func(i *model.Issue) bool { return strings.Contains(i.ResourceName, "0%_") }},
		{"text contains underscore literally", `{"colId":"policyName","type":"contains","filter":"_"}`,
			func(i *model.Issue) bool { return strings.Contains(i.PolicyName, "_") }},
		{"text notContains", `{"colId":"policyName","type":"notContains","filter":"S3"}`,
			func(i *model.Issue) bool { return !strings.Contains(lower(i.PolicyName), "s3") }},
		{"text startsWith", `{"colId":"entityProject","type":"startsWith","filter":"payments"}`,
			func(i *model.Issue) bool { return strings.HasPrefix(lower(i.EntityProject), "payments") }},
		{"text endsWith", `{"colId":"policyName","type":"endsWith","filter":"100%"}`,
			func(i *model.Issue) bool { return strings.HasSuffix(i.PolicyName, "100%") }},
		{"text blank", `{"colId":"message","type":"blank"}`, func(i *model.Issue) bool { return i.Message == "" }},
		{"text notBlank", `{"colId":"message","type":"notBlank"}`, func(i *model.Issue) bool { return i.Message != "" }},
		{"text level", `{"colId":"level","type":"equals","filter":"MANDATORY"}`, func(i *model.Issue) bool { return i.Level == "mandatory" }},
		{"policyPack equals is case-insensitive", `{"policyPack":{"filterType":"text","type":"equals","filter":"AWS-CIS"}}`,
			func(i *model.Issue) bool { return i.PolicyPack == "aws-cis" }},
		{"severity notEqual", `{"colId":"severity","type":"notEqual","filter":"LOW"}`,
			func(i *model.Issue) bool { return i.Severity != "low" }},
		{"resourceURN contains", `{"colId":"resourceURN","type":"contains","filter":"::RES-1"}`,
			func(i *model.Issue) bool { return strings.Contains(i.ResourceURN, "::res-1") }},
		{"text set is exact", `{"colId":"policyName","filterType":"set","values":["iam-mfa","pod-no-root"]}`,
			func(i *model.Issue) bool { return i.PolicyName == "iam-mfa" }},

		{"enum equals", `{"colId":"status","filterType":"text","type":"equals","filter":"OPEN"}`,
			func(i *model.Issue) bool { return i.Status == "open" }},
		{"enum notEqual", `{"colId":"status","type":"notEqual","filter":"fixed"}`, func(i *model.Issue) bool { return i.Status != "fixed" }},
		{"enum contains", `{"colId":"status","type":"contains","filter":"_"}`,
			func(i *model.Issue) bool { return i.Status == "in_progress" || i.Status == "by_design" }},
		{"enum set with blank", `{"colId":"severity","filterType":"set","values":["critical",null]}`,
			func(i *model.Issue) bool { return i.Severity == "critical" || i.Severity == "" }},
		{"enum isNoneOf", `{"colId":"severity","filterType":"set","type":"isNoneOf","values":["critical","HIGH"]}`,
			func(i *model.Issue) bool { return i.Severity != "critical" && i.Severity != "high" }},
		{"enum blank", `{"colId":"severity","type":"blank"}`, func(i *model.Issue) bool { return i.Severity == "" }},
		{"entityType", `{"colId":"entityType","type":"equals","filter":"insights-account"}`,
			func(i *model.Issue) bool { return i.EntityType == "insights-account" }},
		{"kind and policyGroupType", `{"type":"AND","conditions":[{"colId":"kind","type":"equals","filter":"audit"},{"colId":"policyGroupType","type":"equals","filter":"preventative"}]}`,
			func(i *model.Issue) bool { return i.Kind == "audit" && i.PolicyGroupType == "preventative" }},
		{"priority set", `{"colId":"priority","filterType":"set","values":["p0","p1"]}`,
			func(i *model.Issue) bool { return i.Priority == "p0" || i.Priority == "p1" }},

		{"number equals", `{"colId":"stackVersion","filterType":"number","type":"equals","filter":2}`,
			func(i *model.Issue) bool { return i.StackVersion != nil && *i.StackVersion == 2 }},
		{"number notEqual excludes blanks", `{"colId":"stackVersion","type":"notEqual","filter":"2"}`,
			func(i *model.Issue) bool { return i.StackVersion != nil && *i.StackVersion != 2 }},
		{"number lessThan decimal", `{"colId":"stackVersion","type":"lessThan","filter":2.5}`,
			func(i *model.Issue) bool { return i.StackVersion != nil && *i.StackVersion < 3 }},
		{"number lessThanOrEqual", `{"colId":"stackVersion","type":"lessThanOrEqual","filter":2}`,
			func(i *model.Issue) bool { return i.StackVersion != nil && *i.StackVersion <= 2 }},
		{"number greaterThan", `{"colId":"stackVersion","type":"greaterThan","filter":2}`,
			func(i *model.Issue) bool { return i.StackVersion != nil && *i.StackVersion > 2 }},
		{"number greaterThanOrEqual", `{"colId":"resourceVersion","type":"greaterThanOrEqual","filter":3}`,
			func(i *model.Issue) bool { return i.ResourceVersion != nil && *i.ResourceVersion >= 3 }},
		{"number inRange is inclusive", `{"colId":"stackVersion","type":"inRange","filter":2,"filterTo":3}`,
			func(i *model.Issue) bool {
				return i.StackVersion != nil && *i.StackVersion >= 2 && *i.StackVersion <= 3
			}},
		{"number blank", `{"colId":"stackVersion","type":"blank"}`, func(i *model.Issue) bool { return i.StackVersion == nil }},
		{"number notBlank", `{"colId":"stackVersion","type":"notBlank"}`, func(i *model.Issue) bool { return i.StackVersion != nil }},
		{"number isNoneOf keeps blanks", `{"colId":"stackVersion","type":"isNoneOf","values":[1,2]}`,
			func(i *model.Issue) bool { return i.StackVersion == nil || *i.StackVersion > 2 }},
		{"number set", `{"colId":"resourceVersion","filterType":"set","values":["0","4"]}`,
			func(i *model.Issue) bool {
				return i.ResourceVersion != nil && (*i.ResourceVersion == 0 || *i.ResourceVersion == 4)
			}},

		{"date equals a day", `{"colId":"observedAt","filterType":"date","type":"equals","dateFrom":"2024-03-02 00:00:00","dateTo":null}`,
			func(i *model.Issue) bool { return !i.ObservedAt.Before(day(2)) && i.ObservedAt.Before(day(3)) }},
		{"date notEqual a day", `{"colId":"observedAt","type":"notEqual","filter":"2024-03-02"}`,
			func(i *model.Issue) bool { return i.ObservedAt.Before(day(2)) || !i.ObservedAt.Before(day(3)) }},
		{"date lessThan a day", `{"colId":"observedAt","type":"lessThan","dateFrom":"2024-03-02"}`,
			func(i *model.Issue) bool { return i.ObservedAt.Before(day(2)) }},
		{"date lessThanOrEqual a day", `{"colId":"observedAt","type":"lessThanOrEqual","dateFrom":"2024-03-02"}`,
			func(i *model.Issue) bool { return i.ObservedAt.Before(day(3)) }},
		{"date greaterThan a day", `{"colId":"observedAt","type":"greaterThan","dateFrom":"2024-03-03"}`,
			func(i *model.Issue) bool { return !i.ObservedAt.Before(day(4)) }},
		{"date greaterThan an instant", `{"colId":"observedAt","type":"greaterThan","dateFrom":"2024-03-02T09:00:00+02:00"}`,
			func(i *model.Issue) bool { return i.ObservedAt.After(day(2).Add(7 * time.Hour)) }},
		{"date equals an instant", `{"colId":"observedAt","type":"equals","dateFrom":"2024-03-02T11:00:00Z"}`,
			func(i *model.Issue) bool { return i.ObservedAt.Equal(day(2).Add(11 * time.Hour)) }},
		{"date inRange days", `{"colId":"lastModified","type":"inRange","dateFrom":"2024-03-02","dateTo":"2024-03-03"}`,
			func(i *model.Issue) bool { return !i.LastModified.Before(day(2)) && i.LastModified.Before(day(4)) }},
		{"date inRange instants", `{"colId":"observedAt","type":"inRange","filter":"2024-03-01 07:00:00","filterTo":"2024-03-02 04:00:00"}`,
			func(i *model.Issue) bool {
				return !i.ObservedAt.Before(day(1).Add(7*time.Hour)) && !i.ObservedAt.After(day(2).Add(4*time.Hour))
			}},

		{"assignedTo equals email case-insensitively", `{"colId":"assignedTo","type":"equals","filter":"BOB@example.COM"}`,
			func(i *model.Issue) bool { return i.AssigneeLogin == "bob" }},
		{"assignedTo equals login", `{"colId":"assignedTo","type":"equals","filter":"alice"}`,
			func(i *model.Issue) bool { return i.AssigneeLogin == "alice" }},
		{"assignedTo equals a former email", `{"colId":"assignedTo","type":"equals","filter":"Alice@old.example.com"}`,
			func(i *model.Issue) bool { return i.AssigneeEmail == "alice@old.example.com" }},
		{"assignedTo equals the current email", `{"colId":"assignedTo","type":"equals","filter":"alice@example.com"}`,
			func(i *model.Issue) bool { return i.AssigneeEmail == "alice@example.com" }},
		{"assignedTo equals one of two", `{"type":"OR","conditions":[{"colId":"assignedTo","type":"equals","filter":"bob"},{"colId":"assignedTo","type":"equals","filter":"alice@old.example.com"}]}`,
			func(i *model.Issue) bool {
				return i.AssigneeLogin == "bob" || i.AssigneeEmail == "alice@old.example.com"
			}},
		{"assignedTo equals nobody's or bob", `{"type":"OR","conditions":[{"colId":"assignedTo","type":"equals","filter":"carol"},{"colId":"assignedTo","type":"equals","filter":"BOB"}]}`,
			func(i *model.Issue) bool { return i.AssigneeLogin == "bob" }},
		{"assignedTo notEqual", `{"colId":"assignedTo","type":"notEqual","filter":"alice@example.com"}`,
			func(i *model.Issue) bool { return i.AssigneeEmail != "alice@example.com" }},
		{"assignedTo blank", `{"colId":"assignedTo","type":"blank"}`, func(i *model.Issue) bool { return i.AssigneeLogin == "" }},
		{"assignedTo notBlank", `{"colId":"assignedTo","type":"notBlank"}`, func(i *model.Issue) bool { return i.AssigneeLogin != "" }},
		{"assignedTo contains domain", `{"colId":"assignedTo","type":"contains","filter":"@EXAMPLE"}`,
			func(i *model.Issue) bool { return strings.Contains(strings.ToLower(i.AssigneeEmail), "@example") }},

		{"advanced join nested", `{"filterType":"join","type":"OR","conditions":[
			{"filterType":"join","type":"AND","conditions":[
				{"filterType":"set","colId":"severity","type":"isAnyOf","values":["critical","high"]},
				{"filterType":"text","colId":"status","type":"equals","filter":"open"}]},
			{"filterType":"text","colId":"policyGroupName","type":"equals","filter":"prod group"}]}`,
			func(i *model.Issue) bool {
				return ((i.Severity == "critical" || i.Severity == "high") && i.Status == "open") || i.PolicyGroupName == "Prod Group"
			}},
		{"pulumi join", `{"type":"OR","conditions":[{"colId":"status","type":"equals","filter":"open"},{"colId":"status","type":"equals","filter":"in_progress"}]}`,
			func(i *model.Issue) bool { return i.Active }},
		{"column filter model", `{"status":{"filterType":"set","values":["open","ignored"]},
			"policyName":{"filterType":"text","operator":"OR","conditions":[{"filterType":"text","type":"startsWith","filter":"s3"},{"filterType":"text","type":"contains","filter":"mfa"}]},
			"entityId":{"filterType":"text","type":"notEqual","filter":"dev"}}`,
			func(i *model.Issue) bool {
				p := lower(i.PolicyName)
				return (i.Status == "open" || i.Status == "ignored") && (strings.HasPrefix(p, "s3") || strings.Contains(p, "mfa")) && i.EntityID != "dev"
			}},
	}
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page := f.list(t, `{"startRow":0,"endRow":1000,"filterModel":`+tt.model+`}`)
				want := f.expect(tt.match, iqDefault)
				if got := iqNames(page.Issues); !slices.Equal(got, want) {
					t.Errorf("rows\n got  %v\n want %v", got, want)
				}
				if page.RowCount != int64(len(want)) {
					t.Errorf("rowCount = %d, want %d", page.RowCount, len(want))
				}
				if tt.match != nil && (len(want) == 0 || len(want) == iqCount) {
					t.Errorf("the data set does not exercise the filter: %d of %d rows match", len(want), iqCount)
				}
			})
		}
	})
}

func TestListIssuesSort(t *testing.T) {
	tests := []struct {
		name      string
		sortModel string
		keys      []iqSort
	}{
		{"default", `null`, iqDefault},
		// An order ending with severity breaks its ties by observedAt in
		// its direction (the default order's index, read backwards).
		{"severity ascending by meaning, ties oldest first", `[{"colId":"severity","sort":"asc"}]`, []iqSort{{iqBySeverity, false}, {iqByObserved, false}}},
		{"severity descending is the default order", `[{"colId":"severity","sort":"desc"}]`, iqDefault},
		{"status by meaning", `[{"colId":"status","sort":"asc"},{"colId":"observedAt","sort":"asc"}]`, []iqSort{{iqByStatus, false}, {iqByObserved, false}}},
		{"status descending", `[{"colId":"status","sort":"desc"}]`, []iqSort{{iqByStatus, true}}},
		{"priority p0 first", `[{"colId":"priority","sort":"asc"},{"colId":"severity","sort":"desc"}]`, []iqSort{{iqByPriority, false}, {iqBySeverity, true}, {iqByObserved, true}}},
		{"observedAt before severity", `[{"colId":"observedAt","sort":"asc"},{"colId":"severity","sort":"desc"}]`, []iqSort{{iqByObserved, false}, {iqBySeverity, true}}},
		{"observedAt oldest first", `[{"colId":"observedAt","sort":"asc"}]`, []iqSort{{iqByObserved, false}}},
		{"text in byte order", `[{"colId":"policyName","sort":"asc"}]`, []iqSort{{iqByPolicyName, false}}},
		{"assignedTo by login", `[{"colId":"assignedTo","sort":"desc"}]`, []iqSort{{iqByAssignee, true}}},
		{"nulls first ascending", `[{"colId":"stackVersion","sort":"asc"}]`, []iqSort{{iqByStack, false}}},
		{"nulls last descending", `[{"colId":"stackVersion","sort":"desc"},{"colId":"policyName","sort":"asc"}]`, []iqSort{{iqByStack, true}, {iqByPolicyName, false}}},
		{"duplicate keys ignored", `[{"colId":"priority","sort":"desc"},{"colId":"priority","sort":"asc"}]`, []iqSort{{iqByPriority, true}}},
	}
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page := f.list(t, `{"startRow":0,"endRow":1000,"sortModel":`+tt.sortModel+`}`)
				want := f.expect(nil, tt.keys)
				if got := iqNames(page.Issues); !slices.Equal(got, want) {
					t.Errorf("rows\n got  %v\n want %v", got, want)
				}
			})
		}
		t.Run("sort by id", func(t *testing.T) {
			page := f.list(t, `{"endRow":1000,"sortModel":[{"colId":"id","sort":"asc"}]}`)
			for i := 1; i < len(page.Issues); i++ {
				if page.Issues[i-1].ID >= page.Issues[i].ID {
					t.Fatalf("ids out of order at %d", i)
				}
			}
		})
	})
}

func TestListIssuesPaging(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		all := f.expect(nil, iqDefault)
		// The CLI's loop: startRow += rows returned until a short page.
		var got []string
		for start := 0; ; {
			page := f.list(t, fmt.Sprintf(`{"startRow":%d,"endRow":%d,"sortModel":null}`, start, start+7))
			if page.RowCount != iqCount {
				t.Fatalf("page at %d: rowCount = %d, want %d", start, page.RowCount, iqCount)
			}
			got = append(got, iqNames(page.Issues)...)
			start += len(page.Issues)
			if len(page.Issues) < 7 {
				break
			}
		}
		if !slices.Equal(got, all) {
			t.Fatalf("pages\n got  %v\n want %v", got, all)
		}
		tests := []struct {
			name     string
			body     string
			from, to int
		}{
			{"default page", `{}`, 0, iqCount},
			{"exactly the rest", `{"startRow":20,"endRow":30}`, 20, 30},
			{"full page ending at the last row", `{"startRow":25,"endRow":30}`, 25, 30},
			{"past the end", `{"startRow":30,"endRow":40}`, 30, 30},
			{"far past the end", `{"startRow":500,"endRow":600}`, 30, 30},
			{"empty range", `{"startRow":3,"endRow":3}`, 3, 3},
			{"one row", `{"startRow":9,"endRow":10}`, 9, 10},
			{"filtered", `{"startRow":1,"endRow":3,"filterModel":{"colId":"severity","type":"equals","filter":"critical"}}`, -1, -1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page := f.list(t, tt.body)
				want, count := []string{}, iqCount
				if tt.from >= 0 {
					want = all[tt.from:tt.to]
				} else {
					crit := f.expect(func(i *model.Issue) bool { return i.Severity == "critical" }, iqDefault)
					want, count = crit[1:3], len(crit)
				}
				if got := iqNames(page.Issues); !slices.Equal(got, want) {
					t.Errorf("rows %v, want %v", got, want)
				}
				if page.RowCount != int64(count) {
					t.Errorf("rowCount = %d, want %d", page.RowCount, count)
				}
			})
		}
	})
}

// iqGroup renders a groupData object with sorted keys.
func iqGroup(g map[string]any) string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := g[k]
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339)
		}
		parts[i] = fmt.Sprintf("%s=%v", k, v)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func iqGroups(page *issuequery.IssuePage) []string {
	out := make([]string, len(page.Groups))
	for i, g := range page.Groups {
		out[i] = iqGroup(g)
	}
	return out
}

func TestListIssuesGrouping(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		// The expected groups of status, computed in Go.
		type agg struct {
			count, stacks    int64
			first            time.Time
			maxSev           string
			status, priority string
		}
		byStatus := map[string]*agg{}
		for i := range f.issues {
			is := &f.issues[i]
			a := byStatus[is.Status]
			if a == nil {
				a = &agg{status: is.Status, first: is.ObservedAt, maxSev: is.Severity}
				byStatus[is.Status] = a
			}
			a.count++
			if is.StackVersion != nil {
				a.stacks++
			}
			if is.ObservedAt.Before(a.first) {
				a.first = is.ObservedAt
			}
			if policy.SeverityRank(is.Severity) > policy.SeverityRank(a.maxSev) {
				a.maxSev = is.Severity
			}
		}
		statusGroup := func(s string) string {
			a := byStatus[s]
			return iqGroup(map[string]any{"status": s, "count": a.count, "stackVersion": a.stacks,
				"observedAt": a.first, "severity": a.maxSev})
		}
		const level0 = `"rowGroupCols":[{"id":"status","field":"status"},{"id":"severity"}],
			"valueCols":[{"id":"stackVersion","aggFunc":"count"},{"id":"observedAt","aggFunc":"min"},{"id":"severity","aggFunc":"max"}]`
		order := []string{"open", "in_progress", "by_design", "ignored", "fixed"}

		t.Run("top level by status meaning", func(t *testing.T) {
			page := f.list(t, `{`+level0+`}`)
			var want []string
			for _, s := range order {
				want = append(want, statusGroup(s))
			}
			if got := iqGroups(page); !slices.Equal(got, want) {
				t.Errorf("groups\n got  %v\n want %v", got, want)
			}
			if page.RowCount != 5 || len(page.Issues) != 0 {
				t.Errorf("rowCount %d, %d issues; want 5, 0", page.RowCount, len(page.Issues))
			}
		})
		t.Run("sorted by the group column descending", func(t *testing.T) {
			page := f.list(t, `{`+level0+`,"sortModel":[{"colId":"status","sort":"desc"}]}`)
			var want []string
			for i := len(order) - 1; i >= 0; i-- {
				want = append(want, statusGroup(order[i]))
			}
			if got := iqGroups(page); !slices.Equal(got, want) {
				t.Errorf("groups\n got  %v\n want %v", got, want)
			}
		})
		t.Run("sorted by an aggregate, paged", func(t *testing.T) {
			page := f.list(t, `{`+level0+`,"startRow":1,"endRow":3,"sortModel":[{"colId":"observedAt","sort":"desc"},{"colId":"policyName","sort":"asc"}]}`)
			statuses := slices.Clone(order)
			slices.SortStableFunc(statuses, func(a, b string) int {
				if c := byStatus[b].first.Compare(byStatus[a].first); c != 0 {
					return c
				}
				return cmp.Compare(policy.StatusRank(a), policy.StatusRank(b))
			})
			want := []string{statusGroup(statuses[1]), statusGroup(statuses[2])}
			if got := iqGroups(page); !slices.Equal(got, want) {
				t.Errorf("groups\n got  %v\n want %v", got, want)
			}
			if page.RowCount != 5 {
				t.Errorf("rowCount = %d, want 5", page.RowCount)
			}
		})
		t.Run("second level within a key", func(t *testing.T) {
			page := f.list(t, `{"rowGroupCols":[{"id":"status"},{"id":"severity"}],"groupKeys":["open"],"valueCols":[{"id":"priority","aggFunc":"min"}]}`)
			counts, minPrio := map[string]int64{}, map[string]string{}
			for _, is := range f.issues {
				if is.Status == "open" {
					counts[is.Severity]++
					if p, ok := minPrio[is.Severity]; !ok || is.Priority < p {
						minPrio[is.Severity] = is.Priority
					}
				}
			}
			var want []string
			for _, s := range []string{"critical", "high", "medium", "low", ""} { // the default order: severity desc
				if counts[s] > 0 {
					want = append(want, iqGroup(map[string]any{"severity": s, "count": counts[s], "priority": minPrio[s]}))
				}
			}
			if got := iqGroups(page); !slices.Equal(got, want) {
				t.Errorf("groups\n got  %v\n want %v", got, want)
			}
			if page.RowCount != int64(len(want)) {
				t.Errorf("rowCount = %d, want %d", page.RowCount, len(want))
			}
		})
		t.Run("leaf rows within the keys", func(t *testing.T) {
			page := f.list(t, `{"rowGroupCols":[{"id":"status"},{"id":"severity"}],"groupKeys":["open","CRITICAL"],"endRow":1000}`)
			want := f.expect(func(i *model.Issue) bool { return i.Status == "open" && i.Severity == "critical" }, iqDefault)
			if got := iqNames(page.Issues); !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("rows %v, want %v", got, want)
			}
			if page.RowCount != int64(len(want)) || len(page.Groups) != 0 {
				t.Errorf("rowCount %d, %d groups", page.RowCount, len(page.Groups))
			}
		})
		t.Run("keys round trip for every kind", func(t *testing.T) {
			for _, col := range []string{"stackVersion", "observedAt", "assignedTo", "severity", "policyName"} {
				groups := f.list(t, `{"rowGroupCols":[{"id":"`+col+`"}],"endRow":1000}`)
				var total int64
				for _, g := range groups.Groups {
					key := ""
					switch v := g[col].(type) {
					case nil:
					case time.Time:
						key = v.Format(time.RFC3339Nano)
					default:
						key = fmt.Sprint(v)
					}
					keyJSON, _ := json.Marshal([]string{key})
					rows := f.list(t, `{"rowGroupCols":[{"id":"`+col+`"}],"groupKeys":`+string(keyJSON)+`,"endRow":1000}`)
					if rows.RowCount != g["count"].(int64) || len(rows.Issues) != int(rows.RowCount) {
						t.Errorf("%s group %q: %d rows (%d returned), group count %v", col, key, rows.RowCount, len(rows.Issues), g["count"])
					}
					total += rows.RowCount
				}
				if total != iqCount {
					t.Errorf("%s groups cover %d rows, want %d", col, total, iqCount)
				}
			}
		})
		t.Run("nullable group values order and count", func(t *testing.T) {
			page := f.list(t, `{"rowGroupCols":[{"id":"stackVersion"}],"sortModel":[{"colId":"stackVersion","sort":"desc"}],"valueCols":[{"id":"resourceVersion","aggFunc":"max"}]}`)
			counts := map[int64]int64{}
			var nulls, maxResource int64
			for _, is := range f.issues {
				if is.StackVersion == nil {
					nulls++
					maxResource = max(maxResource, *is.ResourceVersion)
				} else {
					counts[*is.StackVersion]++
				}
			}
			var want []string
			for v := int64(4); v >= 1; v-- {
				want = append(want, fmt.Sprintf("{count=%d resourceVersion=<nil> stackVersion=%d}", counts[v], v))
			}
			want = append(want, fmt.Sprintf("{count=%d resourceVersion=%d stackVersion=<nil>}", nulls, maxResource))
			got := iqGroups(page)
			if !slices.Equal(got, want) {
				t.Errorf("groups\n got  %v\n want %v", got, want)
			}
		})
	})
}

func TestIssueFacets(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		ctx := context.Background()
		count := func(field func(*model.Issue) string, match func(*model.Issue) bool) []issuequery.FacetValue {
			m := map[string]int64{}
			for i := range f.issues {
				if match(&f.issues[i]) {
					m[field(&f.issues[i])]++
				}
			}
			var out []issuequery.FacetValue
			for k, v := range m {
				out = append(out, issuequery.FacetValue{Name: k, Count: v})
			}
			slices.SortFunc(out, func(a, b issuequery.FacetValue) int {
				if c := cmp.Compare(b.Count, a.Count); c != 0 {
					return c
				}
				return cmp.Compare(a.Name, b.Name)
			})
			return out
		}
		stack := func(i *model.Issue) string {
			if i.StackVersion == nil {
				return ""
			}
			return fmt.Sprint(*i.StackVersion)
		}
		tests := []struct {
			name, field, model string
			value              func(*model.Issue) string
			match              func(*model.Issue) bool
		}{
			{"status leaves out its own condition", "status",
				`{"type":"AND","conditions":[{"colId":"status","type":"equals","filter":"open"},{"colId":"kind","type":"equals","filter":"audit"}]}`,
				func(i *model.Issue) string { return i.Status }, func(i *model.Issue) bool { return i.Kind == "audit" }},
			{"an or on the field matches everything", "severity",
				`{"type":"OR","conditions":[{"colId":"severity","type":"equals","filter":"low"},{"colId":"kind","type":"equals","filter":"audit"}]}`,
				func(i *model.Issue) string { return i.Severity }, func(*model.Issue) bool { return true }},
			{"empty severity as empty string", "severity", `{"status":{"filterType":"set","values":["open","fixed"]}}`,
				func(i *model.Issue) string { return i.Severity }, func(i *model.Issue) bool { return i.Status == "open" || i.Status == "fixed" }},
			{"null numbers as empty string", "stackVersion", `null`, stack, func(*model.Issue) bool { return true }},
			{"assignedTo by login", "assignedTo", `{"colId":"assignedTo","type":"equals","filter":"alice"}`,
				func(i *model.Issue) string { return i.AssigneeLogin }, func(*model.Issue) bool { return true }},
			{"text field", "policyName", `{"colId":"entityType","type":"equals","filter":"stack"}`,
				func(i *model.Issue) string { return i.PolicyName }, func(i *model.Issue) bool { return i.EntityType == "stack" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := f.r.Issues.IssueFacets(ctx, f.org, tt.field, issueFilter(t, tt.model))
				if err != nil {
					t.Fatal(err)
				}
				if want := count(tt.value, tt.match); !slices.Equal(got, want) {
					t.Errorf("facets\n got  %v\n want %v", got, want)
				}
			})
		}
		t.Run("dates", func(t *testing.T) {
			got, err := f.r.Issues.IssueFacets(ctx, f.org, "observedAt", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != iqCount/2 || got[0] != (issuequery.FacetValue{Name: "2024-03-01T00:00:00Z", Count: 2}) {
				t.Errorf("facets %v", got)
			}
		})
		_, err := f.r.Issues.IssueFacets(ctx, f.org, "nope", nil)
		var ge *grid.Error
		if want := `unknown column "nope" in field; allowed: acceptanceReason, acceptedUntil, assignedTo, entityId`; !errors.As(err, &ge) || !strings.Contains(ge.Message, want) {
			t.Errorf("facets(nope): err = %v, want %q", err, want)
		}
	})
}

func TestExportIssues(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		ctx := context.Background()
		export := func(body string) ([]string, error) {
			var names []string
			err := f.r.Issues.ExportIssues(ctx, f.org, parseIssueQuery(t, body, issuequery.IssueExportOptions), func(is *model.Issue) error {
				names = append(names, is.ResourceName)
				return nil
			})
			return names, err
		}
		all := f.expect(nil, iqDefault)
		tests := []struct {
			name, body string
			want       []string
		}{
			{"everything in the default order", `{}`, all},
			{"a range", `{"startRow":5,"endRow":12}`, all[5:12]},
			{"from a row", `{"startRow":25}`, all[25:]},
			{"filter and sort", `{"filterModel":{"colId":"kind","type":"equals","filter":"audit"},"sortModel":[{"colId":"priority","sort":"asc"}]}`,
				f.expect(func(i *model.Issue) bool { return i.Kind == "audit" }, []iqSort{{iqByPriority, false}})},
			{"within group keys", `{"rowGroupCols":[{"id":"status"},{"id":"kind"}],"groupKeys":["open"]}`,
				f.expect(func(i *model.Issue) bool { return i.Status == "open" }, iqDefault)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := export(tt.body)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("rows\n got  %v\n want %v", got, tt.want)
				}
			})
		}
		t.Run("full rows", func(t *testing.T) {
			var first *model.Issue
			err := f.r.Issues.ExportIssues(ctx, f.org, parseIssueQuery(t, `{"endRow":1}`, issuequery.IssueExportOptions), func(is *model.Issue) error {
				first = is
				return nil
			})
			if err != nil || first == nil {
				t.Fatalf("export: %v", err)
			}
			var want model.Issue
			for _, is := range f.issues {
				if is.ResourceName == all[0] {
					want = is
				}
			}
			if first.ID != want.ID || first.OrgID != f.org || first.PolicyName != want.PolicyName || !first.ObservedAt.Equal(want.ObservedAt) ||
				first.AssigneeEmail != want.AssigneeEmail || first.Severity != want.Severity {
				t.Errorf("exported %+v\nwant %+v", first, want)
			}
		})
		t.Run("stops on the callback's error", func(t *testing.T) {
			stop := errors.New("stop")
			n := 0
			err := f.r.Issues.ExportIssues(ctx, f.org, parseIssueQuery(t, `{}`, issuequery.IssueExportOptions), func(*model.Issue) error {
				n++
				if n == 3 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) || n != 3 {
				t.Errorf("err = %v after %d rows", err, n)
			}
		})
	})
}

// TestListIssuesCoveredFilters pages through filters on a policy or a
// policy group (alone, or with a status or priority filter) in the segment
// orders, where PostgreSQL reads the segments holding few matches from the
// policy's or group's index first: every page must hold the rows the sort
// puts there, with the exact count, whichever way a segment is read (the
// default small segment filters every segment first at these sizes, 0
// reads each in the sort's order).
func TestListIssuesCoveredFilters(t *testing.T) {
	pageThroughEach(t, []iqFilterCase{
		{"policy", `{"colId":"policyName","filterType":"text","type":"equals","filter":"S3-BUCKET-encryption"}`,
			func(i *model.Issue) bool { return i.PolicyName == "s3-bucket-encryption" }},
		{"group", `{"colId":"policyGroupName","filterType":"text","type":"equals","filter":"prod group"}`,
			func(i *model.Issue) bool { return i.PolicyGroupName == "Prod Group" }},
		{"policy and statuses", `{"type":"AND","conditions":[
			{"colId":"policyName","filterType":"text","type":"equals","filter":"s3-bucket-encryption"},
			{"colId":"status","filterType":"set","values":["open","ignored"]}]}`,
			func(i *model.Issue) bool {
				return i.PolicyName == "s3-bucket-encryption" && (i.Status == "open" || i.Status == "ignored")
			}},
		{"group and priorities", `{"type":"AND","conditions":[
			{"colId":"policyGroupName","filterType":"text","type":"equals","filter":"default-policy-group"},
			{"colId":"priority","filterType":"set","values":["p0","p2","p3"]}]}`,
			func(i *model.Issue) bool {
				return i.PolicyGroupName == "default-policy-group" && (i.Priority == "p0" || i.Priority == "p2" || i.Priority == "p3")
			}},
	}, []iqSortCase{
		{"default order", `null`, iqDefault},
		{"severity ascending", `[{"colId":"severity","sort":"asc"}]`, []iqSort{{iqBySeverity, false}, {iqByObserved, false}}},
		{"priority then observedAt", `[{"colId":"priority","sort":"asc"},{"colId":"observedAt","sort":"desc"}]`,
			[]iqSort{{iqByPriority, false}, {iqByObserved, true}}},
	}, repository.SmallSegment, "small segments")
}

// iqFilterCase is a filter model and the rows it matches.
type iqFilterCase struct {
	name, model string
	match       func(*model.Issue) bool
}

// iqSortCase is a sort model and its keys.
type iqSortCase struct {
	name, model string
	keys        []iqSort
}

// pageThroughEach pages through every filter in every order on each
// backend, with a planner threshold (knob) at its default and at 0, which
// sends the fixture's small filters down the paths of large ones.
func pageThroughEach(t *testing.T, filters []iqFilterCase, sorts []iqSortCase, knob *int64, knobName string) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		defer func(v int64) { *knob = v }(*knob)
		for _, v := range []int64{*knob, 0} {
			*knob = v
			for _, fl := range filters {
				for _, s := range sorts {
					t.Run(fmt.Sprintf("%s/%s/%s %d", fl.name, s.name, knobName, v), func(t *testing.T) {
						f.pageThrough(t, fl.model, s.model, f.expect(fl.match, s.keys))
					})
				}
			}
		}
	})
}

// pageThrough reads every page of three rows of a filter in an order and
// checks each page's rowCount and the rows in all.
func (f *iqFixture) pageThrough(t *testing.T, filterModel, sortModel string, want []string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the fixture has no matching issue")
	}
	var got []string
	for start := 0; start < len(want)+3; start += 3 {
		page := f.list(t, fmt.Sprintf(`{"startRow":%d,"endRow":%d,"filterModel":%s,"sortModel":%s}`,
			start, start+3, filterModel, sortModel))
		if page.RowCount != int64(len(want)) {
			t.Fatalf("page at %d: rowCount = %d, want %d", start, page.RowCount, len(want))
		}
		got = append(got, iqNames(page.Issues)...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages\n got  %v\n want %v", got, want)
	}
}

// A policy or group name no issue has matches nothing, in every path of a
// page and in the facets.
func TestListIssuesUnknownNames(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		for _, model := range []string{
			`{"colId":"policyName","filterType":"text","type":"equals","filter":"no-such-policy"}`,
			`{"type":"AND","conditions":[{"colId":"policyGroupName","type":"equals","filter":"no such group"},
				{"colId":"status","filterType":"set","values":["open"]}]}`,
		} {
			for _, sort := range []string{`null`, `[{"colId":"priority","sort":"asc"}]`, `[{"colId":"observedAt","sort":"desc"}]`} {
				page := f.list(t, `{"startRow":0,"endRow":10,"filterModel":`+model+`,"sortModel":`+sort+`}`)
				if page.RowCount != 0 || len(page.Issues) != 0 {
					t.Errorf("%s sorted %s: rowCount %d, %d rows; want none", model, sort, page.RowCount, len(page.Issues))
				}
			}
			for _, field := range []string{"status", "entityProject"} {
				facets, err := f.r.Issues.IssueFacets(context.Background(), f.org, field, issueFilter(t, model))
				if err != nil || len(facets) != 0 {
					t.Errorf("%s: facets of %s %v, %v; want none", model, field, facets, err)
				}
			}
		}
	})
}

// A page past the last match is empty and still counts the matches.
func TestListIssuesPastTheEnd(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		f := iqSeed(t, b)
		for _, tt := range []struct {
			model string
			match func(*model.Issue) bool
		}{
			{`{"policyPack":{"filterType":"text","type":"equals","filter":"aws-cis"}}`,
				func(i *model.Issue) bool { return i.PolicyPack == "aws-cis" }},
			{`{"colId":"message","filterType":"text","type":"contains","filter":"e"}`,
				func(i *model.Issue) bool { return strings.Contains(lower(i.Message), "e") }},
		} {
			want := int64(len(f.expect(tt.match, iqDefault)))
			for _, sort := range []string{`null`, `[{"colId":"observedAt","sort":"desc"}]`} {
				for _, start := range []int64{want, want + 5} {
					page := f.list(t, fmt.Sprintf(`{"startRow":%d,"endRow":%d,"filterModel":%s,"sortModel":%s}`, start, start+3, tt.model, sort))
					if page.RowCount != want || len(page.Issues) != 0 {
						t.Errorf("%s sorted %s at %d: rowCount %d, %d rows; want %d, none", tt.model, sort, start, page.RowCount, len(page.Issues), want)
					}
				}
				page := f.list(t, fmt.Sprintf(`{"startRow":%d,"endRow":%d,"filterModel":%s,"sortModel":%s}`, want-1, want+2, tt.model, sort))
				if page.RowCount != want || len(page.Issues) != 1 {
					t.Errorf("%s sorted %s, last row: rowCount %d, %d rows; want %d, 1", tt.model, sort, page.RowCount, len(page.Issues), want)
				}
			}
		}
	})
}

// An entity type of few issues is read through its entities (see
// entityTypeNarrow), a larger one without them; both give the same pages.
func TestListIssuesEntityTypeFilters(t *testing.T) {
	pageThroughEach(t, []iqFilterCase{
		{"accounts", `{"colId":"entityType","filterType":"text","type":"equals","filter":"insights-account"}`,
			func(i *model.Issue) bool { return i.EntityType == "insights-account" }},
		{"stacks", `{"entityType":{"filterType":"set","values":["stack"]}}`,
			func(i *model.Issue) bool { return i.EntityType == "stack" }},
		{"active accounts", `{"filterType":"join","type":"AND","conditions":[
			{"filterType":"text","colId":"entityType","type":"equals","filter":"insights-account"},
			{"filterType":"set","colId":"status","values":["open","in_progress"]}]}`,
			func(i *model.Issue) bool { return i.EntityType == "insights-account" && i.Active }},
		{"stacks with a message", `{"type":"AND","conditions":[
			{"colId":"entityType","filterType":"text","type":"equals","filter":"stack"},
			{"colId":"message","filterType":"text","type":"contains","filter":"e"}]}`,
			func(i *model.Issue) bool {
				return i.EntityType == "stack" && strings.Contains(lower(i.Message), "e")
			}},
	}, []iqSortCase{
		{"default order", `null`, iqDefault},
		{"priority", `[{"colId":"priority","sort":"asc"}]`, []iqSort{{iqByPriority, false}}},
		{"observedAt", `[{"colId":"observedAt","sort":"desc"}]`, []iqSort{{iqByObserved, true}}},
	}, repository.NarrowLimit, "narrow limit")
}
