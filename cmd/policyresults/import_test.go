package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
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

// importLog runs the import command against env for shop/dev at version.
func importLog(t *testing.T, env *servertest.Env, org *servertest.Org, file string, version int) (string, error) {
	t.Helper()
	t.Setenv("POLICYRESULTS_TOKEN", org.OrgToken)
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"import", "--url", env.URL, "--org", org.Name, "--stack", "shop/dev", "--version", itoa(version), file})
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// issueStatuses lists the organisation's issues as policy@resource → status,
// and their pack tags.
func issueStatuses(t *testing.T, env *servertest.Env, org *servertest.Org) (map[string]string, map[string]bool) {
	t.Helper()
	resp, err := env.Client(t, org.Viewer).ListPolicyIssuesWithResponse(context.Background(), org.Name, client.AngularGridGetRowsRequest{})
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("list issues: %v %s", err, resp.Body)
	}
	statuses, tags := map[string]string{}, map[string]bool{}
	for _, is := range resp.JSON200.PolicyIssues {
		name := is.ResourceURN[strings.LastIndex(is.ResourceURN, "::")+2:]
		statuses[is.PolicyPack+"/"+is.PolicyName+"@"+name] = string(is.Status)
		tags[is.PolicyPackTag] = true
	}
	return statuses, tags
}

// TestImportLocalPackLifecycle imports the current CLI's log of a local pack
// without a version next to an analyzer that names no pack (passed over),
// then a clean run that names the pack only in its summary, which fixes the
// pack's issues, then a run that reports two again, which reopens them. A
// log with a line that is not JSON writes nothing.
func TestImportLocalPackLifecycle(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)

		good, err := os.ReadFile("../../eventlog/testdata/local-1-remediations.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(t.TempDir(), "cut.jsonl")
		if err := os.WriteFile(bad, append(good, "error: update failed\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(good, []byte("\n"))
		if out, err := importLog(t, env, org, bad, 1); err == nil || !strings.Contains(err.Error(), "line "+itoa(lines+1)+": not a JSON engine event") {
			t.Fatalf("a log with a line that is not JSON: %v\n%s", err, out)
		}
		if got, _ := issueStatuses(t, env, org); len(got) != 0 {
			t.Fatalf("a refused log wrote issues: %v", got)
		}

		steps := []struct {
			file   string
			output []string
			issues map[string]string
		}{
			{"local-1-remediations.jsonl", []string{
				"imported shop/dev version 1: 3 opened, 0 reopened, 0 fixed, 0 unchanged; 4 resources governed",
				"read 1 policy pack (security (no version)), 5 resources, 3 violations, 2 remediations (not violations)",
				"passed over 11 policy summary events without a policy pack, 1 policy violation without a policy pack or policy name and 1 summary pack entry without a pack name",
			}, map[string]string{"security/s3-no-public-read@assets": "open", "security/sg-no-open-ssh@web": "open", "security/stack-has-owner@shop-dev": "open"}},
			{"local-2-clean-older-cli.jsonl", []string{
				"imported shop/dev version 2: 0 opened, 0 reopened, 3 fixed, 0 unchanged",
				"read 1 policy pack (security (no version)), 5 resources, 0 violations, 0 remediations",
				"passed over 1 summary pack entry without a pack name",
			}, map[string]string{"security/s3-no-public-read@assets": "fixed", "security/sg-no-open-ssh@web": "fixed", "security/stack-has-owner@shop-dev": "fixed"}},
			{"local-3-reopens.jsonl", []string{
				"imported shop/dev version 3: 0 opened, 2 reopened, 0 fixed, 0 unchanged",
			}, map[string]string{"security/s3-no-public-read@assets": "open", "security/sg-no-open-ssh@web": "open", "security/stack-has-owner@shop-dev": "fixed"}},
		}
		for i, step := range steps {
			out, err := importLog(t, env, org, "../../eventlog/testdata/"+step.file, i+1)
			if err != nil {
				t.Fatalf("import %s: %v\n%s", step.file, err, out)
			}
			for _, want := range step.output {
				if !strings.Contains(out, want) {
					t.Errorf("import %s printed\n%s\nwant %q in it", step.file, out, want)
				}
			}
			got, tags := issueStatuses(t, env, org)
			if !reflect.DeepEqual(got, step.issues) {
				t.Errorf("after %s: issues %v, want %v", step.file, got, step.issues)
			}
			// The pack has no version and no registered version: no tag.
			if !reflect.DeepEqual(tags, map[string]bool{"": true}) {
				t.Errorf("after %s: pack tags %v", step.file, tags)
			}
		}
	})
}

// importRefused imports log against an address nothing listens on: the
// import must fail before it sends anything.
func importRefused(t *testing.T, log string) error {
	t.Helper()
	file := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(file, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("POLICYRESULTS_TOKEN", "pul-0000000000000000000000000000000000000000")
	cmd := newRootCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"import", "--url", "http://127.0.0.1:1", "--org", "acme", "--stack", "p/s", "--version", "1", file})
	err := cmd.ExecuteContext(context.Background())
	if err != nil && strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("the import tried to send: %v", err)
	}
	return err
}

func TestImportRefusesMalformedLogs(t *testing.T) {
	err := importRefused(t, "{\"sequence\":0,\"timestamp\":1}\n{not json\n")
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("malformed log: %v, want an error naming line 2", err)
	}
}

// A log whose only policy events name no pack has nothing to import: the
// error says what was passed over.
func TestImportRefusesLogsWithoutPacks(t *testing.T) {
	err := importRefused(t, `{"sequence":0,"timestamp":1,"policyAnalyzeSummaryEvent":{"resourceUrn":"urn:pulumi:dev::shop::aws:s3/bucket:Bucket::b","policyPackName":"","policyPackVersion":"","policyPackVersionTag":"","passed":["x"]}}`+"\n"+
		`{"sequence":1,"timestamp":1,"summaryEvent":{"maybeCorrupt":false,"durationSeconds":1,"resourceChanges":{},"PolicyPacks":{"|local|~/p":""},"isPreview":false,"result":"succeeded"}}`+"\n")
	want := "names no policy pack: was it written by `pulumi up|preview --policy-pack ... --event-log FILE`? " +
		"(passed over 1 policy summary event without a policy pack and 1 summary pack entry without a pack name)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to contain %q", err, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
