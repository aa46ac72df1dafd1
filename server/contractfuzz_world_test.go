package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
	"github.com/policyresults/policyresults/server/servertest/specgen"
)

// fuzzOrg is one organisation of the contract fuzz and what it holds, as
// read from the database after every write the server accepted.
type fuzzOrg struct {
	*servertest.Org
	suffix string // of its seeded names, so that A's and B's differ

	stale    bool   // what it holds must be read again
	digest   string // its data (orgDigester) as of the last write; "" when unknown
	issues   []issueRef
	versions []packVersion // every pack version, published or not
	groups   []string
	stacks   []entityVersion
	accounts []entityVersion // Project is the account, Name the resource id
	packs    []string        // pack names evaluations and the registry know
	policies []string
	urns     []string
	members  []string // logins and emails
	hooks    []hookRef
	// uploads are the credentials of the presigned upload URLs answered
	// for its pack versions, by the URL's path (unescaped).
	uploads map[string]string
}

// keepUploadURI keeps the credential of the presigned uploadURI an answer
// holds, if any.
func (o *fuzzOrg) keepUploadURI(answer []byte) error {
	var created struct {
		UploadURI string `json:"uploadURI"`
	}
	if json.Unmarshal(answer, &created) != nil || created.UploadURI == "" {
		return nil
	}
	u, err := url.Parse(created.UploadURI)
	if err != nil {
		return fmt.Errorf("uploadURI %q: %v", created.UploadURI, err)
	}
	if credential := u.Query().Get("credential"); credential != "" {
		if o.uploads == nil {
			o.uploads = map[string]string{}
		}
		o.uploads[u.Path] = credential
	}
	return nil
}

// hookRef is a webhook of the organisation (Project and Stack empty) or of
// a stack.
type hookRef struct {
	Project, Stack, Name string
}

type issueRef struct {
	ID, PolicyPack, PolicyName string
}

type packVersion struct {
	Name      string
	Version   int
	Tag       string // its semantic version, or its number when published without one
	UUID      string // its registry id
	Published bool
	Archived  bool
	Applied   bool // a policy group applies the pack
}

// entityVersion is a stack (project, name) or an account resource
// (account, resource id) with the latest version evaluated.
type entityVersion struct {
	Project, Name string
	Latest        int64
}

// seedFuzzOrg creates an organisation with two stacks of issues, an
// account resource with an issue, a published pack applied to a group of
// its own, a second published pack, and one pack version waiting for its
// archive and one waiting for completion.
func seedFuzzOrg(t *testing.T, env *servertest.Env, suffix string) *fuzzOrg {
	t.Helper()
	ctx := context.Background()
	org := env.NewOrg(t)
	o := &fuzzOrg{Org: org, suffix: suffix, stale: true}
	seedStacks(t, env, org, 2, 4)
	publishPack(t, env, org, "registered"+suffix, "1.0.0", testPolicies())
	publishPack(t, env, org, "spare"+suffix, "1.0.0", testPolicies()[:1])
	admin := env.Client(t, org.Admin)
	if r, err := admin.NewPolicyGroupWithResponse(ctx, org.Name, client.NewPolicyGroupRequest{Name: "team" + suffix}); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("new group: %v %s", err, r.Body)
	}
	applyPack(t, env, org, "team"+suffix, "registered"+suffix)
	res := urn("shop", "s0", "aws:s3/bucket:Bucket", "bucket-0")
	results := client.InsightsPolicyResults{}
	results.Violations.Set([]client.InsightsPolicyViolation{{PolicyPackName: "baseline", PolicyName: "no-public-read", ResourceURN: &res}})
	if r, err := env.Client(t, org.OrgToken).UpdateResourceVersionPolicyResultsWithResponse(ctx, org.Name, "acct"+suffix, "s3/bucket"+suffix, 1,
		client.UpdateInsightsResourceVersionPolicyResultsRequest{Results: results}); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("account results: %v %s", err, r.Body)
	}
	if err := o.replenish(env); err != nil {
		t.Fatal(err)
	}
	return o
}

