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

// cliRequest sends a request the way the pulumi CLI does: its headers, a
// JSON body and gzip accepted; the answer is decompressed when gzipped.
func cliRequest(t *testing.T, env *servertest.Env, token, method, path, body, cmd string) (int, http.Header, []byte) {
	t.Helper()
	resp, raw := send(t, method, env.URL+path, body, map[string]string{
		"Authorization":   "token " + token,
		"Accept":          "application/vnd.pulumi+9",
		"Accept-Encoding": "gzip",
		"User-Agent":      "pulumi-cli/1 (v3.259.0; linux; cmd=" + cmd + ")",
	})
	if resp.Header.Get("Content-Encoding") == "gzip" {
		raw = gunzip(t, raw)
	}
	return resp.StatusCode, resp.Header, raw
}

// pulumiAPIRequest sends a request the way `pulumi api <operation>` does
// (pkg/cmd/pulumi/api/client.go): every body gzip-compressed with
// Content-Encoding: gzip, Accept naming JSON and Pulumi's API version, gzip
// accepted; the answer is decompressed when gzipped.
func pulumiAPIRequest(t *testing.T, env *servertest.Env, token, method, path, body string) (int, []byte) {
	t.Helper()
	header := map[string]string{
		"Authorization":   "token " + token,
		"Accept":          "application/json, application/vnd.pulumi+8",
		"Accept-Encoding": "gzip",
		"User-Agent":      "pulumi-cli/1 (v3.259.0; linux)",
	}
	if body != "" {
		body = string(gzipBytes(t, []byte(body)))
		header["Content-Encoding"] = "gzip"
	}
	resp, raw := send(t, method, env.URL+path, body, header)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		raw = gunzip(t, raw)
	}
	return resp.StatusCode, raw
}

func TestPulumiCLILogin(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		status, _, body := cliRequest(t, env, org.Member, http.MethodGet, "/api/user", "", "login")
		var user client.User
		if status != http.StatusOK || json.Unmarshal(body, &user) != nil {
			t.Fatalf("GET /api/user: %d %s", status, body)
		}
		if user.GithubLogin != org.MemberLogin || len(user.Organizations) != 1 || user.Organizations[0].GithubLogin != org.Name {
			t.Fatalf("user %+v", user)
		}
		status, _, body = cliRequest(t, env, org.Member, http.MethodGet, "/api/user/organizations/default", "", "login")
		if status != http.StatusOK || !strings.Contains(string(body), `"GitHubLogin":"`+org.Name+`"`) {
			t.Fatalf("default organisation: %d %s", status, body)
		}
		status, _, body = cliRequest(t, env, org.Member, http.MethodGet, "/api/capabilities", "", "login")
		if status != http.StatusOK || !strings.Contains(string(body), `"capabilities":[]`) {
			t.Fatalf("capabilities: %d %s", status, body)
		}
		// An organisation token answers as its organisation.
		status, _, body = cliRequest(t, env, org.OrgToken, http.MethodGet, "/api/user", "", "whoami")
		if status != http.StatusOK || json.Unmarshal(body, &user) != nil || user.GithubLogin != org.Name {
			t.Fatalf("org token /api/user: %d %s", status, body)
		}
		// 401 means "login required" to the CLI, with Pulumi's error body.
		status, _, body = cliRequest(t, env, "pul-1111111111111111111111111111111111111111", http.MethodGet, "/api/user", "", "login")
		if status != http.StatusUnauthorized || !strings.Contains(string(body), `"code":401`) {
			t.Fatalf("bad token: %d %s", status, body)
		}
		// The same requests through the validating client, to hold the
		// answers to the spec.
		c := env.Client(t, org.Member)
		ctx := context.Background()
		if r, err := c.GetCurrentUserWithResponse(ctx); err != nil || r.StatusCode() != http.StatusOK {
			t.Fatalf("client /api/user: %v", err)
		}
		if r, err := c.CapabilitiesWithResponse(ctx); err != nil || r.StatusCode() != http.StatusOK {
			t.Fatalf("client capabilities: %v", err)
		}
		if r, err := c.GetDefaultOrganizationWithResponse(ctx); err != nil || r.StatusCode() != http.StatusOK {
			t.Fatalf("client default org: %v", err)
		}
	})
}

