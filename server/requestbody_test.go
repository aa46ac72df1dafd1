package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// gzipBytes compresses b with compress/gzip, as the pulumi CLI does.
func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipRequests is a request editor that sends the request's body
// gzip-compressed with Content-Encoding: gzip, as the pulumi CLI does for
// `pulumi api` and its GzipCompress calls; it counts the bodies it
// compressed in sent.
func gzipRequests(t testing.TB, sent *int) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		if req.Body == nil || req.Body == http.NoBody {
			return nil
		}
		plain, err := io.ReadAll(req.Body)
		if err != nil {
			return err
		}
		packed := gzipBytes(t, plain)
		req.Body = io.NopCloser(bytes.NewReader(packed))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(packed)), nil }
		req.ContentLength = int64(len(packed))
		req.Header.Set("Content-Encoding", "gzip")
		*sent++
		return nil
	}
}

// comparable is a JSON answer without what differs between two
// organisations fed the same requests: ids, times and the organisation's
// name.
// credentialValue matches a presigned upload URL's credential.
var credentialValue = regexp.MustCompile(`credential=upl-[0-9a-f]+`)

func comparable(t testing.TB, org string, raw []byte) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), org, "ORG")), &v); err != nil {
		t.Fatalf("answer %.300s: %v", raw, err)
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, item := range v {
				switch k {
				case "id", "evaluationId", "observedAt", "lastModified":
					delete(v, k)
				case "uploadURI":
					// Each upload URL carries a credential of its own.
					v[k] = credentialValue.ReplaceAllString(fmt.Sprint(item), "credential=CREDENTIAL")
				default:
					strip(item)
				}
			}
		case []any:
			for _, item := range v {
				strip(item)
			}
		}
	}
	strip(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// storedArchive reads the archive stored for a pack version.
func storedArchive(t testing.TB, env *servertest.Env, org *servertest.Org, pack string, version int) []byte {
	t.Helper()
	var data []byte
	err := env.Repo.DB().Raw(`SELECT a.data FROM policy_pack_archives a
		JOIN policy_pack_versions v ON v.id = a.version_id JOIN policy_packs p ON p.id = v.pack_id
		WHERE a.org_id = ? AND p.name = ? AND v.version = ?`, org.ID, pack, version).Row().Scan(&data)
	if err != nil {
		t.Fatalf("stored archive of %s %d: %v", pack, version, err)
	}
	return data
}

// bodyScenario sends one request of each kind of body (both ingest forms,
// a grid request, facets, triage, a pack with its archive) through the
// generated client with editors, and returns what the client saw in a
// form comparable across organisations.
func bodyScenario(t *testing.T, env *servertest.Env, org *servertest.Org, editors ...client.RequestEditorFn) []string {
	t.Helper()
	ctx := context.Background()
	ci, member, admin := env.Client(t, org.OrgToken), env.Client(t, org.Member), env.Client(t, org.Admin)
	var seen []string
	record := func(step string, err error, status int, body []byte) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if status >= 300 {
			t.Fatalf("%s: %d %s", step, status, body)
		}
		seen = append(seen, fmt.Sprintf("%s %d %s", step, status, comparable(t, org.Name, body)))
	}

	ev := evaluation{project: "shop", stack: "prod", version: 1, pack: "baseline", tag: "1.0.0", policies: testPolicies(),
		resources: 6, fails: map[string][]int{"no-public-read": {0, 2, 4}, "encrypted": {1}}}
	evr, err := ci.CreatePolicyEvaluationWithResponse(ctx, org.Name, ev.request(), editors...)
	record("CreatePolicyEvaluation", err, evr.StatusCode(), evr.Body)

	site, msg := urn("web", "dev", "aws:s3/bucket:Bucket", "site"), "Bucket is public"
	results := client.InsightsPolicyResults{}
	results.Violations.Set([]client.InsightsPolicyViolation{{PolicyPackName: "baseline", PolicyName: "no-public-read", ResourceURN: &site, Message: &msg}})
	sr, err := ci.UpdateStackPolicyResultsWithResponse(ctx, org.Name, "web", "dev", 1, client.UpdateStackPolicyResultsRequest{Results: results}, editors...)
	record("UpdateStackPolicyResults", err, sr.StatusCode(), sr.Body)

	rows := client.AngularGridGetRowsRequest{StartRow: ptr(0), EndRow: ptr(100), SortModel: sortModel(
		grid.SortItem{ColID: "resourceURN", Sort: "asc"},
		grid.SortItem{ColID: "policyName", Sort: "asc"})}
	gr, err := member.ListPolicyIssuesWithResponse(ctx, org.Name, rows, editors...)
	record("ListPolicyIssues", err, gr.StatusCode(), gr.Body)
	if len(gr.JSON200.PolicyIssues) != 5 {
		t.Fatalf("%d issues, want 5", len(gr.JSON200.PolicyIssues))
	}

	fr, err := member.GetPolicyIssuesFiltersWithResponse(ctx, org.Name, client.PolicyIssueFiltersRequest{Field: "policyName"}, editors...)
	record("GetPolicyIssuesFilters", err, fr.StatusCode(), fr.Body)

	// pulumi api UpdatePolicyIssue -X PATCH -F orgName=... -F issueId=... -F priority=p2
	id := gr.JSON200.PolicyIssues[0].Id.String()
	p2 := client.PolicyIssuePriorityP2
	ur, err := member.UpdatePolicyIssueWithResponse(ctx, org.Name, id, nil, client.UpdatePolicyIssueRequest{Priority: &p2}, editors...)
	record("UpdatePolicyIssue", err, ur.StatusCode(), ur.Body)
	if ur.JSON200.PolicyIssue.Priority != p2 {
		t.Fatalf("priority %s after the PATCH, want p2", ur.JSON200.PolicyIssue.Priority)
	}

	tag := "2.0.0"
	cr, err := admin.CreatePolicyPackWithResponse(ctx, org.Name, client.AppCreatePolicyPackRequest{Name: "packed", DisplayName: "Packed", VersionTag: &tag, Policies: testPolicies()}, editors...)
	record("CreatePolicyPack", err, cr.StatusCode(), cr.Body)
	archive := bytes.Repeat([]byte("a policy pack archive; "), 8<<10)
	ar, err := admin.UploadPolicyPackArchiveWithBodyWithResponse(ctx, org.Name, "packed", cr.JSON201.Version, "application/octet-stream", bytes.NewReader(archive), editors...)
	record("UploadPolicyPackArchive", err, ar.StatusCode(), ar.Body)
	if stored := storedArchive(t, env, org, "packed", cr.JSON201.Version); !bytes.Equal(stored, archive) {
		t.Fatalf("stored %d archive bytes that differ from the %d uploaded", len(stored), len(archive))
	}
	return seen
}

