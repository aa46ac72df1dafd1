package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// createVersion creates a pack version (CreatePolicyPack) and answers its
// upload URL.
func createVersion(t *testing.T, env *servertest.Env, org *servertest.Org, name, tag string) client.AppCreatePolicyPackResponse {
	t.Helper()
	r, err := env.Client(t, org.Admin).CreatePolicyPackWithResponse(context.Background(), org.Name,
		client.AppCreatePolicyPackRequest{Name: name, DisplayName: name, VersionTag: &tag, Policies: testPolicies()})
	if err != nil || r.JSON201 == nil {
		t.Fatalf("create %s %s: %v %s", name, tag, err, r.Body)
	}
	return *r.JSON201
}

// credentialOf reads the credential of a presigned upload URL.
func credentialOf(t *testing.T, uploadURI string) string {
	t.Helper()
	u, err := url.Parse(uploadURI)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("credential")
}

// archiveURL is an archive upload URL with a credential.
func archiveURL(env *servertest.Env, org, pack string, version int, credential string) string {
	return fmt.Sprintf("%s/api/orgs/%s/policypacks/%s/versions/%d/archive?credential=%s", env.URL, org, pack, version, url.QueryEscape(credential))
}

// presignedPut uploads an archive the way `pulumi policy publish` does:
// a PUT to the upload URL with its required header and no token (a token
// when one is given).
func presignedPut(t *testing.T, env *servertest.Env, uploadURL, token string, archive []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, uploadURL, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	status, _, raw := doValidated(t, env, req)
	return status, raw
}

