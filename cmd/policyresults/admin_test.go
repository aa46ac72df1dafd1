package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/repository/repotest"
)

// run executes the binary's command line against a database and returns
// stdout.
func run(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"--database-url", dbURL, "--log-level", "error"}, args...))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestAdminCommands(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		org := "cli" + strings.ReplaceAll(t.Name(), "/", "-")
		if _, err := run(t, b.URL, "org", "create", org); err != nil {
			t.Fatal(err)
		}
		if _, err := run(t, b.URL, "user", "create", org+"-dana", "--email", org+"-dana@example.com", "--org", org, "--role", "member"); err != nil {
			t.Fatal(err)
		}
		// token create prints only the token on stdout.
		tok, err := run(t, b.URL, "token", "create", "--org", org, "--user", org+"-dana")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^pul-[0-9a-f]{40}\n$`).MatchString(tok) {
			t.Fatalf("token create printed %q", tok)
		}
		if _, err := b.Repo.Accounts.Authenticate(context.Background(), strings.TrimSpace(tok)); err != nil {
			t.Fatalf("printed token does not authenticate: %v", err)
		}
		orgTok, err := run(t, b.URL, "token", "create", "--org", org, "--name", "ci", "--role", "member")
		if err != nil || !strings.HasPrefix(orgTok, "pul-") {
			t.Fatalf("org token: %v %q", err, orgTok)
		}
		list, err := run(t, b.URL, "token", "list", "--org", org)
		if err != nil || !strings.Contains(list, "organisation") || !strings.Contains(list, "personal") || strings.Contains(list, strings.TrimSpace(tok)) {
			t.Fatalf("token list: %v\n%s", err, list)
		}
		for _, bad := range [][]string{
			{"user", "create", "x", "--email", "x@example.com", "--org", org, "--role", "owner"},
			{"token", "create", "--org", org},
			{"org", "create", org},
		} {
			if _, err := run(t, b.URL, bad...); err == nil {
				t.Errorf("%v: no error", bad)
			}
		}
	})
}
