package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// configuredPolicies are two policies with configuration schemas, as the
// pulumi CLI publishes them, and one without.
func configuredPolicies() []client.AppPolicy {
	schema := func(props map[string]any, required ...string) client.AppPolicy {
		s := client.AppPolicyConfigSchema{Type: client.AppJSONSchemaTypeObject, Properties: &props}
		if required != nil {
			s.Required = &required
		}
		p := client.AppPolicy{EnforcementLevel: client.AppEnforcementLevelMandatory}
		p.ConfigSchema.Set(s)
		return p
	}
	retention := schema(map[string]any{"maxAgeDays": map[string]any{"type": "integer", "minimum": 1}}, "maxAgeDays")
	retention.Name, retention.DisplayName, retention.Description, retention.Message = "retention", "Retention", "Objects expire.", "Objects never expire."
	tags := schema(map[string]any{"required": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}})
	tags.Name, tags.DisplayName, tags.Description, tags.Message = "tagged", "Tagged", "Resources carry tags.", "Resource has no tags."
	plain := testPolicies()[0]
	return []client.AppPolicy{retention, tags, plain}
}

// TestPolicyPackConfigSchema publishes a pack whose policies carry
// configuration schemas and reads them back by version number, by tag (as
// the CLI names versions) and as the latest version, typed as Pulumi's
// AppPolicyConfigSchema, in GetPolicyPackConfigSchema, GetPolicyPack and an
// issue's policy.
func TestPolicyPackConfigSchema(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ctx := context.Background()
		publishPack(t, env, org, "storage", "1.0.0", configuredPolicies())
		publishPack(t, env, org, "storage", "1.1.0", configuredPolicies()[2:])
		viewer := env.Client(t, org.Viewer)

		for _, version := range []string{"1", "1.0.0", "v1.0.0"} {
			r, err := viewer.GetPolicyPackConfigSchemaWithResponse(ctx, org.Name, "storage", version)
			if err != nil || r.JSON200 == nil || r.JSON200.ConfigSchema == nil {
				t.Fatalf("schema of %s: %v %s", version, err, r.Body)
			}
			schemas := *r.JSON200.ConfigSchema
			if len(schemas) != 2 {
				t.Fatalf("schema of %s: %d policies, want the two with a schema: %s", version, len(schemas), r.Body)
			}
			ret := schemas["retention"]
			if ret.Type != client.AppJSONSchemaTypeObject || ret.Required == nil || (*ret.Required)[0] != "maxAgeDays" ||
				(*ret.Properties)["maxAgeDays"].(map[string]any)["minimum"] != float64(1) {
				t.Fatalf("retention schema %+v", ret)
			}
			if tagged := schemas["tagged"]; tagged.Required != nil || tagged.Properties == nil {
				t.Fatalf("tagged schema %+v", tagged)
			}
		}
		latest, err := viewer.GetPolicyPackConfigSchemaWithResponse(ctx, org.Name, "storage", "latest")
		if err != nil || latest.JSON200 == nil || len(*latest.JSON200.ConfigSchema) != 0 {
			t.Fatalf("latest (1.1.0, no schemas): %v %s", err, latest.Body)
		}
		// The CLI's own type reads the answer.
		var cli struct {
			ConfigSchema map[string]struct {
				Properties map[string]*json.RawMessage `json:"properties"`
				Required   []string                    `json:"required"`
				Type       string                      `json:"type"`
			} `json:"configSchema"`
		}
		status, _, raw := cliRequest(t, env, org.Member, http.MethodGet, "/api/orgs/"+org.Name+"/policypacks/storage/versions/1.0.0/schema", "", "policy-validate-config")
		if status != http.StatusOK || json.Unmarshal(raw, &cli) != nil || cli.ConfigSchema["retention"].Type != "object" || cli.ConfigSchema["retention"].Properties["maxAgeDays"] == nil {
			t.Fatalf("CLI decode: %d %s", status, raw)
		}

		for _, c := range []struct {
			pack, version string
			status        int
			field         string
		}{
			{"storage", "2.0.0", http.StatusNotFound, ""},
			{"nope", "latest", http.StatusNotFound, ""},
			{"storage", "one", http.StatusBadRequest, "version"},
			{"storage", "0", http.StatusBadRequest, "version"},
		} {
			r, err := viewer.GetPolicyPackConfigSchemaWithResponse(ctx, org.Name, c.pack, c.version)
			if err != nil || r.StatusCode() != c.status || !strings.Contains(string(r.Body), c.field) {
				t.Fatalf("%s %s: %v %d %s", c.pack, c.version, err, r.StatusCode(), r.Body)
			}
		}

		// GetPolicyPack answers the same typed schemas, by tag too.
		got, err := viewer.GetPolicyPackWithResponse(ctx, org.Name, "storage", "1.0.0")
		if err != nil || got.JSON200 == nil || got.JSON200.Version != 1 {
			t.Fatalf("get by tag: %v %s", err, got.Body)
		}
		for _, p := range got.JSON200.Policies {
			if p.Name == "retention" && (!p.ConfigSchema.IsSpecified() || p.ConfigSchema.MustGet().Type != client.AppJSONSchemaTypeObject) {
				t.Fatalf("policy %s schema %+v", p.Name, p.ConfigSchema)
			}
		}

		// An issue of the pack answers its policy's typed schema.
		ingest(t, env.Client(t, org.OrgToken), org.Name, evaluation{project: "shop", stack: "prod", version: 1, pack: "storage", tag: "1.0.0",
			policies: configuredPolicies(), resources: 1, fails: map[string][]int{"retention": {0}}}.request())
		issues := issuesOf(t, viewer, org.Name)
		if len(issues) != 1 {
			t.Fatalf("%d issues", len(issues))
		}
		issue, err := viewer.GetPolicyIssueWithResponse(ctx, org.Name, issues[0].Id.String())
		if err != nil || issue.JSON200 == nil || !issue.JSON200.Policy.IsSpecified() || issue.JSON200.Policy.IsNull() {
			t.Fatalf("issue: %v %s", err, issue.Body)
		}
		if schema := issue.JSON200.Policy.MustGet().ConfigSchema; !schema.IsSpecified() || (*schema.MustGet().Required)[0] != "maxAgeDays" {
			t.Fatalf("issue policy schema %s", issue.Body)
		}

		// A schema that is not an object schema is refused, naming the field.
		bad := configuredPolicies()[:1]
		body, _ := json.Marshal(client.AppCreatePolicyPackRequest{Name: "bad", DisplayName: "Bad", Policies: bad})
		body = []byte(strings.Replace(string(body), `"type":"object"`, `"type":"string"`, 1))
		resp, raw := send(t, http.MethodPost, env.URL+"/api/orgs/"+org.Name+"/policypacks", string(body), map[string]string{"Authorization": "token " + org.Admin})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `field \"policies.0.configSchema.type\": \"string\" is not allowed`) {
			t.Fatalf("string schema: %d %s", resp.StatusCode, raw)
		}
	})
}