// archiveCount counts the archives stored for an organisation.
func archiveCount(t *testing.T, env *servertest.Env, orgID int64) int64 {
	t.Helper()
	var n int64
	if err := env.Repo.DB().Raw(`SELECT COUNT(*) FROM policy_pack_archives WHERE org_id = ?`, orgID).Row().Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPresignedArchiveUpload drives the upload URL CreatePolicyPack answers
// without a token, as the pulumi CLI uses it: it uploads that version's
// archive (again, replacing it, until the version is completed) for an
// hour by the server's clock; a tampered credential, or one used for
// another pack, version or organisation, expired, reused after the version
// was completed or issued before the version was created again is
// answered 403 and stores nothing; the credential is no API token and
// authorizes no other operation; and neither it nor its hash is logged.
func TestPresignedArchiveUpload(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		ctx := context.Background()
		clock := &testClock{t: time.Now()}
		env, logs := startLogged(t, b, server.Config{Now: clock.Now})
		repo := env.Repo
		org, other := env.NewOrg(t), env.NewOrg(t)
		admin := env.Client(t, org.Admin)

		v1 := createVersion(t, env, org, "storage", "1.0.0")
		cred := credentialOf(t, v1.UploadURI)
		if want := archiveURL(env, org.Name, "storage", 1, cred); v1.UploadURI != want || !strings.HasPrefix(cred, "upl-") || len(cred) != 68 {
			t.Fatalf("upload URI %s, want %s with an upl- credential", v1.UploadURI, want)
		}
		v2 := createVersion(t, env, org, "storage", "2.0.0")
		network := createVersion(t, env, org, "network", "1.0.0")
		foreign := createVersion(t, env, other, "storage", "1.0.0")
		credentials := []string{cred, credentialOf(t, v2.UploadURI), credentialOf(t, network.UploadURI), credentialOf(t, foreign.UploadURI)}
		if v2.Version != 2 || network.Version != 1 || foreign.Version != 1 {
			t.Fatalf("versions %d %d %d", v2.Version, network.Version, foreign.Version)
		}

		// Refused, whatever is wrong, with the same answer; nothing stored.
		last := cred[len(cred)-1:]
		flipped := map[string]string{"0": "1"}[last]
		if flipped == "" {
			flipped = "0"
		}
		before := orgSnapshot(t, repo, org.ID) + orgSnapshot(t, repo, other.ID)
		for _, tc := range []struct{ name, url string }{
			{"a tampered credential", archiveURL(env, org.Name, "storage", 1, cred[:len(cred)-1]+flipped)},
			{"a truncated credential", archiveURL(env, org.Name, "storage", 1, cred[:40])},
			{"an API token as credential", archiveURL(env, org.Name, "storage", 1, org.Admin)},
			{"another pack", archiveURL(env, org.Name, "network", 1, cred)},
			{"another version", archiveURL(env, org.Name, "storage", 2, cred)},
			{"another version's credential", archiveURL(env, org.Name, "storage", 1, credentialOf(t, v2.UploadURI))},
			{"another organisation", archiveURL(env, other.Name, "storage", 1, cred)},
			{"another organisation's credential", archiveURL(env, org.Name, "storage", 1, credentialOf(t, foreign.UploadURI))},
			{"an unknown organisation", archiveURL(env, "no-such-org", "storage", 1, cred)},
			{"an unknown version", archiveURL(env, org.Name, "storage", 9, cred)},
			{"version 0", archiveURL(env, org.Name, "storage", 0, cred)},
		} {
			status, raw := presignedPut(t, env, tc.url, "", []byte("\x1f\x8b refused"))
			if eb := errorBodyOf(t, status, raw); status != http.StatusForbidden || !strings.Contains(eb.Message, "not valid for this policy pack version") {
				t.Errorf("%s: %d %q, want 403", tc.name, status, eb.Message)
			}
		}
		if after := orgSnapshot(t, repo, org.ID) + orgSnapshot(t, repo, other.ID); after != before {
			t.Fatal("a refused upload changed data")
		}

		// The credential is no API token, and no other operation takes it.
		if status, _, raw := call(t, env, "token "+cred, http.MethodGet, "/api/orgs/"+org.Name+"/policypacks", ""); status != http.StatusUnauthorized {
			t.Fatalf("credential as a token: %d %s", status, raw)
		}
		for _, op := range []struct{ method, path string }{
			{http.MethodGet, "/api/orgs/" + org.Name + "/policypacks"},
			{http.MethodGet, "/api/orgs/" + org.Name + "/policypacks/storage/versions/1"},
			{http.MethodPost, "/api/orgs/" + org.Name + "/policypacks/storage/versions/1/complete"},
			{http.MethodDelete, "/api/orgs/" + org.Name + "/policypacks/storage"},
		} {
			if status, _, raw := call(t, env, "", op.method, op.path+"?credential="+url.QueryEscape(cred), ""); status != http.StatusUnauthorized {
				t.Fatalf("%s %s with the credential and no token: %d %s", op.method, op.path, status, raw)
			}
		}
		// A token, when sent, is what authorizes the upload.
		if status, raw := presignedPut(t, env, v1.UploadURI, org.Viewer, []byte("\x1f\x8b viewer")); status != http.StatusForbidden || !strings.Contains(string(raw), "admin") {
			t.Fatalf("viewer's token with the upload URL: %d %s", status, raw)
		}
		if status, raw := presignedPut(t, env, v1.UploadURI, other.Admin, []byte("\x1f\x8b outsider")); status != http.StatusNotFound {
			t.Fatalf("another organisation's token with the upload URL: %d %s", status, raw)
		}
		if n := archiveCount(t, env, org.ID); n != 0 {
			t.Fatalf("%d archives stored before any valid upload", n)
		}

		// The URL uploads, and again before the version is completed.
		for _, archive := range [][]byte{[]byte("\x1f\x8b first"), []byte("\x1f\x8b second")} {
			if status, raw := presignedPut(t, env, v1.UploadURI, "", archive); status != http.StatusNoContent {
				t.Fatalf("upload: %d %s", status, raw)
			}
			if got := storedArchive(t, env, org, "storage", 1); !bytes.Equal(got, archive) {
				t.Fatalf("stored %q, want %q", got, archive)
			}
		}
		if n := archiveCount(t, env, other.ID); n != 0 {
			t.Fatalf("the other organisation has %d archives", n)
		}
		// An admin's token without a credential uploads too.
		if status, raw := presignedPut(t, env, fmt.Sprintf("%s/api/orgs/%s/policypacks/storage/versions/2/archive", env.URL, org.Name), org.Admin, []byte("\x1f\x8b token")); status != http.StatusNoContent {
			t.Fatalf("upload with a token: %d %s", status, raw)
		}

		// Completed: the URL no longer uploads.
		if r, err := admin.CompletePolicyPackWithResponse(ctx, org.Name, "storage", "1.0.0"); err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("complete: %v %s", err, r.Body)
		}
		if status, raw := presignedPut(t, env, v1.UploadURI, "", []byte("\x1f\x8b late")); status != http.StatusForbidden || !strings.Contains(string(raw), "already published") {
			t.Fatalf("upload after complete: %d %s", status, raw)
		}
		if got := storedArchive(t, env, org, "storage", 1); !bytes.Equal(got, []byte("\x1f\x8b second")) {
			t.Fatalf("the published archive changed to %q", got)
		}

		// A version created again (an interrupted publish) gets a new URL;
		// the earlier one no longer uploads.
		first := createVersion(t, env, org, "retry", "1.0.0")
		again := createVersion(t, env, org, "retry", "1.0.0")
		credentials = append(credentials, credentialOf(t, first.UploadURI), credentialOf(t, again.UploadURI))
		if status, raw := presignedPut(t, env, first.UploadURI, "", []byte("\x1f\x8b stale")); status != http.StatusForbidden {
			t.Fatalf("the URL of a version created again: %d %s", status, raw)
		}
		if status, raw := presignedPut(t, env, again.UploadURI, "", []byte("\x1f\x8b fresh")); status != http.StatusNoContent {
			t.Fatalf("the new URL: %d %s", status, raw)
		}

		// An hour by the server's clock, then refused.
		late := createVersion(t, env, org, "late", "1.0.0")
		credentials = append(credentials, credentialOf(t, late.UploadURI))
		clock.Advance(time.Hour - time.Second)
		if status, raw := presignedPut(t, env, late.UploadURI, "", []byte("\x1f\x8b in time")); status != http.StatusNoContent {
			t.Fatalf("upload a second before expiry: %d %s", status, raw)
		}
		clock.Advance(time.Second)
		if status, raw := presignedPut(t, env, late.UploadURI, "", []byte("\x1f\x8b too late")); status != http.StatusForbidden || !strings.Contains(string(raw), "expired") {
			t.Fatalf("upload at expiry: %d %s", status, raw)
		}
		if got := storedArchive(t, env, org, "late", 1); !bytes.Equal(got, []byte("\x1f\x8b in time")) {
			t.Fatalf("an expired upload stored %q", got)
		}

		// The log records the uploads by path, never a credential.
		out := logs.String()
		if !strings.Contains(out, `"path":"/api/orgs/`+org.Name+`/policypacks/storage/versions/1/archive"`) {
			t.Fatalf("the uploads were not logged:\n%.2000s", out)
		}
		if strings.Contains(out, "credential=") {
			t.Fatalf("the log shows an upload URL's query:\n%.2000s", out)
		}
		for _, c := range credentials {
			for _, leak := range []string{c, strings.TrimPrefix(c, "upl-"), accounts.HashToken(c)} {
				if strings.Contains(out, leak) {
					t.Fatalf("the log shows a credential or its hash %q", leak)
				}
			}
		}
	})
}
