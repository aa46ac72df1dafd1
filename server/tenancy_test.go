package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
)

// readOnlyPOSTs are the POST operations that only read: a viewer may call
// them. Every other POST, PUT, PATCH and DELETE is a write.
var readOnlyPOSTs = map[string]bool{
	"GetPolicyComplianceResults": true, // /compliance
	"ListPolicyIssues":           true, // /issues
	"ExportPolicyIssues":         true, // /issues/export
	"GetPolicyIssuesFilters":     true, // /issues/filters
	"ListPoliciesCompliance":     true, // /policies
	"GetPolicyResultsTrends":     true, // /trends

	// ListPolicyPacks_post, as the generated spec names it.
	"ListPolicyPacksPost":                true, // /api/registry/policypacks
	"ListPolicyPacksPreviewRegistryPost": true, // /api/preview/registry/policypacks
}

// adminOnlyReads are the reads only an admin may make: a viewer is
// answered 403. Webhooks name where events go (a chat service's URL is a
// credential of its own), so only admins see them.
var adminOnlyReads = map[string]bool{
	"ListOrganizationWebhooks":         true,
	"GetOrganizationWebhook":           true,
	"GetOrganizationWebhookDeliveries": true,
	"ListStackWebhooks":                true,
	"GetStackWebhook":                  true,
	"GetStackWebhookDeliveries":        true,
}

// specOperation is one operation of openapi.yaml.
type specOperation struct {
	method, path string
	op           *openapi3.Operation
	params       openapi3.Parameters
	// credentialParam is the query parameter of a security scheme that
	// authorizes the operation instead of a token (a presigned URL's
	// credential), "" when none does.
	credentialParam string
}

func (o specOperation) String() string { return o.op.OperationID + " " + o.method + " " + o.path }

func (o specOperation) isWrite() bool {
	return o.method != http.MethodGet && o.method != http.MethodHead && !readOnlyPOSTs[o.op.OperationID]
}

