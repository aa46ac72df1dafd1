package server_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

func docsGet(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	return send(t, http.MethodGet, url, "", header)
}

// TestDocs checks the API reference at GET /docs: the page and its assets
// are served without a token, with their content types, and the page only
// loads what the server itself serves.
func TestDocs(t *testing.T) {
	// The page does not touch the database: SQLite is enough.
	env := servertest.Start(t, repotest.Backends(t)[0])

	for _, tc := range []struct {
		path        string
		status      int
		contentType string
		contains    []string
		minSize     int
	}{
		{
			path: "/docs", status: http.StatusOK, contentType: "text/html; charset=utf-8",
			contains: []string{`<div id="redoc-container" data-spec-url="/openapi.yaml">`, `src="/docs/assets/redoc.standalone.js"`, `src="/docs/assets/init.js"`},
		},
		{
			path: "/docs/assets/redoc.standalone.js", status: http.StatusOK, contentType: "text/javascript; charset=utf-8",
			contains: []string{"Redoc", "For license information please see redoc.standalone.js.LICENSE.txt"},
			minSize:  500 << 10,
		},
		{
			path: "/docs/assets/init.js", status: http.StatusOK, contentType: "text/javascript; charset=utf-8",
			contains: []string{"Redoc.init("},
		},
		{
			path: "/docs/assets/redoc.standalone.js.LICENSE.txt", status: http.StatusOK, contentType: "text/plain; charset=utf-8",
			contains: []string{"ReDoc"},
		},
		{
			path: "/docs/assets/missing.js", status: http.StatusNotFound, contentType: "application/json",
			contains: []string{`"code":404`},
		},
		{
			path: "/docs/assets/../../openapi.yaml", status: http.StatusNotFound, contentType: "application/json",
		},
		{
			path: "/openapi.yaml", status: http.StatusOK, contentType: "application/yaml",
			contains: []string{"operationId: ListPolicyIssues"},
		},
	} {
		t.Run(tc.path, func(t *testing.T) {
			// No Authorization header: the reference is public.
			resp, body := docsGet(t, env.URL+tc.path, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type = %q, want %q", ct, tc.contentType)
			}
			for _, s := range tc.contains {
				if !bytes.Contains(body, []byte(s)) {
					t.Errorf("body lacks %q", s)
				}
			}
			if len(body) < tc.minSize {
				t.Errorf("body is %d bytes, want at least %d", len(body), tc.minSize)
			}
		})
	}

	t.Run("the page loads only the server's own files", func(t *testing.T) {
		resp, body := docsGet(t, env.URL+"/docs", nil)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, directive := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
			if !strings.Contains(csp, directive) {
				t.Errorf("Content-Security-Policy %q lacks %q", csp, directive)
			}
		}
		refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllSubmatch(body, -1)
		if len(refs) == 0 {
			t.Fatal("the page references no file")
		}
		for _, m := range refs {
			ref := string(m[1])
			if ref == "data:," {
				continue
			}
			if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
				t.Errorf("the page references %q, not a file of this server", ref)
				continue
			}
			if r, b := docsGet(t, env.URL+ref, nil); r.StatusCode != http.StatusOK {
				t.Errorf("GET %s = %d: %s", ref, r.StatusCode, b)
			}
		}
	})

	t.Run("a trailing slash redirects to the page", func(t *testing.T) {
		resp, _ := docsGet(t, env.URL+"/docs/", nil)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/docs" {
			t.Errorf("GET /docs/ = %d Location %q, want 301 /docs", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("the bundle revalidates and compresses", func(t *testing.T) {
		url := env.URL + "/docs/assets/redoc.standalone.js"
		resp, plain := docsGet(t, url, nil)
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if resp, body := docsGet(t, url, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match: status %d with %d bytes, want 304 and none", resp.StatusCode, len(body))
		}
		// Setting Accept-Encoding by hand turns off the transport's own
		// decompression, so the body is what went over the wire.
		resp, packed := docsGet(t, url, map[string]string{"Accept-Encoding": "gzip"})
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
		if len(packed) >= len(plain)/2 {
			t.Errorf("gzip answer is %d bytes of %d", len(packed), len(plain))
		}
		if !bytes.Equal(gunzip(t, packed), plain) {
			t.Error("the gzip answer does not unpack to the bundle")
		}
	})
}
