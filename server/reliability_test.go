package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
)

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines decodes the JSON log lines.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// call sends a request with a raw Authorization header (none when empty)
// and returns the status, headers and body.
func call(t *testing.T, env *servertest.Env, auth, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, env.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return doValidated(t, env, req)
}

// doValidated sends req through the validating transport and returns the
// status, headers and body.
func doValidated(t *testing.T, env *servertest.Env, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := (&http.Client{Transport: env.ValidatingTransport(t), Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// startLogged serves cfg on b with a server and a repository that log at
// debug level into the returned buffer.
func startLogged(t *testing.T, b *repotest.Backend, cfg server.Config) (*servertest.Env, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = jsonLogger(logs)
	repo, err := repository.Open(context.Background(), b.URL, repository.Options{Logger: cfg.Logger, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	cfg.Repo = repo
	return servertest.StartWith(t, b, cfg), logs
}

// errorBodyOf checks that raw is Pulumi's error body for status.
func errorBodyOf(t *testing.T, status int, raw []byte) server.ErrorBody {
	t.Helper()
	var eb server.ErrorBody
	if err := json.Unmarshal(raw, &eb); err != nil || eb.Code != status || eb.Message == "" {
		t.Fatalf("%d answered %q, not Pulumi's error body", status, raw)
	}
	return eb
}

// TestTokensNeverLogged drives requests with valid, unknown, malformed,
// bearer and revoked tokens through a server and a repository that log at
// debug level, and checks that no token, token hash or Authorization
// header reaches the log.
func TestTokensNeverLogged(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		ctx := context.Background()
		env, logs := startLogged(t, b, server.Config{})
		repo := env.Repo
		org := env.NewOrg(t)
		revoked, tok, err := repo.Accounts.CreateToken(ctx, accounts.TokenSpec{OrgID: &org.ID, Name: "revoked", Role: model.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.Accounts.RevokeToken(ctx, org.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		unknown := accounts.NewTokenSecret()
		secrets := []string{org.Admin, org.Member, org.Viewer, org.OrgToken, org.OrgViewerToken, revoked, unknown}
		issues := "/api/orgs/" + org.Name + "/policyresults/issues"
		for _, auth := range []string{"token " + org.Admin, "Bearer " + org.Member, "token " + unknown, "token " + revoked,
			"token pul-not-a-token", "token " + org.OrgToken} {
			call(t, env, auth, http.MethodPost, issues, `{"startRow":0,"endRow":10}`)
			call(t, env, auth, http.MethodPost, issues, `{"filterModel":{"colId":"nope","filterType":"text","type":"equals","filter":"x"}}`)
			call(t, env, auth, http.MethodGet, "/api/orgs/"+org.Name+"/policyresults/issues/not-a-uuid", "")
			call(t, env, auth, http.MethodGet, "/api/orgs/no-such-org/policyresults/metadata", "")
			call(t, env, auth, http.MethodGet, "/api/user", "")
		}
		out := logs.String()
		if !strings.Contains(out, `"msg":"request"`) {
			t.Fatalf("no request was logged:\n%s", out)
		}
		for _, s := range secrets {
			for _, leak := range []string{s, strings.TrimPrefix(s, "pul-"), accounts.HashToken(s)} {
				if strings.Contains(out, leak) {
					t.Fatalf("the log shows a token or its hash %q:\n%s", leak, out)
				}
			}
		}
		if strings.Contains(strings.ToLower(out), "authorization") {
			t.Fatalf("the log mentions the Authorization header:\n%s", out)
		}
	})
}

// TestRevokedAndExpiredTokensRefused checks that a revoked token is refused
// on the very next request, and an expired one always.
func TestRevokedAndExpiredTokensRefused(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		ctx := context.Background()
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		metadata := "/api/orgs/" + org.Name + "/policyresults/metadata"
		secret, tok, err := b.Repo.Accounts.CreateToken(ctx, accounts.TokenSpec{OrgID: &org.ID, Name: "ci-soon-revoked", Role: model.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		if status, _, raw := call(t, env, "token "+secret, http.MethodGet, metadata, ""); status != http.StatusOK {
			t.Fatalf("fresh token: %d %s", status, raw)
		}
		if err := b.Repo.Accounts.RevokeToken(ctx, org.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		status, _, raw := call(t, env, "token "+secret, http.MethodGet, metadata, "")
		if status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d %s", status, raw)
		}
		errorBodyOf(t, status, raw)

		past := time.Now().Add(-time.Second)
		expired, _, err := b.Repo.Accounts.CreateToken(ctx, accounts.TokenSpec{OrgID: &org.ID, Name: "expired", Role: model.RoleMember, ExpiresAt: &past})
		if err != nil {
			t.Fatal(err)
		}
		if status, _, raw := call(t, env, "token "+expired, http.MethodGet, metadata, ""); status != http.StatusUnauthorized {
			t.Fatalf("expired token: %d %s", status, raw)
		}
		soon := time.Now().Add(1500 * time.Millisecond)
		expiring, _, err := b.Repo.Accounts.CreateToken(ctx, accounts.TokenSpec{OrgID: &org.ID, Name: "expiring", Role: model.RoleMember, ExpiresAt: &soon})
		if err != nil {
			t.Fatal(err)
		}
		if status, _, raw := call(t, env, "token "+expiring, http.MethodGet, metadata, ""); status != http.StatusOK {
			t.Fatalf("token before its expiry: %d %s", status, raw)
		}
		time.Sleep(time.Until(soon) + 50*time.Millisecond)
		if status, _, raw := call(t, env, "token "+expiring, http.MethodGet, metadata, ""); status != http.StatusUnauthorized {
			t.Fatalf("token past its expiry: %d %s", status, raw)
		}
	})
}

// TestRateLimitPerToken checks the per-token bucket: the burst passes, the
// next request is 429 with Retry-After in Pulumi's error body, other tokens
// are unaffected, and the token is served again after Retry-After.
func TestRateLimitPerToken(t *testing.T) {
	b := repotest.Backends(t)[0]
	env := servertest.StartWith(t, b, server.Config{RateLimit: 1, RateBurst: 3})
	org := env.NewOrg(t)
	metadata := "/api/orgs/" + org.Name + "/policyresults/metadata"
	// Six requests at once: the burst of 3 passes, the rest (but for a
	// refill on a very slow machine) are limited.
	type answer struct {
		status int
		h      http.Header
		raw    []byte
	}
	answers := make(chan answer, 6)
	for i := 0; i < 6; i++ {
		go func() {
			status, h, raw := call(t, env, "token "+org.Member, http.MethodGet, metadata, "")
			answers <- answer{status, h, raw}
		}()
	}
	ok, limited := 0, []answer{}
	for i := 0; i < 6; i++ {
		a := <-answers
		switch a.status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited = append(limited, a)
		default:
			t.Fatalf("status %d %s", a.status, a.raw)
		}
	}
	if ok < 3 || len(limited) < 2 {
		t.Fatalf("%d passed and %d limited of 6 requests with a burst of 3", ok, len(limited))
	}
	status, h, raw := limited[0].status, limited[0].h, limited[0].raw
	eb := errorBodyOf(t, status, raw)
	retry, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || retry != 1 {
		t.Fatalf("Retry-After %q, want 1 (one request a second)", h.Get("Retry-After"))
	}
	if !strings.Contains(eb.Message, "Too many requests") {
		t.Fatalf("message %q", eb.Message)
	}
	// Other tokens have buckets of their own; requests without a token are
	// refused by authentication, not counted.
	if status, _, _ := call(t, env, "token "+org.Admin, http.MethodGet, metadata, ""); status != http.StatusOK {
		t.Fatalf("another token: %d", status)
	}
	if status, _, _ := call(t, env, "", http.MethodGet, metadata, ""); status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", status)
	}
	time.Sleep(time.Duration(retry) * time.Second)
	if status, _, raw := call(t, env, "token "+org.Member, http.MethodGet, metadata, ""); status != http.StatusOK {
		t.Fatalf("after Retry-After: %d %s", status, raw)
	}

	// Without a limit (RateLimit 0) a burst beyond serve's default burst passes.
	free := servertest.Start(t, b)
	org2 := free.NewOrg(t)
	for i := 0; i < 120; i++ {
		if status, _, _ := call(t, free, "token "+org2.Member, http.MethodGet, "/api/orgs/"+org2.Name+"/policyresults/metadata", ""); status != http.StatusOK {
			t.Fatalf("unlimited request %d: %d", i, status)
		}
	}
}

// TestRequestLimits sends a request over each limit and checks the 4xx in
// Pulumi's error body, naming what is too large. The item limit is lowered
// to 1,000 to keep the test quick (validating 100,001 items under -race
// is slow); DefaultLimits is checked separately.
func TestRequestLimits(t *testing.T) {
	if server.DefaultLimits != (server.Limits{MaxItems: 100_000, MaxNameBytes: 1024, MaxTextBytes: 65536}) {
		t.Fatalf("default limits %+v", server.DefaultLimits)
	}
	b := repotest.Backends(t)[0]
	env := servertest.StartWith(t, b, server.Config{BodyLimit: "6M", Limits: server.Limits{MaxItems: 1000}})
	org := env.NewOrg(t)
	auth := "token " + org.Member
	issues := "/api/orgs/" + org.Name + "/policyresults/issues"
	evaluations := "/api/orgs/" + org.Name + "/policyresults/evaluations"
	eval := func(violations, resources int, message string) string {
		var sb strings.Builder
		sb.WriteString(`{"stack":{"project":"p","name":"s","version":1},"policyPacks":[{"name":"pk","versionTag":"1.0.0"}],"violations":[`)
		for i := 0; i < violations; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"policyPack":"pk","policyName":"x","message":%q}`, message)
		}
		sb.WriteString(`],"resources":[`)
		for i := 0; i < resources; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`{"urn":"urn:pulumi:s::p::a:b:C::r"}`)
		}
		sb.WriteString(`]}`)
		return sb.String()
	}
	nested := `{"colId":"status","filterType":"text","type":"equals","filter":"open"}`
	for i := 0; i < 10; i++ {
		nested = `{"filterType":"join","type":"AND","conditions":[` + nested + `]}`
	}
	var many []string
	for i := 0; i < 101; i++ {
		many = append(many, `{"colId":"status","filterType":"text","type":"equals","filter":"open"}`)
	}
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"body over the body limit", http.MethodPost, issues, `{"startRow":0,"endRow":10,"pad":"` + strings.Repeat("x", 7<<20) + `"}`, 413, "too large"},
		{"filter nested too deep", http.MethodPost, issues, `{"filterModel":` + nested + `}`, 400, "deeper than"},
		{"too many filter conditions", http.MethodPost, issues, `{"filterModel":{"filterType":"join","type":"AND","conditions":[` + strings.Join(many, ",") + `]}}`, 400, "more than 100 conditions"},
		{"page too large", http.MethodPost, issues, `{"startRow":0,"endRow":5000}`, 400, "1000"},
		{"filter value too long", http.MethodPost, issues, `{"filterModel":{"colId":"message","filterType":"text","type":"contains","filter":"` + strings.Repeat("x", 65<<10) + `"}}`, 400, `field "filterModel.filter" is 66560 bytes long; at most 65536`},
		{"message too long", http.MethodPost, evaluations, eval(1, 0, strings.Repeat("m", 64<<10+1)), 400, `field "violations[0].message" is 65537 bytes long; at most 65536`},
		// A name without a pattern in openapi.yaml (those with one fail it
		// first).
		{"name too long", http.MethodPatch, "/api/orgs/" + org.Name + "/policygroups/default-policy-group", `{"newName":"` + strings.Repeat("n", 1025) + `"}`, 400, `field "newName" is 1025 bytes long; at most 1024`},
		{"too many violations", http.MethodPost, evaluations, eval(1001, 0, ""), 400, `field "violations" has 1001 items; at most 1000`},
		{"too many resources", http.MethodPost, evaluations, eval(0, 1001, ""), 400, `field "resources" has 1001 items; at most 1000`},
		{"a body that is too long a list", http.MethodPatch, "/api/orgs/" + org.Name + "/policygroups/default-policy-group/batch", "[" + strings.Repeat(`{},`, 1000) + "{}]", 400, `the request body has 1001 items; at most 1000`},
	} {
		t.Run(c.name, func(t *testing.T) {
			admin := auth
			if strings.Contains(c.path, "/policygroups") {
				admin = "token " + org.Admin
			}
			status, _, raw := call(t, env, admin, c.method, c.path, c.body)
			if status != c.status {
				t.Fatalf("%d %.300s, want %d", status, raw, c.status)
			}
			if eb := errorBodyOf(t, status, raw); !strings.Contains(eb.Message, c.message) {
				t.Fatalf("message %q does not say %q", eb.Message, c.message)
			}
		})
	}
	// Within the limits the same shapes are accepted.
	if status, _, raw := call(t, env, auth, http.MethodPost, evaluations, eval(2, 2, strings.Repeat("m", 64<<10))); status != http.StatusOK {
		t.Fatalf("evaluation within the limits: %d %.300s", status, raw)
	}
}

// scrape reads /metrics.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	return string(raw)
}

// metricValue finds a sample by name and labels (in Prometheus' sorted
// label order) and returns its value.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no sample %s in /metrics", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMetrics checks /metrics: requests by operation and status (also for
// requests refused before their handler), latency histograms, the database
// pool, ingests and issues by status.
func TestMetrics(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.StartWith(t, b, server.Config{ServeMetrics: true, RateLimit: 0.001, RateBurst: 3})
		org := env.NewOrg(t)
		seedStacks(t, env, org, 2, 6)
		issues := "/api/orgs/" + org.Name + "/policyresults/issues"
		call(t, env, "token "+org.Viewer, http.MethodPost, issues, `{"startRow":0,"endRow":10}`)
		call(t, env, "", http.MethodPost, issues, `{}`)
		call(t, env, "token "+org.Viewer, http.MethodPost, issues, `{"startRow":"x"}`)
		call(t, env, "token "+org.Viewer, http.MethodGet, "/no/such/route", "")
		// Bursts of 3 and next to no refill: the 4th request of a token is
		// limited.
		for i := 0; i < 4; i++ {
			call(t, env, "token "+org.Member, http.MethodGet, "/api/user", "")
		}

		text := scrape(t, env.URL)
		for series, want := range map[string]float64{
			`policyresults_http_requests_total{method="POST",operation="ListPolicyIssues",status="200"}`:            1,
			`policyresults_http_requests_total{method="POST",operation="ListPolicyIssues",status="401"}`:            1,
			`policyresults_http_requests_total{method="POST",operation="ListPolicyIssues",status="400"}`:            1,
			`policyresults_http_requests_total{method="POST",operation="CreatePolicyEvaluation",status="200"}`:      2,
			`policyresults_http_requests_total{method="GET",operation="unmatched",status="404"}`:                    1,
			`policyresults_http_request_duration_seconds_count{code="2xx",operation="ListPolicyIssues"}`:            1,
			`policyresults_http_request_duration_seconds_bucket{code="2xx",operation="ListPolicyIssues",le="+Inf"}`: 1,
			`policyresults_ingest_total{operation="CreatePolicyEvaluation",status="200"}`:                           2,
			`policyresults_ingest_duration_seconds_count{operation="CreatePolicyEvaluation"}`:                       2,
			`policyresults_rate_limited_total`: 1,
		} {
			if got := metricValue(t, text, series); got != want {
				t.Errorf("%s = %g, want %g", series, got, want)
			}
		}
		// 6 resources × 2 stacks: no-public-read on 3, encrypted on 2, versioned on 2.
		if got := metricValue(t, text, `policyresults_ingest_issues_total{change="opened"}`); got != 14 {
			t.Errorf("issues opened %g, want 14", got)
		}
		for _, series := range []string{
			`go_sql_open_connections{db_name="` + b.Dialect.String() + `"}`,
			`go_sql_max_open_connections{db_name="` + b.Dialect.String() + `"}`,
			`policyresults_http_requests_in_flight`,
			`go_goroutines`,
		} {
			metricValue(t, text, series)
		}
		// Issues by status are those of the whole database, counted at
		// scrape time.
		for _, status := range []string{"open", "fixed", "ignored"} {
			var n int64
			if err := b.Repo.DB().Raw(`SELECT COUNT(*) FROM policy_issues WHERE status = ?`, status).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			if got := metricValue(t, text, `policyresults_issues{status="`+status+`"}`); got != float64(n) {
				t.Errorf("issues %s: %g, want %d", status, got, n)
			}
		}
		if strings.Contains(text, org.Name) {
			t.Error("/metrics names an organisation")
		}
	})
	// Without ServeMetrics there is no /metrics route.
	env := servertest.Start(t, repotest.Backends(t)[0])
	if status, _, _ := call(t, env, "", http.MethodGet, "/metrics", ""); status != http.StatusNotFound {
		t.Fatalf("/metrics without ServeMetrics: %d", status)
	}
}

// TestRequestLogLines checks the one structured line per request: request
// id (the response's X-Pulumi-Request-ID), organisation, operation id,
// status and duration; a well-formed client request id is kept, a hostile
// one replaced.
func TestRequestLogLines(t *testing.T) {
	b := repotest.Backends(t)[0]
	var logs logBuffer
	env := servertest.StartWith(t, b, server.Config{Logger: jsonLogger(&logs)})
	org := env.NewOrg(t)
	send := func(requestID string) string {
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/orgs/"+org.Name+"/policyresults/issues", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "token "+org.Viewer)
		if requestID != "" {
			req.Header.Set(server.RequestIDHeader, requestID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list issues: %d", resp.StatusCode)
		}
		return resp.Header.Get(server.RequestIDHeader)
	}
	generated := send("")
	kept := send("trace-42.a_b")
	replaced := send(strings.Repeat("x", 65) + `\" forged=\"true`)
	if generated == "" || kept != "trace-42.a_b" || replaced == "" || strings.Contains(replaced, "forged") {
		t.Fatalf("request ids %q %q %q", generated, kept, replaced)
	}
	found := map[string]bool{}
	for _, line := range logs.lines(t) {
		if line["msg"] != "request" {
			continue
		}
		id, _ := line["request_id"].(string)
		found[id] = true
		if id != generated {
			continue
		}
		if line["org"] != org.Name || line["operation"] != "ListPolicyIssues" || line["status"] != float64(200) ||
			line["method"] != "POST" || line["level"] != "INFO" {
			t.Errorf("log line %v", line)
		}
		if d, ok := line["duration"].(float64); !ok || d <= 0 {
			t.Errorf("duration %v", line["duration"])
		}
	}
	for _, id := range []string{generated, kept, replaced} {
		if !found[id] {
			t.Errorf("no log line with request_id %q:\n%s", id, logs.String())
		}
	}
}
