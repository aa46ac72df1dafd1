package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// rawCall sends a request with an arbitrary body through the validating
// transport and returns the status and decoded error body.
func rawCall(t *testing.T, env *servertest.Env, token, method, path, body string) (int, client.ErrorResponse, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	resp, err := (&http.Client{Transport: env.ValidatingTransport(t)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e client.ErrorResponse
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, e, raw
}

func TestAuthentication(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ctx := context.Background()
		body := client.AngularGridGetRowsRequest{StartRow: ptr(0), EndRow: ptr(10)}
		for _, tc := range []struct {
			name, token string
			want        int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"malformed token", "not-a-token", http.StatusUnauthorized},
			{"unknown token", "pul-0000000000000000000000000000000000000000", http.StatusUnauthorized},
			{"member", org.Member, http.StatusOK},
			{"viewer", org.Viewer, http.StatusOK},
			{"organisation token", org.OrgToken, http.StatusOK},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, err := env.Client(t, tc.token).ListPolicyIssuesWithResponse(ctx, org.Name, body)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode() != tc.want {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode(), tc.want, resp.Body)
				}
				if tc.want == http.StatusUnauthorized && (resp.JSON401 == nil || resp.JSON401.Code != 401 || resp.JSON401.Message == "") {
					t.Fatalf("401 body is not Pulumi's error body: %s", resp.Body)
				}
			})
		}
	})
}

func TestOtherOrganisationIsNotFound(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		mine, theirs := env.NewOrg(t), env.NewOrg(t)
		ctx := context.Background()
		c := env.Client(t, mine.Admin)
		for _, name := range []string{theirs.Name, "no-such-org"} {
			resp, err := c.ListPolicyIssuesWithResponse(ctx, name, client.AngularGridGetRowsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode() != http.StatusNotFound || resp.JSON404 == nil || resp.JSON404.Message != "Organization not found" {
				t.Fatalf("org %s: status %d body %s, want 404 Organization not found", name, resp.StatusCode(), resp.Body)
			}
		}
		// An organisation token is confined to its organisation too.
		resp, err := env.Client(t, mine.OrgToken).GetPolicyResultsMetadataWithResponse(ctx, theirs.Name)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode() != http.StatusNotFound {
			t.Fatalf("org token on another organisation: %d", resp.StatusCode())
		}
	})
}

func TestBadInputIs400WithFieldNamed(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		issue := "/api/orgs/" + org.Name + "/policyresults/issues/" + uuid.NewString()
		for _, tc := range []struct {
			name, method, path, body string
			wantInMessage            []string
		}{
			{"bad enum", http.MethodPatch, issue, `{"status":"closed"}`, []string{"status", "closed", "in_progress"}},
			{"wrong type", http.MethodPost, "/api/orgs/" + org.Name + "/policyresults/issues", `{"startRow":"zero"}`, []string{"startRow"}},
			{"missing required field", http.MethodPost, "/api/orgs/" + org.Name + "/policyresults/compliance", `{"size":10}`, []string{"entity"}},
			{"bad compliance entity", http.MethodPost, "/api/orgs/" + org.Name + "/policyresults/compliance", `{"entity":"planet"}`, []string{"entity", "planet", "stack"}},
			{"malformed JSON", http.MethodPost, "/api/orgs/" + org.Name + "/policyresults/issues", `{"startRow":`, []string{"body"}},
			// encoding/json's Decoder stops after the first value: the rest
			// must not be ignored.
			{"JSON with a stray brace", http.MethodPost, "/api/orgs/" + org.Name + "/policyresults/issues", `{}}`, []string{"body", "after top-level value"}},
			{"JSON with a trailing comma", http.MethodPatch, issue, `{"status":"open"},`, []string{"body", "after top-level value"}},
			{"two JSON values", http.MethodPost, "/api/orgs/" + org.Name + "/policyresults/compliance", `{"entity":"stack"} {"entity":"stack"}`, []string{"body", "after top-level value"}},
			{"issue id not a UUID", http.MethodGet, "/api/orgs/" + org.Name + "/policyresults/issues/42", "", []string{"issueId", "UUID"}},
			// uuid.Parse takes these; format uuid is the 36-character form.
			{"issue id a URN", http.MethodGet, "/api/orgs/" + org.Name + "/policyresults/issues/urn:uuid:" + uuid.NewString(), "", []string{"issueId", "UUID"}},
			{"issue id in braces", http.MethodGet, "/api/orgs/" + org.Name + "/policyresults/issues/%7B" + uuid.NewString() + "%7D", "", []string{"issueId", "UUID"}},
			{"issue id without hyphens", http.MethodGet, "/api/orgs/" + org.Name + "/policyresults/issues/" + strings.ReplaceAll(uuid.NewString(), "-", ""), "", []string{"issueId", "UUID"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, e, raw := rawCall(t, env, org.Admin, tc.method, tc.path, tc.body)
				if status != http.StatusBadRequest || e.Code != http.StatusBadRequest || e.Message == "" {
					t.Fatalf("status %d body %s, want 400 with Pulumi's error body", status, raw)
				}
				t.Logf("message: %s", e.Message)
				for _, w := range tc.wantInMessage {
					if !strings.Contains(e.Message, w) {
						t.Errorf("message %q does not mention %q", e.Message, w)
					}
				}
			})
		}
	})
}