func TestPulumiCLIIssueListAndComplianceList(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 7, 30)

		// pulumi policy issue list --all: startRow += len(policyIssues) until
		// rowCount is reached or a page is empty.
		seen := map[string]bool{}
		start, rowCount := 0, -1
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			body := `{"startRow":` + itoa(start) + `,"endRow":` + itoa(start+100) + `,"sortModel":null}`
			status, hdr, raw := cliRequest(t, env, org.Member, http.MethodPost, "/api/orgs/"+org.Name+"/policyresults/issues", body, "policy-issue-list")
			if status != http.StatusOK {
				t.Fatalf("issue list: %d %s", status, raw)
			}
			if len(raw) > 1024 && hdr.Get("Content-Encoding") != "gzip" {
				t.Errorf("a %d-byte answer to a client accepting gzip is not gzipped", len(raw))
			}
			var page client.ListPolicyIssuesResponse
			if err := json.Unmarshal(raw, &page); err != nil {
				t.Fatal(err)
			}
			rowCount = *page.RowCount
			for _, is := range page.PolicyIssues {
				if seen[is.Id.String()] {
					t.Fatalf("issue %s on two pages", is.Id)
				}
				seen[is.Id.String()] = true
			}
			start += len(page.PolicyIssues)
			if len(page.PolicyIssues) == 0 || start >= rowCount {
				break
			}
		}
		if rowCount <= 100 || len(seen) != rowCount {
			t.Fatalf("collected %d issues, rowCount %d (want more than one page)", len(seen), rowCount)
		}
		// pulumi policy issue get ID
		var any string
		for id := range seen {
			any = id
			break
		}
		status, _, raw := cliRequest(t, env, org.Member, http.MethodGet, "/api/orgs/"+org.Name+"/policyresults/issues/"+any, "", "policy-issue-get")
		if status != http.StatusOK || !strings.Contains(string(raw), any) {
			t.Fatalf("issue get: %d %s", status, raw)
		}
		// pulumi policy compliance list: size 1000, then continuationToken
		// until absent or empty.
		rows, token := 0, ""
		for pages := 0; ; pages++ {
			body := `{"entity":"stack","size":1000}`
			if token != "" {
				body = `{"entity":"stack","size":1000,"continuationToken":"` + token + `"}`
			}
			status, _, raw := cliRequest(t, env, org.Member, http.MethodPost, "/api/orgs/"+org.Name+"/policyresults/compliance", body, "policy-compliance-list")
			if status != http.StatusOK {
				t.Fatalf("compliance list: %d %s", status, raw)
			}
			var page client.GetPolicyComplianceResultsResponse
			if err := json.Unmarshal(raw, &page); err != nil {
				t.Fatal(err)
			}
			rows += len(page.Rows)
			if page.ContinuationToken == nil || *page.ContinuationToken == "" || pages > 10 {
				break
			}
			token = *page.ContinuationToken
		}
		if rows != 7 {
			t.Fatalf("compliance rows %d, want 7 stacks", rows)
		}
	})
}

// TestPulumiAPICommand replays `pulumi api` calls, whose bodies are
// gzip-compressed: an Insights results upload, the issue grid, and
// `pulumi api UpdatePolicyIssue -X PATCH -F orgName=acme -F issueId=ID -F priority=p2`.
func TestPulumiAPICommand(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		stack := "/api/preview/insights/" + org.Name + "/policy/stacks/web/prod/updates/1/results"
		status, raw := pulumiAPIRequest(t, env, org.OrgToken, http.MethodPut, stack,
			`{"results":{"succeeded":false,"violations":[{"policyPackName":"aws","policyName":"public-read","resourceURN":"urn:pulumi:prod::web::aws:s3/bucket:Bucket::site","message":"Bucket is public"}]}}`)
		if status != http.StatusNoContent {
			t.Fatalf("UpdateStackPolicyResults: %d %s", status, raw)
		}
		issues := "/api/orgs/" + org.Name + "/policyresults/issues"
		status, raw = pulumiAPIRequest(t, env, org.Member, http.MethodPost, issues, `{"startRow":0,"endRow":100}`)
		var page client.ListPolicyIssuesResponse
		if status != http.StatusOK || json.Unmarshal(raw, &page) != nil || len(page.PolicyIssues) != 1 {
			t.Fatalf("ListPolicyIssues: %d %s", status, raw)
		}
		id := page.PolicyIssues[0].Id.String()
		status, raw = pulumiAPIRequest(t, env, org.Member, http.MethodPatch, issues+"/"+id, `{"priority":"p2"}`)
		var updated client.GetPolicyIssueResponse
		if status != http.StatusOK || json.Unmarshal(raw, &updated) != nil || updated.PolicyIssue.Priority != client.PolicyIssuePriorityP2 {
			t.Fatalf("UpdatePolicyIssue: %d %s", status, raw)
		}
		status, raw = pulumiAPIRequest(t, env, org.Member, http.MethodGet, issues+"/"+id, "")
		if status != http.StatusOK || !strings.Contains(string(raw), `"priority":"p2"`) {
			t.Fatalf("GetPolicyIssue: %d %s", status, raw)
		}
		// The same PATCH through the validating client holds the answer to
		// the spec.
		var sent int
		r, err := env.Client(t, org.Member).UpdatePolicyIssueWithResponse(context.Background(), org.Name, id, nil,
			client.UpdatePolicyIssueRequest{Status: ptr(client.PolicyIssueStatusInProgress)}, gzipRequests(t, &sent))
		if err != nil || r.JSON200 == nil || r.JSON200.PolicyIssue.Status != client.PolicyIssueStatusInProgress || sent != 1 {
			t.Fatalf("client UpdatePolicyIssue: %v %d %s", err, r.StatusCode(), r.Body)
		}
	})
}

