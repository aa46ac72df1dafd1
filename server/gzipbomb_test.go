package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
)

// bombSize is what the zip bomb inflates to.
const bombSize = 200 << 20

// gzipBomb is bombSize zero bytes in one gzip member of about 200 KB (at
// the fastest level: the best saves 2% and is far slower).
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for i := 0; i < bombSize/len(zeros); i++ {
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// onlyReader hides a body's length, so that the client sends it chunked and
// the server finds its size only by reading it.
type onlyReader struct{ io.Reader }

// allocated sends a request in this process, where servertest runs the
// server, and returns its status, its error message and the bytes the
// process allocated while it was answered (runtime.MemStats.TotalAlloc).
// TotalAlloc counts every allocation, freed or not, so it bounds how far
// the request can have grown the heap at any moment, whenever the garbage
// collector ran; HeapInuse or RSS read after the request would depend on
// when it ran and miss the peak.
func allocated(t *testing.T, env *servertest.Env, token, method, path string, body io.Reader, encoding string) (int, string, uint64) {
	t.Helper()
	req := encodedRequest(t, env, token, method, path, body, encoding)
	httpClient := &http.Client{Transport: env.ValidatingTransport(t), Timeout: time.Minute}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	return resp.StatusCode, errorBodyOf(t, resp.StatusCode, raw).Message, after.TotalAlloc - before.TotalAlloc
}

// TestGzipBomb sends 200 KB of gzip that inflates to 200 MB to a JSON
// operation (read by the request validator) and to the pack archive upload
// (streamed by its handler), at a 1 MiB limit and, for the JSON operation,
// at the default 8M (8,000,000 bytes): each is 413 after limit bytes, and decompressing
// costs the server no more memory than reading a plain body of the limit's
// size (a chunked one, so that it too is refused only once read), which is
// the bound every request has. A compressed body whose compressed bytes
// pass the limit (empty gzip members inflate to nothing) is 413 too. The
// database is not reached, so one backend is enough. Run with -v to see
// the figures.
func TestGzipBomb(t *testing.T) {
	b := repotest.Backends(t)[0]
	bomb := gzipBomb(t)
	if len(bomb) > 512<<10 {
		t.Fatalf("the bomb is %d bytes compressed; want a few hundred KB", len(bomb))
	}
	small := servertest.StartWith(t, b, server.Config{BodyLimit: "1MiB", ArchiveLimit: 1 << 20})
	org := small.NewOrg(t)
	issues := "/api/orgs/" + org.Name + "/policyresults/issues"
	archive := "/api/orgs/" + org.Name + "/policypacks/p/versions/1/archive"
	defaults := servertest.Start(t, b)
	defaultOrg := defaults.NewOrg(t)
	for _, tc := range []struct {
		name          string
		env           *servertest.Env
		token         string
		method, path  string
		limit, within int64
	}{
		{"ListPolicyIssues, 1 MiB", small, org.Member, http.MethodPost, issues, 1 << 20, 8 << 20},
		{"UploadPolicyPackArchive, 1 MiB", small, org.Admin, http.MethodPut, archive, 1 << 20, 8 << 20},
		{"ListPolicyIssues, the default 8M", defaults, defaultOrg.Member, http.MethodPost, "/api/orgs/" + defaultOrg.Name + "/policyresults/issues", 8_000_000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := bytes.Repeat([]byte(" "), int(tc.limit)+1<<20)
			status, message, plainAlloc := allocated(t, tc.env, tc.token, tc.method, tc.path, onlyReader{bytes.NewReader(plain)}, "")
			if want := fmt.Sprintf("Request body too large: more than %d bytes", tc.limit); status != http.StatusRequestEntityTooLarge || message != want {
				t.Fatalf("a plain body over the limit: %d %q, want 413 %q", status, message, want)
			}
			status, message, bombAlloc := allocated(t, tc.env, tc.token, tc.method, tc.path, bytes.NewReader(bomb), "gzip")
			if want := fmt.Sprintf("Request body too large: it inflates to more than %d bytes", tc.limit); status != http.StatusRequestEntityTooLarge || message != want {
				t.Fatalf("the bomb: %d %q, want 413 %q", status, message, want)
			}
			t.Logf("%d MB bomb (%d KB gzip) allocated %.1f MB; a plain %d MB body %.1f MB",
				bombSize>>20, len(bomb)>>10, float64(bombAlloc)/(1<<20), len(plain)>>20, float64(plainAlloc)/(1<<20))
			// Beyond the plain body's cost: the gzip reader's window and
			// tables and the compressed bytes buffered.
			if bombAlloc > plainAlloc+1<<20 {
				t.Fatalf("the bomb allocated %d bytes, more than a plain body of the limit (%d) and 1 MiB", bombAlloc, plainAlloc)
			}
			if tc.within > 0 && bombAlloc > uint64(tc.within) {
				t.Fatalf("the bomb allocated %d bytes; want at most %d", bombAlloc, tc.within)
			}
		})
	}

	// Empty gzip members inflate to nothing: the compressed bytes are
	// bounded too.
	var member bytes.Buffer
	zw := gzip.NewWriter(&member)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	empty := bytes.Repeat(member.Bytes(), (2<<20)/member.Len())
	status, message, _ := allocated(t, small, org.Member, http.MethodPost, issues, onlyReader{bytes.NewReader(empty)}, "gzip")
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(message, "bytes compressed") {
		t.Fatalf("%d bytes of empty gzip members: %d %q, want 413", len(empty), status, message)
	}
}