// TestGzipRequestBodies sends the same requests plain to one organisation
// and gzip-compressed to another through the generated client: the answers
// and what is stored are the same.
func TestGzipRequestBodies(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		plain := bodyScenario(t, env, env.NewOrg(t))
		var sent int
		packed := bodyScenario(t, env, env.NewOrg(t), gzipRequests(t, &sent))
		if sent != len(packed) || len(packed) != len(plain) {
			t.Fatalf("%d of %d requests were sent compressed", sent, len(packed))
		}
		for i := range plain {
			if plain[i] != packed[i] {
				t.Errorf("answered differently when compressed:\nplain: %s\ngzip:  %s", plain[i], packed[i])
			}
		}
	})
}

// encodedRequest is a request with a body sent with Content-Encoding
// encoding (none when empty), of the content type its operation takes.
func encodedRequest(t *testing.T, env *servertest.Env, token, method, path string, body io.Reader, encoding string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Content-Type", "application/json")
	if strings.HasSuffix(path, "/archive") {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	return req
}

// encodedCall sends an encodedRequest through the validating transport.
func encodedCall(t *testing.T, env *servertest.Env, token, method, path string, body []byte, encoding string) (int, []byte) {
	t.Helper()
	req := encodedRequest(t, env, token, method, path, bytes.NewReader(body), encoding)
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	status, _, raw := doValidated(t, env, req)
	return status, raw
}

// TestRequestBodyEncodings covers the Content-Encodings a body may have:
// gzip and identity are read, any other is 415, a corrupt gzip stream is
// 400 naming the problem, and a refused body writes nothing.
func TestRequestBodyEncodings(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		ctx := context.Background()
		evaluations := "/api/orgs/" + org.Name + "/policyresults/evaluations"
		issues := "/api/orgs/" + org.Name + "/policyresults/issues"
		eval, err := json.Marshal(evaluation{project: "shop", stack: "prod", version: 1, pack: "baseline", tag: "1.0.0",
			policies: testPolicies(), resources: 3, fails: map[string][]int{"encrypted": {0, 1, 2}}}.request())
		if err != nil {
			t.Fatal(err)
		}
		packed := gzipBytes(t, eval)
		crc := bytes.Clone(packed)
		crc[len(crc)-8] ^= 0xff // the CRC-32 of the trailer
		nothingWritten := func(t *testing.T) {
			t.Helper()
			if got := issuesOf(t, env.Client(t, org.Viewer), org.Name); len(got) != 0 {
				t.Fatalf("a refused body wrote %d issues", len(got))
			}
		}

		for _, tc := range []struct {
			name, encoding string
			body           []byte
			status         int
			message        string
		}{
			{"brotli", "br", eval, 415, `Content-Encoding "br" is not supported; request bodies may be encoded with "gzip" (or "x-gzip") and "identity"`},
			{"deflate", "deflate", eval, 415, `"deflate" is not supported`},
			{"zstd", "zstd", eval, 415, `"zstd" is not supported`},
			{"an unknown coding", "pack200-gzip", eval, 415, `"pack200-gzip" is not supported`},
			{"gzip twice", "gzip, gzip", gzipBytes(t, packed), 415, `Content-Encoding "gzip, gzip" applies 2 codings`},
			{"gzip then brotli", "gzip, br", packed, 415, "applies 2 codings"},
			{"a plain body said to be gzip", "gzip", eval, 400, "invalid gzip request body: the gzip header is invalid"},
			{"a truncated stream", "gzip", packed[:len(packed)-20], 400, "invalid gzip request body: the stream is truncated"},
			{"a bad CRC", "gzip", crc, 400, "invalid gzip request body: the CRC-32 checksum does not match the data"},
			{"corrupt deflate data", "gzip", append(append(bytes.Clone(packed[:10]), 0xff, 0xff, 0xff), packed[13:]...), 400, "invalid gzip request body: corrupt deflate data"},
			{"gzip of invalid JSON", "gzip", gzipBytes(t, []byte(`{"stack":}`)), 400, `invalid request body: invalid character '}' looking for beginning of value`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, raw := encodedCall(t, env, org.OrgToken, http.MethodPost, evaluations, tc.body, tc.encoding)
				if status != tc.status {
					t.Fatalf("%d %.300s, want %d", status, raw, tc.status)
				}
				if eb := errorBodyOf(t, status, raw); !strings.Contains(eb.Message, tc.message) {
					t.Fatalf("message %q does not say %q", eb.Message, tc.message)
				}
				nothingWritten(t)
			})
		}

		// The plain body's invalid JSON is answered the same way.
		_, plainRaw := encodedCall(t, env, org.OrgToken, http.MethodPost, evaluations, []byte(`{"stack":}`), "")
		_, packedRaw := encodedCall(t, env, org.OrgToken, http.MethodPost, evaluations, gzipBytes(t, []byte(`{"stack":}`)), "gzip")
		if errorBodyOf(t, 400, plainRaw).Message != errorBodyOf(t, 400, packedRaw).Message {
			t.Fatalf("invalid JSON: plain %s, gzip %s", plainRaw, packedRaw)
		}

		// A pack archive is streamed by its handler: a corrupt stream and a
		// refused coding store nothing.
		admin := env.Client(t, org.Admin)
		tag := "1.0.0"
		cr, err := admin.CreatePolicyPackWithResponse(ctx, org.Name, client.AppCreatePolicyPackRequest{Name: "p", DisplayName: "P", VersionTag: &tag, Policies: testPolicies()})
		if err != nil || cr.JSON201 == nil {
			t.Fatalf("create pack: %v %d", err, cr.StatusCode())
		}
		archivePath := fmt.Sprintf("/api/orgs/%s/policypacks/p/versions/%d/archive", org.Name, cr.JSON201.Version)
		archive := gzipBytes(t, bytes.Repeat([]byte("archive "), 1<<12))
		for _, tc := range []struct {
			encoding string
			body     []byte
			status   int
		}{
			{"br", archive, 415},
			{"gzip", archive[:len(archive)/2], 400},
			{"x-gzip", crc, 400},
		} {
			status, raw := encodedCall(t, env, org.Admin, http.MethodPut, archivePath, tc.body, tc.encoding)
			if status != tc.status {
				t.Fatalf("archive with %s: %d %.300s, want %d", tc.encoding, status, raw, tc.status)
			}
			errorBodyOf(t, status, raw)
			var stored int64
			if err := env.Repo.DB().Raw(`SELECT COUNT(*) FROM policy_pack_archives WHERE org_id = ?`, org.ID).Row().Scan(&stored); err != nil || stored != 0 {
				t.Fatalf("a refused archive stored %d archives (%v)", stored, err)
			}
		}

		// identity, x-gzip, an upper-case name and a list with identity are
		// read; so is an empty gzip body of an operation whose body is
		// optional.
		for _, tc := range []struct {
			encoding string
			body     []byte
		}{
			{"identity", []byte(`{"startRow":0,"endRow":1}`)},
			{"x-gzip", gzipBytes(t, []byte(`{"startRow":0,"endRow":1}`))},
			{"GZIP", gzipBytes(t, []byte(`{"startRow":0,"endRow":1}`))},
			{"identity, gzip", gzipBytes(t, []byte(`{"startRow":0,"endRow":1}`))},
		} {
			if status, raw := encodedCall(t, env, org.Member, http.MethodPost, issues, tc.body, tc.encoding); status != http.StatusOK {
				t.Fatalf("%s: %d %.300s", tc.encoding, status, raw)
			}
		}
		// Operations without a body ignore a Content-Encoding.
		for _, encoding := range []string{"br", "gzip"} {
			if status, raw := encodedCall(t, env, org.Member, http.MethodGet, "/api/orgs/"+org.Name+"/policyresults/metadata", nil, encoding); status != http.StatusOK {
				t.Fatalf("GET with Content-Encoding %s: %d %.300s", encoding, status, raw)
			}
		}
		// And the right body still ingests.
		if status, raw := encodedCall(t, env, org.OrgToken, http.MethodPost, evaluations, packed, "gzip"); status != http.StatusOK {
			t.Fatalf("gzip evaluation: %d %.300s", status, raw)
		}
		if got := issuesOf(t, env.Client(t, org.Viewer), org.Name); len(got) != 3 {
			t.Fatalf("%d issues, want 3", len(got))
		}
	})
}