// namesOrganization reports whether an operation names an organisation: an
// {orgName} or a registry {publisher} in its path, or an orgLogin query
// parameter or body property.
func namesOrganization(path string, op *openapi3.Operation, params openapi3.Parameters) bool {
	if strings.Contains(path, "{orgName}") || strings.Contains(path, "{publisher}") {
		return true
	}
	for _, p := range params {
		if p.Value.Name == "orgLogin" {
			return true
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema.Value.Properties["orgLogin"] != nil {
			return true
		}
	}
	return false
}

// orgOperations reads every operation that names an organisation from the
// embedded spec, so operations added later are walked too.
func orgOperations(t *testing.T) []specOperation {
	t.Helper()
	var out []specOperation
	for _, o := range specOperations(t) {
		if namesOrganization(o.path, o.op, o.params) {
			out = append(out, o)
		}
	}
	if len(out) < 40 {
		t.Fatalf("only %d operations that name an organisation in the spec", len(out))
	}
	return out
}

// sampleValue is a minimal value valid for a schema: the required
// properties of an object (their values from the object's example when it
// has one), minItems items of an array, and for a scalar its example, first
// enum value or default, else a string of minLength or a number above its
// minimum. (Whole examples of objects are not used: they show features,
// not the minimum.)
func sampleValue(ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil || depth > 12 {
		return nil
	}
	s := ref.Value
	scalar := !s.Type.Is("object") && !s.Type.Is("array") && len(s.Properties) == 0
	switch {
	case scalar && s.Example != nil:
		return s.Example
	case len(s.Enum) > 0:
		return s.Enum[0]
	case scalar && s.Default != nil:
		return s.Default
	case len(s.AllOf) > 0:
		merged := map[string]any{}
		for _, part := range s.AllOf {
			switch v := sampleValue(part, depth+1).(type) {
			case map[string]any:
				for k, pv := range v {
					merged[k] = pv
				}
			default:
				return v
			}
		}
		for _, name := range s.Required {
			if _, ok := merged[name]; !ok {
				merged[name] = sampleValue(s.Properties[name], depth+1)
			}
		}
		return merged
	case len(s.OneOf) > 0:
		return sampleValue(s.OneOf[0], depth+1)
	case len(s.AnyOf) > 0:
		return sampleValue(s.AnyOf[0], depth+1)
	}
	switch {
	case s.Type.Is("object") || len(s.Properties) > 0:
		example, _ := s.Example.(map[string]any)
		obj := map[string]any{}
		for _, name := range s.Required {
			if v, ok := example[name]; ok {
				obj[name] = v
			} else {
				obj[name] = sampleValue(s.Properties[name], depth+1)
			}
		}
		return obj
	case s.Type.Is("array"):
		items := []any{}
		for i := uint64(0); i < s.MinItems; i++ {
			items = append(items, sampleValue(s.Items, depth+1))
		}
		return items
	case s.Type.Is("string"):
		switch s.Format {
		case "date-time":
			return time.Now().UTC().Format(time.RFC3339)
		case "uuid":
			return "00000000-0000-4000-8000-000000000000"
		}
		return "sample" + strings.Repeat("x", int(s.MinLength))
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil {
			return *s.Min + 1
		}
		return 1
	case s.Type.Is("boolean"):
		return false
	}
	return nil
}

// tenantB is organisation B with one of everything the paths name.
type tenantB struct {
	org        *servertest.Org
	pathValues map[string]string
}

func seedTenant(t *testing.T, env *servertest.Env) *tenantB {
	t.Helper()
	ctx := context.Background()
	org := env.NewOrg(t)
	seedStacks(t, env, org, 1, 4)
	publishPack(t, env, org, "registered", "1.0.0", testPolicies())
	admin := env.Client(t, org.Admin)
	if r, err := admin.NewPolicyGroupWithResponse(ctx, org.Name, client.NewPolicyGroupRequest{Name: "team-b", EntityType: ptr(client.PolicyGroupEntityTypeStacks)}); err != nil || r.StatusCode() >= 300 {
		t.Fatalf("new group: %v %s", err, r.Body)
	}
	res := urn("shop", "s0", "aws:s3/bucket:Bucket", "bucket-0")
	msg := "public"
	results := client.InsightsPolicyResults{}
	results.Violations.Set([]client.InsightsPolicyViolation{{PolicyPackName: "baseline", PolicyName: "no-public-read", ResourceURN: &res, Message: &msg}})
	if r, err := env.Client(t, org.OrgToken).UpdateResourceVersionPolicyResultsWithResponse(ctx, org.Name, "acct-b", "s3/bucket-b", 1,
		client.UpdateInsightsResourceVersionPolicyResultsRequest{Results: results}); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("account results: %v %s", err, r.Body)
	}
	for _, create := range []func() (int, []byte, error){
		func() (int, []byte, error) {
			r, err := admin.CreateOrganizationWebhookWithResponse(ctx, org.Name, client.Webhook{Name: ptr("b-hook"), DisplayName: "B", PayloadUrl: "https://hooks.example.com/b", Secret: ptr("b-secret")})
			return r.StatusCode(), r.Body, err
		},
		func() (int, []byte, error) {
			r, err := admin.CreateStackWebhookWithResponse(ctx, org.Name, "shop", "s0", client.Webhook{Name: ptr("b-hook"), DisplayName: "B", PayloadUrl: "https://hooks.example.com/b"})
			return r.StatusCode(), r.Body, err
		},
	} {
		if status, body, err := create(); err != nil || status != http.StatusCreated {
			t.Fatalf("create webhook: %v %d %s", err, status, body)
		}
	}
	issues := issuesOf(t, env.Client(t, org.Viewer), org.Name)
	if len(issues) == 0 {
		t.Fatal("organisation B has no issues")
	}
	return &tenantB{org: org, pathValues: map[string]string{
		"orgName":           org.Name,
		"issueId":           issues[0].Id.String(),
		"policyPackName":    "registered",
		"version":           "1",
		"policyGroup":       "team-b",
		"projectName":       "shop",
		"stackName":         "s0",
		"accountName":       "acct-b",
		"resourceTypeAndId": "s3/bucket-b",
		"resourceVersion":   "1",
		"source":            "private",
		"publisher":         org.Name,
		"name":              "registered",
		"hookName":          "b-hook",
	}}
}

