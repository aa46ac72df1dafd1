package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// rawRequest sends a request with the given Accept-Encoding and returns the
// answer as sent.
func rawRequest(t *testing.T, env *servertest.Env, token, method, path, body, encoding string) (*http.Response, []byte) {
	t.Helper()
	return send(t, method, env.URL+path, body, map[string]string{"Authorization": "token " + token, "Accept-Encoding": encoding})
}

func TestAnswersAreCompressedForClientsThatAcceptGzip(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 2, 30)
		issues := "/api/orgs/" + org.Name + "/policyresults/issues"
		tests := []struct {
			name, method, path, body string
			status                   int
			gzipped                  bool
			starts                   string
		}{
			{"a grid page", http.MethodPost, issues, `{"startRow":0,"endRow":100}`, http.StatusOK, true, `{"groupData":[],"policyIssues":[{`},
			{"the CSV export", http.MethodPost, issues + "/export", `{}`, http.StatusOK, true, "id,"},
			{"an answer under 1 KB", http.MethodGet, "/api/capabilities", "", http.StatusOK, false, `{"capabilities":`},
			{"an error", http.MethodPost, issues, `{"startRow":"x"}`, http.StatusBadRequest, false, `{"code":400,`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				plainResp, plain := rawRequest(t, env, org.Member, tc.method, tc.path, tc.body, "identity")
				if plainResp.StatusCode != tc.status || plainResp.Header.Get("Content-Encoding") != "" {
					t.Fatalf("identity: %d, Content-Encoding %q", plainResp.StatusCode, plainResp.Header.Get("Content-Encoding"))
				}
				if !strings.HasPrefix(string(plain), tc.starts) {
					t.Fatalf("identity answer starts %.80q, want %q", plain, tc.starts)
				}
				resp, raw := rawRequest(t, env, org.Member, tc.method, tc.path, tc.body, "gzip")
				if resp.StatusCode != tc.status {
					t.Fatalf("gzip: status %d, want %d", resp.StatusCode, tc.status)
				}
				if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gzipped {
					t.Fatalf("gzip: Content-Encoding %q, want gzipped %v", resp.Header.Get("Content-Encoding"), tc.gzipped)
				}
				if !tc.gzipped {
					if !bytes.Equal(raw, plain) {
						t.Fatalf("the plain answers differ:\n%s\n%s", raw, plain)
					}
					return
				}
				if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
					t.Errorf("Vary %q does not name Accept-Encoding", resp.Header.Get("Vary"))
				}
				if unpacked := gunzip(t, raw); !bytes.Equal(unpacked, plain) {
					t.Fatalf("the gzip answer unpacks to %d bytes that differ from the %d of the plain one", len(unpacked), len(plain))
				}
				if len(raw) >= len(plain) {
					t.Errorf("%d compressed bytes for %d", len(raw), len(plain))
				}
			})
		}
	})
}
