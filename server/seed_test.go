package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/oapi-codegen/nullable"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/server/servertest"
)

func itoa(n int) string { return strconv.Itoa(n) }

// urn is a resource URN of a stack.
func urn(project, stack, typ, name string) string {
	return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", stack, project, typ, name)
}

// evaluation builds a complete evaluation of one stack and one pack: every
// resource is evaluated by every policy, and fails[policy] lists the
// resources (by index) failing it.
type evaluation struct {
	project, stack string
	version        int
	pack, tag      string
	policies       []client.AppPolicy
	resources      int
	fails          map[string][]int
	packError      string
	kind           string
}

func (e evaluation) request() client.PolicyEvaluationRequest {
	req := client.PolicyEvaluationRequest{
		Stack:       &client.PolicyEvaluationStack{Project: e.project, Name: e.stack, Version: e.version},
		PolicyPacks: []client.PolicyEvaluationPack{{Name: e.pack, VersionTag: e.tag, Policies: &e.policies}},
	}
	if e.packError != "" {
		req.PolicyPacks[0].Error = &e.packError
	}
	if e.kind != "" {
		k := client.PolicyIssueKind(e.kind)
		req.Kind = &k
	}
	failing := map[int]map[string]bool{}
	for policy, idx := range e.fails {
		for _, i := range idx {
			if failing[i] == nil {
				failing[i] = map[string]bool{}
			}
			failing[i][policy] = true
		}
	}
	resources := []client.PolicyEvaluationResource{}
	violations := []client.PolicyEvaluationViolation{}
	for i := 0; i < e.resources; i++ {
		u := urn(e.project, e.stack, "aws:s3/bucket:Bucket", "bucket-"+itoa(i))
		passed, failed := []string{}, []string{}
		for _, p := range e.policies {
			if failing[i][p.Name] {
				failed = append(failed, p.Name)
				msg := p.Name + " failed on bucket-" + itoa(i)
				violations = append(violations, client.PolicyEvaluationViolation{PolicyPack: e.pack, PolicyName: p.Name, ResourceURN: &u, Message: &msg})
			} else {
				passed = append(passed, p.Name)
			}
		}
		resources = append(resources, client.PolicyEvaluationResource{Urn: u,
			PolicyPacks: &[]client.PolicyEvaluationResourcePack{{Name: e.pack, Passed: &passed, Failed: &failed}}})
	}
	req.Resources = &resources
	req.Violations = &violations
	return req
}

// testPolicies are three policies of every severity class the tests need.
func testPolicies() []client.AppPolicy {
	sev := func(s client.PolicySeverity) *client.PolicySeverity { return &s }
	return []client.AppPolicy{
		{Name: "no-public-read", DisplayName: "No public read", Description: "Buckets are private.", EnforcementLevel: client.AppEnforcementLevelMandatory, Message: "Bucket is public.", Severity: sev(client.PolicySeverityCritical)},
		{Name: "encrypted", DisplayName: "Encrypted", Description: "Buckets are encrypted.", EnforcementLevel: client.AppEnforcementLevelAdvisory, Message: "Bucket is not encrypted.", Severity: sev(client.PolicySeverityMedium)},
		{Name: "versioned", DisplayName: "Versioned", Description: "Buckets keep versions.", EnforcementLevel: client.AppEnforcementLevelAdvisory, Message: "Bucket has no versioning.", Severity: sev(client.PolicySeverityLow)},
	}
}

// ingest posts an evaluation and returns its summary, failing on any
// status but 200.
func ingest(t *testing.T, c *client.ClientWithResponses, org string, req client.PolicyEvaluationRequest) client.PolicyEvaluationSummary {
	t.Helper()
	resp, err := c.CreatePolicyEvaluationWithResponse(context.Background(), org, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != http.StatusOK {
		t.Fatalf("ingest: %d %s", resp.StatusCode(), resp.Body)
	}
	return *resp.JSON200
}

// seedStacks ingests one evaluation of each of n stacks with perStack
// resources; each stack fails no-public-read on every 2nd resource,
// encrypted on every 3rd and versioned on every 5th.
func seedStacks(t *testing.T, env *servertest.Env, org *servertest.Org, n, perStack int) {
	t.Helper()
	c := env.Client(t, org.OrgToken)
	for s := 0; s < n; s++ {
		fails := map[string][]int{}
		for i := 0; i < perStack; i++ {
			if i%2 == 0 {
				fails["no-public-read"] = append(fails["no-public-read"], i)
			}
			if i%3 == 0 {
				fails["encrypted"] = append(fails["encrypted"], i)
			}
			if i%5 == 0 {
				fails["versioned"] = append(fails["versioned"], i)
			}
		}
		ingest(t, c, org.Name, evaluation{project: "shop", stack: "s" + itoa(s), version: 1, pack: "baseline", tag: "1.0.0",
			policies: testPolicies(), resources: perStack, fails: fails}.request())
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// rawClient follows no redirects, so a test sees them, and leaves the
// answer encoded when the request names its Accept-Encoding.
var rawClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// send sends a request with header (and a JSON body, if any) and returns
// the answer as sent.
func send(t *testing.T, method, url, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

type (
	nullableString = nullable.Nullable[string]
)

// gunzip decompresses a gzip answer.
func gunzip(t *testing.T, packed []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		t.Fatal(err)
	}
	unpacked, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return unpacked
}