// request builds the operation's request against organisation B's names
// and ids with a minimal valid body; an orgLogin (query or body) names B.
func (b *tenantB) request(t *testing.T, env *servertest.Env, o specOperation, token string) *http.Request {
	t.Helper()
	path := o.path
	query := url.Values{}
	for _, p := range o.params {
		switch {
		case p.Value.In == openapi3.ParameterInQuery && p.Value.Name == "orgLogin":
			query.Set("orgLogin", b.org.Name)
		case p.Value.In == openapi3.ParameterInPath:
			v, ok := b.pathValues[p.Value.Name]
			if !ok {
				t.Fatalf("%s: no value of organisation B for path parameter {%s}; add one to seedTenant", o, p.Value.Name)
			}
			path = strings.ReplaceAll(path, "{"+p.Value.Name+"}", url.PathEscape(v))
		}
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	var body io.Reader
	contentType := ""
	if rb := o.op.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			sample := sampleValue(mt.Schema, 0)
			if obj, ok := sample.(map[string]any); ok && mt.Schema.Value.Properties["orgLogin"] != nil {
				obj["orgLogin"] = b.org.Name
			}
			js, err := json.Marshal(sample)
			if err != nil {
				t.Fatal(err)
			}
			body, contentType = bytes.NewReader(js), "application/json"
		} else {
			body, contentType = bytes.NewReader([]byte("\x1f\x8b archive")), "application/gzip"
		}
	}
	req, err := http.NewRequest(o.method, env.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	return req
}

// orgSnapshot is every row of every table with an org_id column (and the
// organisation's own row), as sorted JSON, without last_used_at (which a
// token's use updates). Of the text dictionary it holds the values issues
// refer to: the dictionary interns values before an evaluation's
// transaction, so an evaluation refused or cut off after that leaves its
// new values unreferenced, where no answer can see them.
func orgSnapshot(t *testing.T, r *repository.Repository, orgID int64) string {
	t.Helper()
	db := r.DB()
	tables := tenantTables(t, r)
	var sb strings.Builder
	snap := func(name, where string, arg any) {
		// Table names come from the catalogue, never from input.
		rows, err := db.Raw(`SELECT * FROM `+name+` WHERE `+where, repeat(arg, strings.Count(where, "?"))...).Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := map[string]any{}
			for i, c := range cols {
				if c != "last_used_at" {
					row[c] = vals[i]
				}
			}
			b, _ := json.Marshal(row)
			lines = append(lines, string(b))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		sort.Strings(lines)
		sb.WriteString(name + ":\n" + strings.Join(lines, "\n") + "\n")
	}
	snap("organizations", "id = ?", orgID)
	for _, table := range tables {
		snap(table, orgRowsWhere(table), orgID)
	}
	return sb.String()
}

// tenantTables are the tables with an org_id column.
func tenantTables(t testing.TB, r *repository.Repository) []string {
	t.Helper()
	var tables []string
	q := `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'org_id' ORDER BY 1`
	if r.Dialect() == repository.Postgres {
		q = `SELECT table_name FROM information_schema.columns WHERE column_name = 'org_id' AND table_schema = current_schema() ORDER BY 1`
	}
	if err := r.DB().Raw(q).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("only %d tables with org_id: %v", len(tables), tables)
	}
	return tables
}

// orgRowsWhere picks a table's rows of the organisation, whose id every
// placeholder binds: every row with its org_id but, of the text
// dictionary, only the values issues refer to (see orgSnapshot). The
// subquery is not correlated, so that it runs once, not once a row.
func orgRowsWhere(table string) string {
	if table != "issue_texts" {
		return "org_id = ?"
	}
	return `org_id = ? AND id IN (SELECT name_ref FROM policy_issues WHERE org_id = ?
		UNION SELECT message_ref FROM policy_issues WHERE org_id = ?
		UNION SELECT urn_prefix_ref FROM policy_issues WHERE org_id = ?
		UNION SELECT urn_suffix_ref FROM policy_issues WHERE org_id = ?)`
}