// refresh reads what the organisation holds.
func (o *fuzzOrg) refresh(env *servertest.Env) error {
	if !o.stale {
		return nil
	}
	db := env.Repo.DB()
	o.issues = nil
	if err := db.Raw(`SELECT id, policy_pack, policy_name FROM policy_issues WHERE org_id = ? ORDER BY id`, o.ID).Scan(&o.issues).Error; err != nil {
		return err
	}
	var urns []string
	if err := db.Raw(`SELECT DISTINCT urn FROM resources WHERE org_id = ? ORDER BY urn LIMIT 200`, o.ID).Scan(&urns).Error; err != nil {
		return err
	}
	o.versions = nil
	if err := db.Raw(`SELECT p.name, v.version, v.version_tag AS tag, v.uuid, v.published, v.archive_size > 0 AS archived,
			EXISTS (SELECT 1 FROM policy_group_packs gp WHERE gp.org_id = p.org_id AND gp.pack_name = p.name) AS applied
		FROM policy_pack_versions v JOIN policy_packs p ON p.org_id = v.org_id AND p.id = v.pack_id
		WHERE v.org_id = ? ORDER BY p.name, v.version`, o.ID).Scan(&o.versions).Error; err != nil {
		return err
	}
	o.groups = nil
	if err := db.Raw(`SELECT name FROM policy_groups WHERE org_id = ? ORDER BY name`, o.ID).Scan(&o.groups).Error; err != nil {
		return err
	}
	var entities []struct {
		Type, Project, Name, Scope string
		Latest                     *int64
	}
	if err := db.Raw(`SELECT e.type, e.project, e.name, COALESCE(pe.scope, '') AS scope, MAX(pe.version) AS latest
		FROM entities e LEFT JOIN pack_evaluations pe ON pe.org_id = e.org_id AND pe.entity_id = e.id
		WHERE e.org_id = ? GROUP BY e.type, e.project, e.name, pe.scope ORDER BY 1, 2, 3, 4`, o.ID).Scan(&entities).Error; err != nil {
		return err
	}
	o.stacks, o.accounts = nil, nil
	for _, e := range entities {
		ev := entityVersion{Project: e.Project, Name: e.Name, Latest: deref(e.Latest)}
		switch {
		case e.Type == "stack":
			o.stacks = append(o.stacks, ev)
		case e.Scope != "":
			ev.Name = e.Scope
			o.accounts = append(o.accounts, ev)
		}
	}
	o.members = nil
	if err := db.Raw(`SELECT u.login FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = ?
		UNION SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = ? ORDER BY 1`, o.ID, o.ID).Scan(&o.members).Error; err != nil {
		return err
	}
	o.hooks = nil
	if err := db.Raw(`SELECT project, stack, name FROM webhooks WHERE org_id = ? ORDER BY 1, 2, 3`, o.ID).Scan(&o.hooks).Error; err != nil {
		return err
	}
	packs := map[string]bool{"baseline": true}
	policies := map[string]bool{}
	for _, v := range o.versions {
		packs[v.Name] = true
	}
	for _, is := range o.issues {
		packs[is.PolicyPack] = true
		policies[is.PolicyName] = true
	}
	for _, p := range testPolicies() {
		policies[p.Name] = true
	}
	o.packs, o.policies, o.urns = slices.Sorted(maps.Keys(packs)), slices.Sorted(maps.Keys(policies)), urns
	o.stale = false
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// replenish restores what the fuzz's deletes and publishes use up, so that
// every operation finds something real to act on: a published pack, a
// version waiting for its archive, one waiting for completion, and a policy
// group besides the defaults.
func (o *fuzzOrg) replenish(env *servertest.Env) error {
	if err := o.refresh(env); err != nil {
		return err
	}
	has := func(f func(packVersion) bool) bool { return slices.ContainsFunc(o.versions, f) }
	changed := false
	create := func(name string) (int, error) {
		changed = true
		body, _ := json.Marshal(client.AppCreatePolicyPackRequest{Name: name, DisplayName: name, Policies: testPolicies()})
		status, raw, err := o.send(env, http.MethodPost, "/api/orgs/"+o.Name+"/policypacks", "application/json", body)
		if err != nil || status != http.StatusCreated {
			return 0, fmt.Errorf("create pack %s: %v %d %s", name, err, status, raw)
		}
		var created client.AppCreatePolicyPackResponse
		if err := json.Unmarshal(raw, &created); err != nil {
			return 0, err
		}
		return created.Version, o.keepUploadURI(raw)
	}
	upload := func(name string, version int) error {
		status, raw, err := o.send(env, http.MethodPut, fmt.Sprintf("/api/orgs/%s/policypacks/%s/versions/%d/archive", o.Name, name, version), "application/gzip", []byte("\x1f\x8b archive"))
		if err != nil || status != http.StatusNoContent {
			return fmt.Errorf("upload %s %d: %v %d %s", name, version, err, status, raw)
		}
		return nil
	}
	if !has(func(v packVersion) bool { return v.Published && !v.Applied }) {
		v, err := create("republished" + o.suffix)
		if err == nil {
			err = upload("republished"+o.suffix, v)
		}
		if err == nil {
			var status int
			var raw []byte
			status, raw, err = o.send(env, http.MethodPost, fmt.Sprintf("/api/orgs/%s/policypacks/republished%s/versions/%d/complete", o.Name, o.suffix, v), "", nil)
			if err == nil && status != http.StatusNoContent {
				err = fmt.Errorf("complete: %d %s", status, raw)
			}
		}
		if err != nil {
			return err
		}
	}
	if !has(func(v packVersion) bool { return !v.Published && !v.Archived }) {
		if _, err := create("pending" + o.suffix); err != nil {
			return err
		}
	}
	if !has(func(v packVersion) bool { return !v.Published && v.Archived }) {
		v, err := create("uploaded" + o.suffix)
		if err == nil {
			err = upload("uploaded"+o.suffix, v)
		}
		if err != nil {
			return err
		}
	}
	if len(o.groups) < 3 {
		changed = true
		name := "regrouped" + o.suffix + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
		body, _ := json.Marshal(client.NewPolicyGroupRequest{Name: name})
		if status, raw, err := o.send(env, http.MethodPost, "/api/orgs/"+o.Name+"/policygroups", "application/json", body); err != nil || status != http.StatusNoContent {
			return fmt.Errorf("new group: %v %d %s", err, status, raw)
		}
	}
	// A webhook of the organisation and one of its first stack, pointing
	// at an address deliveries refuse, so that pings answer at once.
	hasHook := func(stack bool) bool {
		return slices.ContainsFunc(o.hooks, func(h hookRef) bool { return (h.Stack != "") == stack })
	}
	newHook := func(path string) error {
		changed = true
		body, _ := json.Marshal(client.Webhook{DisplayName: "fuzz", PayloadUrl: "http://127.0.0.1:9/hook", Secret: ptr("fuzz-secret")})
		if status, raw, err := o.send(env, http.MethodPost, path, "application/json", body); err != nil || status != http.StatusCreated {
			return fmt.Errorf("new webhook: %v %d %s", err, status, raw)
		}
		return nil
	}
	if !hasHook(false) {
		if err := newHook("/api/orgs/" + o.Name + "/hooks"); err != nil {
			return err
		}
	}
	if !hasHook(true) && len(o.stacks) > 0 {
		if err := newHook("/api/stacks/" + o.Name + "/" + o.stacks[0].Project + "/" + o.stacks[0].Name + "/hooks"); err != nil {
			return err
		}
	}
	if changed {
		o.changed()
		return o.refresh(env)
	}
	return nil
}

// changed notes that the organisation's data changed.
func (o *fuzzOrg) changed() {
	o.stale, o.digest = true, ""
}

// send makes a request as the organisation's admin, outside the fuzz's
// bookkeeping.
func (o *fuzzOrg) send(env *servertest.Env, method, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, env.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "token "+o.Admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// fuzzLimits are the server's limits in the contract fuzz: lower than the
// defaults, so that requests beyond them stay small (TestRequestLimits
// checks the defaults).
var fuzzLimits = server.Limits{MaxItems: 40, MaxNameBytes: 200, MaxTextBytes: 2000}

// fuzzBodyLimit and fuzzArchiveLimit are the server's body limits in the
// contract fuzz.
const (
	fuzzBodyLimit    = 256 << 10
	fuzzArchiveLimit = 64 << 10
)

// gridColumns are the column ids the grids accept: PolicyIssue's scalar
// fields and assignedTo (ListPolicyIssues, export, facets) and
// PolicyComplianceRow's (ListPoliciesCompliance), read from the
// specification, plus a few that no grid has.
func gridColumns(t *testing.T, row string) []string {
	t.Helper()
	cols := map[string]bool{"noSuchColumn": true, "id; DROP TABLE": true}
	if row == "PolicyIssue" {
		cols["assignedTo"] = true
	}
	for prop, ref := range loadSpec(t).Components.Schemas[row].Value.Properties {
		if !ref.Value.Type.Is("object") && !ref.Value.Type.Is("array") {
			cols[prop] = true
		}
	}
	return slices.Sorted(maps.Keys(cols))
}

// gridRows name the schema of the rows each grid operation filters and
// sorts; the others filter PolicyIssue.
var gridRows = map[string]string{"ListPoliciesCompliance": "PolicyComplianceRow"}

// fuzzHints give properties values that mean something to the server, so
// that generated requests get past its semantic checks as often as they
// fail them. Every key must name a property of the specification
// (TestContractFuzzHintsNameProperties).
func fuzzHints(t *testing.T, a, b *fuzzOrg, cur *fuzzCurrent) map[string]specgen.Hint {
	t.Helper()
	columnsOf := map[string][]string{}
	for _, row := range []string{"PolicyIssue", "PolicyComplianceRow"} {
		columnsOf[row] = gridColumns(t, row)
	}
	columns := func() []string {
		if row, ok := gridRows[cur.op.op.OperationID]; ok {
			return columnsOf[row]
		}
		return columnsOf["PolicyIssue"]
	}
	pick := func(list func() []string) func(*rapid.T, string) any {
		return func(t *rapid.T, label string) any {
			l := list()
			if len(l) == 0 {
				return ""
			}
			return rapid.SampledFrom(l).Draw(t, label)
		}
	}
	fixed := func(values ...string) func() []string { return func() []string { return values } }
	listOf := func(item func(*rapid.T, string) any) func(*rapid.T, string) any {
		return func(t *rapid.T, label string) any {
			n := rapid.IntRange(0, 3).Draw(t, label+" length")
			out := make([]any, n)
			for i := range out {
				out[i] = item(t, fmt.Sprintf("%s[%d]", label, i))
			}
			return out
		}
	}
	column := pick(columns)
	value := pick(func() []string {
		return slices.Concat([]string{"open", "in_progress", "fixed", "critical", "high", "low", "", "stack", "preventative", "p1", "2025-01-02"}, a.packs, a.policies)
	})
	number := func(t *rapid.T, label string) any { return float64(rapid.IntRange(-2, 200).Draw(t, label)) }
	date := pick(fixed("2025-01-02", "2025-01-02 03:04:05", "2025-01-02T03:04:05Z", "2025-01-02T00:00:00+02:00", "not a date"))
	filterType := pick(fixed("join", "text", "number", "date", "set"))
	conditionType := pick(fixed("equals", "notEqual", "contains", "notContains", "startsWith", "endsWith", "blank", "notBlank",
		"lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "inRange", "isAnyOf", "isNoneOf", "AND", "OR"))
	join := pick(fixed("AND", "OR"))
	semver := func(t *rapid.T, label string) any {
		return fmt.Sprintf("%d.%d.%d", rapid.IntRange(0, 3).Draw(t, label+" major"), rapid.IntRange(0, 20).Draw(t, label+" minor"), rapid.IntRange(0, 1000).Draw(t, label+" patch"))
	}
	freshName := func(t *rapid.T, label string) any {
		return rapid.StringMatching(`[a-z][a-z0-9-]{2,12}`).Draw(t, label)
	}
	pack := pick(func() []string { return a.packs })
	packOrFresh := func(t *rapid.T, label string) any {
		if rapid.Bool().Draw(t, label+" known?") {
			return pack(t, label)
		}
		return freshName(t, label)
	}
	published := pick(func() []string {
		var out []string
		for _, v := range a.versions {
			if v.Published {
				out = append(out, v.Name)
			}
		}
		return out
	})
	policy := pick(func() []string { return a.policies })
	stackProject := pick(func() []string {
		out := []string{}
		for _, s := range a.stacks {
			out = append(out, s.Project)
		}
		return out
	})
	stackName := pick(func() []string {
		out := []string{}
		for _, s := range a.stacks {
			out = append(out, s.Name)
		}
		return out
	})
	account := pick(func() []string {
		out := []string{}
		for _, s := range a.accounts {
			out = append(out, s.Project)
		}
		return out
	})
	urnHint := func(t *rapid.T, label string) any {
		if rapid.Bool().Draw(t, label+" known?") && len(a.urns) > 0 {
			return rapid.SampledFrom(a.urns).Draw(t, label)
		}
		return urn(stackProject(t, label+" project").(string), stackName(t, label+" stack").(string), "aws:s3/bucket:Bucket", freshName(t, label+" name").(string))
	}
	version := func(t *rapid.T, label string) any { return float64(rapid.IntRange(0, 4).Draw(t, label)) }
	condition := func(t *rapid.T, label string) any {
		switch rapid.IntRange(0, 3).Draw(t, label+" kind") {
		case 0:
			return map[string]any{"filterType": "text", "colId": pick(fixed("message", "policyName", "resourceName", "entityId", "policyPack", "policyGroupName"))(t, label+".colId"),
				"type": pick(fixed("equals", "notEqual", "contains", "notContains", "startsWith", "endsWith", "blank", "notBlank"))(t, label+".type"), "filter": value(t, label+".filter")}
		case 1:
			return map[string]any{"filterType": "set", "colId": pick(fixed("status", "severity", "kind", "entityType", "priority", "policyGroupType"))(t, label+".colId"),
				"values": listOf(value)(t, label+".values")}
		case 2:
			return map[string]any{"filterType": "number", "colId": pick(fixed("stackVersion", "resourceVersion", "governedResources", "failingResources", "percentCompliant"))(t, label+".colId"),
				"type": pick(fixed("equals", "lessThan", "greaterThanOrEqual", "inRange"))(t, label+".type"), "filter": number(t, label+".filter"), "filterTo": number(t, label+".filterTo")}
		}
		return map[string]any{"filterType": "date", "colId": pick(fixed("observedAt", "lastModified"))(t, label+".colId"),
			"type": pick(fixed("equals", "lessThan", "greaterThan", "inRange"))(t, label+".type"), "dateFrom": date(t, label+".dateFrom"), "dateTo": date(t, label+".dateTo")}
	}
	// filterModel is a filter model in one of the shapes clients send.
	filterModel := func(t *rapid.T, label string) any {
		switch rapid.IntRange(0, 4).Draw(t, label+" shape") {
		case 0:
			return nil
		case 1:
			return map[string]any{}
		case 2:
			return condition(t, label)
		}
		n := rapid.IntRange(1, 3).Draw(t, label+" conditions")
		conds := make([]any, n)
		for i := range conds {
			conds[i] = condition(t, fmt.Sprintf("%s.conditions[%d]", label, i))
		}
		return map[string]any{"filterType": "join", "type": join(t, label+".type"), "conditions": conds}
	}
	hints := map[string]specgen.Hint{
		"AngularGridGetRowsRequest.startRow": func(t *rapid.T, label string) any { return float64(rapid.IntRange(0, 20).Draw(t, label)) },
		"AngularGridGetRowsRequest.endRow":   func(t *rapid.T, label string) any { return float64(rapid.IntRange(20, 150).Draw(t, label)) },
		"AngularGridGetRowsRequest.groupKeys": func(t *rapid.T, label string) any {
			if !specgen.OneIn(t, label+" empty?", 4) {
				return []any{}
			}
			return listOf(value)(t, label)
		},
		"AngularGridGetRowsRequest.continuationToken":         func(*rapid.T, string) any { return nil },
		"AngularGridGetRowsRequest.filterModel":               filterModel,
		"PolicyIssueFiltersRequest.filterModel":               filterModel,
		"AngularGridSortModelItem.colId":                      column,
		"AngularGridColumn.id":                                column,
		"AngularGridColumn.field":                             column,
		"AngularGridColumn.aggFunc":                           pick(fixed("count", "min", "max", "sum")),
		"PolicyIssueFiltersRequest.field":                     column,
		"GetPolicyComplianceResultsRequest.size":              func(t *rapid.T, label string) any { return float64(rapid.IntRange(1, 60).Draw(t, label)) },
		"GetPolicyComplianceResultsRequest.continuationToken": pick(fixed("")),
		"UpdatePolicyGroupRequest.addStack": func(t *rapid.T, label string) any {
			return map[string]any{"name": stackName(t, label+".name"), "routingProject": stackProject(t, label+".routingProject")}
		},
		"PolicyEvaluationStack.project":             stackProject,
		"PolicyEvaluationStack.name":                stackName,
		"PolicyEvaluationStack.version":             version,
		"PolicyEvaluationAccount.name":              account,
		"PolicyEvaluationAccount.version":           version,
		"PolicyEvaluationRequest.policyGroup":       pick(func() []string { return a.groups }),
		"PolicyEvaluationPack.name":                 packOrFresh,
		"PolicyEvaluationPack.versionTag":           semver,
		"PolicyEvaluationResource.urn":              urnHint,
		"PolicyEvaluationResource.version":          version,
		"PolicyEvaluationResourcePack.name":         pack,
		"PolicyEvaluationResourcePack.passed":       listOf(policy),
		"PolicyEvaluationResourcePack.failed":       listOf(policy),
		"PolicyEvaluationViolation.policyPack":      pack,
		"PolicyEvaluationViolation.policyName":      policy,
		"PolicyEvaluationViolation.resourceURN":     urnHint,
		"InsightsPolicyViolation.policyPackName":    pack,
		"InsightsPolicyViolation.policyName":        policy,
		"InsightsPolicyViolation.policyPackVersion": semver,
		"InsightsPolicyViolation.resourceURN":       urnHint,
		"AppPolicy.name":                            freshName,
		// A body publishing to a path that names the pack names it too
		// (the draws without the hint name others).
		"AppCreatePolicyPackRequest.name": func(t *rapid.T, label string) any {
			if name := cur.pathPack(); name != "" {
				return name
			}
			return packOrFresh(t, label)
		},
		"AppCreatePolicyPackRequest.versionTag":  semver,
		"NewPolicyGroupRequest.name":             freshName,
		"UpdatePolicyGroupRequest.newName":       freshName,
		"AppPulumiStackReference.name":           stackName,
		"AppPulumiStackReference.routingProject": stackProject,
		"AppInsightsAccountReference.name":       account,
		"AppPolicyPackMetadata.name":             published,
		"AppPolicyPackMetadata.version":          func(t *rapid.T, label string) any { return float64(rapid.IntRange(0, 1).Draw(t, label)) },
		"UpdatePolicyGroupRequest.removeStack": func(t *rapid.T, label string) any {
			return map[string]any{"name": stackName(t, label+".name"), "routingProject": stackProject(t, label+".routingProject")}
		},
		"UpdatePolicyIssueRequest.assignedTo": pick(func() []string { return append([]string{""}, a.members...) }),
		"UpdatePolicyIssueRequest.status":     pick(fixed("open", "in_progress", "by_design", "ignored")),
		// A batch's members agree (members are drawn in name order): a
		// reason comes with an end a day ahead and status ignored or
		// by_design, no reason with null (an acceptance ended); ids name as
		// many distinct issues of A as expectedCount says, or only an id
		// no issue has when it says 0.
		"BatchUpdatePolicyIssuesRequest.acceptanceReason": func(t *rapid.T, label string) any {
			cur.batch.accepting = true
			return "accepted by the contract fuzz"
		},
		"BatchUpdatePolicyIssuesRequest.acceptedUntil": func(t *rapid.T, label string) any {
			if cur.batch.accepting {
				return time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
			}
			return nil
		},
		"BatchUpdatePolicyIssuesRequest.expectedCount": func(t *rapid.T, label string) any {
			cur.batch.count = rapid.IntRange(0, min(3, len(a.issues))).Draw(t, label)
			return float64(cur.batch.count)
		},
		"BatchUpdatePolicyIssuesRequest.ids": func(t *rapid.T, label string) any {
			if cur.batch.count == 0 || cur.batch.count > len(a.issues) {
				return []any{"00000000-0000-4000-8000-000000000000"}
			}
			perm := rapid.Permutation(a.issues).Draw(t, label)
			out := make([]any, cur.batch.count)
			for i := range out {
				out[i] = perm[i].ID
			}
			return out
		},
		"BatchUpdatePolicyIssuesRequest.status": func(t *rapid.T, label string) any {
			if cur.batch.accepting {
				return rapid.SampledFrom([]string{"by_design", "ignored"}).Draw(t, label)
			}
			return rapid.SampledFrom([]string{"open", "in_progress", "by_design", "ignored"}).Draw(t, label)
		},
		"BatchUpdatePolicyIssuesRequest.assignedTo": pick(func() []string { return append([]string{""}, a.members...) }),
		"ListPolicyPacksRequest.ids": listOf(pick(func() []string {
			out := []string{"00000000-0000-4000-8000-000000000000"}
			for _, v := range a.versions {
				out = append(out, v.UUID)
			}
			return out
		})),
		// By name alone, hints for parameters and properties alike:
		// orgLogin names an organisation (B's one time in eight, which must
		// not be found); tag a version of the path's pack; policypack (a
		// filter) a pack.
		"orgLogin": func(t *rapid.T, label string) any {
			if specgen.OneIn(t, label+" B's?", 8) {
				return b.Name
			}
			return a.Name
		},
		"tag": func(t *rapid.T, label string) any {
			return versionRef(t, a.versions, cur.pathPack(), false, label)
		},
		"policypack": pack,
		// Webhooks name the organisation and stack of the path, and URLs
		// that deliveries refuse at once (no name to resolve).
		"Webhook.organizationName":       func(*rapid.T, string) any { return a.Name },
		"Webhook.projectName":            func(*rapid.T, string) any { return cur.path["projectName"] },
		"Webhook.stackName":              func(*rapid.T, string) any { return cur.path["stackName"] },
		"Webhook.name":                   freshName,
		"Webhook.payloadUrl":             pick(fixed("http://127.0.0.1:9/hook", "https://10.0.0.1/hook", "http://169.254.169.254/latest")),
		"WebhookUpdate.payloadUrl":       pick(fixed("http://127.0.0.1:9/hook", "https://10.0.0.1/hook")),
		"WebhookUpdate.organizationName": func(*rapid.T, string) any { return a.Name },
		"WebhookUpdate.projectName":      func(*rapid.T, string) any { return cur.path["projectName"] },
		"WebhookUpdate.stackName":        func(*rapid.T, string) any { return cur.path["stackName"] },
		"WebhookUpdate.name":             func(*rapid.T, string) any { return cur.path["hookName"] },
	}
	for _, model := range []string{"AngularGridFilterModel", "AngularGridAdvancedFilterModel"} {
		hints[model+".colId"] = column
		hints[model+".filterType"] = filterType
		hints[model+".type"] = conditionType
		hints[model+".operator"] = join
		hints[model+".filter"] = func(t *rapid.T, label string) any {
			if rapid.Bool().Draw(t, label+" number?") {
				return number(t, label)
			}
			return value(t, label)
		}
		hints[model+".filterTo"] = number
		hints[model+".values"] = listOf(value)
		hints[model+".dateFrom"] = date
		hints[model+".dateTo"] = date
	}
	return hints
}

// fuzzOneMemberOf are the members of which the server takes exactly one,
// as the schemas' descriptions say: a complete evaluation names a stack or
// an account; a batch update selects by ids or by filter; an update of a
// policy group is best made one change at a time (several at once are
// valid, and drawn now and then).
var fuzzOneMemberOf = map[string][]string{
	"BatchUpdatePolicyIssuesRequest": {"ids", "filterModel"},
	"PolicyEvaluationRequest":        {"stack", "account"},
	"UpdatePolicyGroupRequest":       {"newName", "addStack", "removeStack", "addPolicyPack", "removePolicyPack", "addInsightsAccount", "removeInsightsAccount"},
}

// versionRef names a version of a pack (any pack when pack is "") as a path
// or query parameter does: its number, its tag (now and then with a leading
// "v", as the pulumi CLI may send it) or "latest"; only a number when
// numeric.
func versionRef(t *rapid.T, versions []packVersion, pack string, numeric bool, label string) string {
	var of []packVersion
	for _, v := range versions {
		if pack == "" || v.Name == pack {
			of = append(of, v)
		}
	}
	if len(of) == 0 {
		return "latest"
	}
	v := rapid.SampledFrom(of).Draw(t, label+" version")
	if numeric {
		return strconv.Itoa(v.Version)
	}
	return versionText(t, v, label)
}

// versionText names v by number, tag or "latest".
func versionText(t *rapid.T, v packVersion, label string) string {
	switch rapid.IntRange(0, 5).Draw(t, label+" by") {
	case 0:
		return "latest"
	case 1:
		if strings.Contains(v.Tag, ".") {
			return "v" + v.Tag
		}
		return v.Tag
	case 2, 3:
		return v.Tag
	}
	return strconv.Itoa(v.Version)
}
