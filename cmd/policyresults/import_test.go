package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// TestImportEventLogs imports the three fixture runs of payments/prod with
// the import command against a running server: the first opens issues, the
// second fixes some, the third reopens some.
func TestImportEventLogs(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		t.Setenv("POLICYRESULTS_TOKEN", org.OrgToken)
		var outputs []string
		for i, file := range []string{"run1-preview.jsonl", "run2-fixes.jsonl", "run3-reopens.jsonl"} {
			cmd := newRootCommand()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs([]string{"import", "--url", env.URL, "--org", org.Name, "--stack", "payments/prod",
				"--version", itoa(i + 1), "../../eventlog/testdata/" + file})
			if err := cmd.ExecuteContext(context.Background()); err != nil {
				t.Fatalf("import %s: %v\n%s", file, err, out.String())
			}
			outputs = append(outputs, out.String())
		}
		for i, want := range []string{"9 opened, 0 reopened, 0 fixed", "0 opened, 0 reopened, 5 fixed", "1 opened, 2 reopened, 1 fixed"} {
			if !strings.Contains(outputs[i], want) {
				t.Errorf("run %d: %q, want %q", i+1, outputs[i], want)
			}
		}
		resp, err := env.Client(t, org.Viewer).ListPolicyIssuesWithResponse(context.Background(), org.Name, client.AngularGridGetRowsRequest{})
		if err != nil || resp.JSON200 == nil || *resp.JSON200.RowCount != 10 {
			t.Fatalf("issues after three runs: %v %s", err, resp.Body)
		}
		for _, is := range resp.JSON200.PolicyIssues {
			if is.EntityProject != "payments" || is.EntityId != "prod" || strings.Contains(*is.Message, "<{%") {
				t.Errorf("imported issue %+v", is)
			}
		}
	})
}

func TestImportRefusesMalformedLogs(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.jsonl"
	if err := os.WriteFile(bad, []byte("{\"sequence\":0,\"timestamp\":1}\n{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("POLICYRESULTS_TOKEN", "pul-0000000000000000000000000000000000000000")
	cmd := newRootCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	// The URL is never reached: the log fails to parse before anything is sent.
	cmd.SetArgs([]string{"import", "--url", "http://127.0.0.1:1", "--org", "acme", "--stack", "p/s", "--version", "1", bad})
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("malformed log: %v, want an error naming line 2", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