// repeat is n copies of v, for the placeholders of orgRowsWhere.
func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestTenancyWalk walks every operation that names an organisation in
// openapi.yaml (namesOrganization) against organisation B: with tokens of organisation A every one answers
// 404 "Organization not found"; with no token or an unknown one 401; with
// the credential of A's presigned upload URL and no token the archive
// upload 403 and every other operation 401; with B's viewer tokens every
// write and admin-only read answers 403 and every other read succeeds; and
// no row of A or B changes.
func TestTenancyWalk(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		orgA := env.NewOrg(t)
		seedStacks(t, env, orgA, 1, 2)
		tb := seedTenant(t, env)
		credentialA := credentialOf(t, createVersion(t, env, orgA, "a-pack", "1.0.0").UploadURI)
		ops := orgOperations(t)
		hc := &http.Client{Transport: env.ValidatingTransport(t), Timeout: time.Minute}
		do := func(req *http.Request) (int, server.ErrorBody) {
			t.Helper()
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var eb server.ErrorBody
			if resp.StatusCode >= 400 {
				if err := json.Unmarshal(raw, &eb); err != nil || eb.Code != resp.StatusCode || eb.Message == "" {
					t.Errorf("%s %s: error body %q is not Pulumi's", req.Method, req.URL.Path, raw)
				}
			}
			return resp.StatusCode, eb
		}
		snapshots := func() string {
			return orgSnapshot(t, b.Repo, orgA.ID) + "\n---\n" + orgSnapshot(t, b.Repo, tb.org.ID)
		}
		before := snapshots()
		checkUnchanged := func(phase string) {
			t.Helper()
			if after := snapshots(); after != before {
				t.Fatalf("%s changed data:\nbefore:\n%.3000s\nafter:\n%.3000s", phase, before, after)
			}
		}

		for _, tok := range []struct{ name, token string }{{"A's admin", orgA.Admin}, {"A's organisation token", orgA.OrgToken}} {
			for _, o := range ops {
				status, eb := do(tb.request(t, env, o, tok.token))
				if status != http.StatusNotFound || eb.Message != "Organization not found" {
					t.Errorf("%s with %s: %d %q, want 404 Organization not found", o, tok.name, status, eb.Message)
				}
			}
		}
		checkUnchanged("organisation A's tokens")

		for _, tok := range []string{"", "pul-0000000000000000000000000000000000000000", "garbage"} {
			for _, o := range ops {
				if status, _ := do(tb.request(t, env, o, tok)); status != http.StatusUnauthorized {
					t.Errorf("%s with token %q: %d, want 401", o, tok, status)
				}
			}
		}
		checkUnchanged("requests without a valid token")

		for _, o := range ops {
			req := tb.request(t, env, o, "")
			q := req.URL.Query()
			q.Set("credential", credentialA)
			req.URL.RawQuery = q.Encode()
			want := http.StatusUnauthorized
			if o.op.OperationID == "UploadPolicyPackArchive" {
				want = http.StatusForbidden
			}
			if status, eb := do(req); status != want {
				t.Errorf("%s with A's upload credential and no token: %d %q, want %d", o, status, eb.Message, want)
			}
		}
		checkUnchanged("A's upload credential")

		writes := 0
		for _, tok := range []struct{ name, token string }{{"B's viewer", tb.org.Viewer}, {"B's viewer organisation token", tb.org.OrgViewerToken}} {
			for _, o := range ops {
				status, eb := do(tb.request(t, env, o, tok.token))
				switch {
				case o.isWrite() || adminOnlyReads[o.op.OperationID]:
					writes++
					if status != http.StatusForbidden {
						t.Errorf("%s with %s: %d %q, want 403", o, tok.name, status, eb.Message)
					}
				case status >= 300:
					t.Errorf("%s (a read) with %s: %d %q, want success", o, tok.name, status, eb.Message)
				}
			}
		}
		if writes < 2*12 {
			t.Errorf("only %d writes walked", writes)
		}
		checkUnchanged("B's viewer tokens")
	})
}