func TestPulumiAPISpecDocument(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		resp, err := http.Get(env.URL + "/api/openapi/pulumi-spec.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc struct {
			OpenAPI string                    `json:"openapi"`
			Paths   map[string]map[string]any `json:"paths"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		op, ok := doc.Paths["/api/orgs/{orgName}/policyresults/issues"]["post"].(map[string]any)
		if doc.OpenAPI != "3.0.3" || !ok || op["operationId"] != "ListPolicyIssues" {
			t.Fatalf("spec JSON lacks ListPolicyIssues: %v", doc.Paths["/api/orgs/{orgName}/policyresults/issues"])
		}
		// Operation ids are Pulumi's as openapi.yaml spells them (what
		// `pulumi api <operationId>` takes), not the generated code's names.
		for _, want := range []struct{ path, method, id string }{
			{"/api/orgs/{orgName}/policypacks", "get", "ListPolicyPacks_orgs"},
			{"/api/orgs/{orgName}/policypacks/{policyPackName}", "delete", "DeletePolicyPack_orgs_policypacks"},
			{"/api/orgs/{orgName}/policypacks/{policyPackName}/versions/{version}/complete", "post", "CompletePolicyPack"},
			{"/api/registry/policypacks", "get", "ListPolicyPacks"},
			{"/api/registry/policypacks", "post", "ListPolicyPacks_post"},
			{"/api/registry/policypacks/{source}/{publisher}/{name}", "delete", "DeletePolicyPack"},
			{"/api/registry/policypacks/{source}/{publisher}/{name}/versions/{version}", "delete", "DeleteRegistryPolicyPackVersion"},
			{"/api/capabilities", "get", "Capabilities"},
			{"/api/openapi/pulumi-spec.json", "get", "FetchRestSpecification"},
		} {
			if op, _ := doc.Paths[want.path][want.method].(map[string]any); op["operationId"] != want.id {
				t.Errorf("%s %s: operation id %v, want %s", want.method, want.path, op["operationId"], want.id)
			}
		}
	})
}

// TestPulumiCLIPolicyConfig replays `pulumi policy validate-config
// ORG/storage 1.0.0 --config cfg.json` (the CLI reads the version's schemas
// and validates the file itself) and `pulumi policy enable ORG/storage
// 1.0.0 --config cfg.json` (the CLI applies the version, named by its tag,
// with the file's configuration to the default group): the stack's packs
// then carry that version and configuration.
func TestPulumiCLIPolicyConfig(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 1, 2)
		publishPack(t, env, org, "storage", "1.0.0", configuredPolicies())
		publishPack(t, env, org, "storage", "1.1.0", configuredPolicies())

		status, _, raw := cliRequest(t, env, org.Admin, http.MethodGet, "/api/orgs/"+org.Name+"/policypacks/storage/versions/1.0.0/schema", "", "policy-validate-config")
		var schema struct {
			ConfigSchema map[string]struct {
				Required []string `json:"required"`
				Type     string   `json:"type"`
			} `json:"configSchema"`
		}
		if status != http.StatusOK || json.Unmarshal(raw, &schema) != nil || schema.ConfigSchema["retention"].Required[0] != "maxAgeDays" {
			t.Fatalf("validate-config schema: %d %s", status, raw)
		}
		// validate-config with `latest`.
		if status, _, raw := cliRequest(t, env, org.Admin, http.MethodGet, "/api/orgs/"+org.Name+"/policypacks/storage/versions/latest/schema", "", "policy-validate-config"); status != http.StatusOK {
			t.Fatalf("validate-config latest: %d %s", status, raw)
		}

		enable := `{"addPolicyPack":{"name":"storage","displayName":"","version":0,"versionTag":"1.0.0",` +
			`"config":{"retention":{"enforcementLevel":"advisory","maxAgeDays":30}}}}`
		status, _, raw = cliRequest(t, env, org.Admin, http.MethodPatch, "/api/orgs/"+org.Name+"/policygroups/default-policy-group", enable, "policy-enable")
		if status != http.StatusNoContent {
			t.Fatalf("policy enable: %d %s", status, raw)
		}
		packs, err := env.Client(t, org.OrgToken).GetStackPolicyPacksWithResponse(context.Background(), org.Name, "shop", "s0", nil)
		if err != nil || packs.JSON200 == nil || packs.JSON200.RequiredPolicies == nil || len(*packs.JSON200.RequiredPolicies) != 1 {
			t.Fatalf("stack packs: %v %s", err, packs.Body)
		}
		got := (*packs.JSON200.RequiredPolicies)[0]
		if got.Version != 1 || got.VersionTag != "1.0.0" || got.Config == nil ||
			(*got.Config)["retention"].(map[string]any)["enforcementLevel"] != "advisory" {
			t.Fatalf("enabled pack: %s", packs.Body)
		}
		// A tag the pack never published is refused, naming the field.
		bad := strings.Replace(enable, `"1.0.0"`, `"9.9.9"`, 1)
		status, _, raw = cliRequest(t, env, org.Admin, http.MethodPatch, "/api/orgs/"+org.Name+"/policygroups/default-policy-group", bad, "policy-enable")
		if status != http.StatusBadRequest || !strings.Contains(string(raw), "addPolicyPack.versionTag") {
			t.Fatalf("enable 9.9.9: %d %s", status, raw)
		}
	})
}

