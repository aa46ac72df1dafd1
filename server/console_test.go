package server_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// TestConsolePage checks that every client-side route of the console
// answers its page without a token, with the security headers, never cached.
func TestConsolePage(t *testing.T) {
	// The page does not touch the database: SQLite is enough.
	env := servertest.Start(t, repotest.Backends(t)[0])
	var first []byte
	for _, path := range []string{
		"/", "/issues", "/issues/0b4f6a52-3c1e-4f7e-9a0c-2d7b5e8f1a34", "/policies",
		"/policypacks", "/policygroups", "/policygroups/default-policy-group",
	} {
		t.Run(path, func(t *testing.T) {
			resp, body := send(t, http.MethodGet, env.URL+path+"?filter=%7B%7D", "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d: %s", resp.StatusCode, body)
			}
			for header, want := range map[string]string{
				"Content-Type":           "text/html; charset=utf-8",
				"Cache-Control":          "no-cache",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := resp.Header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe") {
				t.Errorf("Content-Security-Policy %q allows unsafe sources", csp)
			}
			if !bytes.Contains(body, []byte(`<div id="app">`)) {
				t.Errorf("the page lacks the app's root element: %s", body)
			}
			if first == nil {
				first = body
			} else if !bytes.Equal(body, first) {
				t.Error("routes answer different pages")
			}
		})
	}
	// The page has no inline script: every script is a file of /assets/.
	if m := regexp.MustCompile(`<script[^>]*>[^<]+</script>`).Find(first); m != nil {
		t.Errorf("inline script in the page: %s", m)
	}
}

// TestConsoleAssets checks the page's assets: served without a token,
// cached for a year, revalidated by ETag, and unknown names answer the
// JSON 404.
func TestConsoleAssets(t *testing.T) {
	env := servertest.Start(t, repotest.Backends(t)[0])
	_, page := send(t, http.MethodGet, env.URL+"/", "", nil)
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("the page references %d assets, want its script and its styles: %s", len(refs), page)
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	for _, ref := range refs {
		path := string(ref[1])
		resp, body := send(t, http.MethodGet, env.URL+path, "", nil)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Fatalf("GET %s: %d, %d bytes", path, resp.StatusCode, len(body))
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control = %q", path, got)
		}
		if got, want := resp.Header.Get("Content-Type"), types[path[strings.LastIndex(path, "."):]]; got != want {
			t.Errorf("%s: Content-Type = %q, want %q", path, got, want)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", path, got)
		}
		again, _ := send(t, http.MethodGet, env.URL+path, "", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", path, again.StatusCode)
		}
	}
	for _, path := range []string{"/assets/missing.js", "/assets/../openapi.yaml"} {
		resp, body := send(t, http.MethodGet, env.URL+path, "", nil)
		if resp.StatusCode != http.StatusNotFound || !bytes.Contains(body, []byte(`"code":404`)) {
			t.Errorf("GET %s: %d %s, want the JSON 404", path, resp.StatusCode, body)
		}
	}
}

// TestConsoleLeavesOtherPathsAlone checks that the console's routes don't
// swallow the API's: unknown paths keep the JSON 404, and the reference,
// the spec and the health checks answer as before.
func TestConsoleLeavesOtherPathsAlone(t *testing.T) {
	env := servertest.Start(t, repotest.Backends(t)[0])
	for _, tc := range []struct {
		method, path string
		status       int
		contains     string
	}{
		{http.MethodGet, "/api/nope", http.StatusNotFound, `{"code":404,"message":"Not found: GET /api/nope"}`},
		{http.MethodGet, "/api/orgs/acme/policyresults/nope", http.StatusNotFound, `"code":404`},
		{http.MethodGet, "/nope", http.StatusNotFound, `"code":404`},
		{http.MethodGet, "/issues/a/b", http.StatusNotFound, `"code":404`},
		{http.MethodPost, "/issues", http.StatusMethodNotAllowed, `"code":405`},
		{http.MethodGet, "/docs", http.StatusOK, "redoc"},
		{http.MethodGet, "/openapi.yaml", http.StatusOK, "operationId: ListPolicyIssues"},
		{http.MethodGet, "/healthz", http.StatusOK, `"status":"ok"`},
		{http.MethodGet, "/api/user", http.StatusUnauthorized, `"code":401`},
	} {
		resp, body := send(t, tc.method, env.URL+tc.path, "", nil)
		if resp.StatusCode != tc.status || !bytes.Contains(body, []byte(tc.contains)) {
			t.Errorf("%s %s: %d %.200s, want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.contains)
		}
	}
}

// TestCurrentUserRoles checks that GET /api/user names the caller's role in
// each organisation, which the console reads to offer triage or not.
func TestCurrentUserRoles(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		for token, want := range map[string]client.OrganizationSummaryRole{
			org.Admin: "admin", org.Member: "member", org.Viewer: "viewer",
			org.OrgToken: "member", org.OrgViewerToken: "viewer",
		} {
			r, err := env.Client(t, token).GetCurrentUserWithResponse(context.Background())
			if err != nil || r.JSON200 == nil {
				t.Fatalf("GET /api/user: %v", err)
			}
			orgs := r.JSON200.Organizations
			if len(orgs) != 1 || orgs[0].Name != org.Name || orgs[0].Role == nil || *orgs[0].Role != want {
				t.Errorf("organizations = %+v, want %s with role %s", orgs, org.Name, want)
			}
		}
	})
}