func TestViewerCannotTriage(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ctx := context.Background()
		status := client.PolicyIssueStatusInProgress
		for _, token := range []string{org.Viewer, org.OrgViewerToken} {
			resp, err := env.Client(t, token).UpdatePolicyIssueWithResponse(ctx, org.Name, uuid.NewString(), nil,
				client.UpdatePolicyIssueRequest{Status: &status})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode() != http.StatusForbidden || resp.JSON403 == nil || resp.JSON403.Code != http.StatusForbidden {
				t.Fatalf("viewer PATCH: status %d body %s, want 403", resp.StatusCode(), resp.Body)
			}
		}
	})
}

func TestUnknownRouteAndHealth(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		status, e, raw := rawCall(t, env, "", http.MethodGet, "/api/nothing/here", "")
		if status != http.StatusNotFound || e.Code != http.StatusNotFound {
			t.Fatalf("unknown route: %d %s", status, raw)
		}
		c := env.Client(t, "")
		ctx := context.Background()
		h, err := c.HealthzWithResponse(ctx)
		if err != nil || h.StatusCode() != http.StatusOK {
			t.Fatalf("healthz: %v %v", err, h)
		}
		r, err := c.ReadyzWithResponse(ctx)
		if err != nil || r.StatusCode() != http.StatusOK || r.JSON200.Status != "ready" {
			t.Fatalf("readyz: %v %s", err, r.Body)
		}
		spec, err := c.GetOpenAPISpecWithResponse(ctx)
		if err != nil || spec.StatusCode() != http.StatusOK || !bytes.Contains(spec.Body, []byte("openapi: 3.0.3")) {
			t.Fatalf("openapi.yaml: %v %d", err, spec.StatusCode())
		}
		js, err := c.FetchRestSpecificationWithResponse(ctx)
		if err != nil || js.StatusCode() != http.StatusOK || (*js.JSON200)["openapi"] != "3.0.3" {
			t.Fatalf("pulumi-spec.json: %v %d", err, js.StatusCode())
		}
	})
}

func TestRequestIDAndVendorAccept(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		for _, accept := range []string{"application/vnd.pulumi+8", "application/vnd.pulumi+9", "application/json"} {
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/orgs/"+org.Name+"/policyresults/issues", strings.NewReader(`{"startRow":0,"endRow":100,"sortModel":null}`))
			req.Header.Set("Authorization", "token "+org.Member)
			req.Header.Set("Accept", accept)
			req.Header.Set("Content-Type", "application/json")
			resp, err := (&http.Client{Transport: env.ValidatingTransport(t)}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("Accept %s: %d", accept, resp.StatusCode)
			}
			if resp.Header.Get("X-Pulumi-Request-ID") == "" {
				t.Fatal("no X-Pulumi-Request-ID")
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