// TestEveryRequestBodyDeclares415 sends every operation of openapi.yaml that
// takes a request body a brotli-encoded one: each answers 415 in Pulumi's
// body, which the validating transport holds to the operation's declared
// responses, and nothing changes.
func TestEveryRequestBodyDeclares415(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		tb := seedTenant(t, env)
		before := orgSnapshot(t, b.Repo, tb.org.ID)
		hc := &http.Client{Transport: env.ValidatingTransport(t), Timeout: time.Minute}
		walked := 0
		for _, o := range orgOperations(t) {
			if o.op.RequestBody == nil {
				continue
			}
			walked++
			if o.op.Responses.Status(http.StatusUnsupportedMediaType) == nil {
				t.Errorf("%s takes a body but does not declare 415", o)
			}
			req := tb.request(t, env, o, tb.org.Admin)
			req.Header.Set("Content-Encoding", "br")
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("%s with Content-Encoding br: %d %.200s, want 415", o, resp.StatusCode, raw)
				continue
			}
			errorBodyOf(t, resp.StatusCode, raw)
		}
		if walked < 15 {
			t.Errorf("only %d operations with a body walked", walked)
		}
		if after := orgSnapshot(t, b.Repo, tb.org.ID); after != before {
			t.Fatal("a refused body changed data")
		}
	})
}