// TestPulumiCLIPolicyPublishAndRemove replays `pulumi policy publish` (create
// with the CLI's body, PUT the archive to the answered presigned URI with
// only its required headers and no token, complete by version tag) and
// `pulumi policy rm ORG/PACK 1.0.0` (delete by version tag).
func TestPulumiCLIPolicyPublishAndRemove(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		create := `{"name":"storage","displayName":"Storage","versionTag":"1.0.0","policies":[` +
			`{"name":"retention","displayName":"Retention","description":"Objects expire.","enforcementLevel":"mandatory",` +
			`"message":"Objects never expire.","configSchema":{"properties":{"maxAgeDays":{"type":"integer"}},"required":["maxAgeDays"],"type":"object"}}],` +
			`"metadata":{"gitHead":"0123abc"}}`
		status, _, raw := cliRequest(t, env, org.Admin, http.MethodPost, "/api/orgs/"+org.Name+"/policypacks", create, "policy-publish")
		var created struct {
			Version         int               `json:"version"`
			UploadURI       string            `json:"uploadURI"`
			RequiredHeaders map[string]string `json:"requiredHeaders"`
		}
		if status != http.StatusCreated || json.Unmarshal(raw, &created) != nil || created.UploadURI == "" {
			t.Fatalf("publish: %d %s", status, raw)
		}
		// The CLI sends only the required headers to the upload URI, which
		// is presigned.
		header := map[string]string{}
		for k, v := range created.RequiredHeaders {
			header[k] = v
		}
		if resp, body := send(t, http.MethodPut, created.UploadURI, "\x1f\x8b archive", header); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		status, _, raw = cliRequest(t, env, org.Admin, http.MethodPost, "/api/orgs/"+org.Name+"/policypacks/storage/versions/1.0.0/complete", "", "policy-publish")
		if status != http.StatusNoContent {
			t.Fatalf("complete by tag: %d %s", status, raw)
		}
		status, _, raw = cliRequest(t, env, org.Admin, http.MethodGet, "/api/orgs/"+org.Name+"/policypacks", "", "policy-ls")
		if status != http.StatusOK || !strings.Contains(string(raw), `"versionTags":["1.0.0"]`) {
			t.Fatalf("policy ls: %d %s", status, raw)
		}
		status, _, raw = cliRequest(t, env, org.Admin, http.MethodDelete, "/api/orgs/"+org.Name+"/policypacks/storage/versions/1.0.0", "", "policy-rm")
		if status != http.StatusNoContent {
			t.Fatalf("policy rm by tag: %d %s", status, raw)
		}
		status, _, raw = cliRequest(t, env, org.Admin, http.MethodGet, "/api/orgs/"+org.Name+"/policypacks", "", "policy-ls")
		if status != http.StatusOK || !strings.Contains(string(raw), `"policyPacks":[]`) {
			t.Fatalf("policy ls after rm: %d %s", status, raw)
		}
	})
}
