package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// TestListOrganizationMembers lists members as the console's assignee list
// does: every role may read them, emails only reach admins, roles map to
// Pulumi's, pages follow continuationToken, and bad parameters are 400s that
// name them.
func TestListOrganizationMembers(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		other := env.NewOrg(t)
		ctx := context.Background()

		byLogin := func(r *client.ListOrganizationMembersHTTPResponse) map[string]client.OrganizationMember {
			t.Helper()
			if r.JSON200 == nil {
				t.Fatalf("list members: %d %s", r.StatusCode(), r.Body)
			}
			out := map[string]client.OrganizationMember{}
			for _, m := range r.JSON200.Members {
				out[m.User.GithubLogin] = m
			}
			return out
		}
		for _, tok := range []string{org.Viewer, org.Member, org.OrgViewerToken} {
			r, err := env.Client(t, tok).ListOrganizationMembersWithResponse(ctx, org.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			members := byLogin(r)
			if len(members) != 3 || r.JSON200.ContinuationToken != nil {
				t.Fatalf("members %s", r.Body)
			}
			for login, m := range members {
				if m.User.Email != nil {
					t.Fatalf("a non-admin sees %s's email", login)
				}
			}
		}
		r, err := env.Client(t, org.Admin).ListOrganizationMembersWithResponse(ctx, org.Name, &client.ListOrganizationMembersParams{Type: ptr(client.OrganizationMemberKindBackend)})
		if err != nil {
			t.Fatal(err)
		}
		members := byLogin(r)
		for _, want := range []struct {
			login, fga string
			role       client.OrganizationRole
		}{
			{org.AdminLogin, "admin", client.OrganizationRoleAdmin},
			{org.MemberLogin, "member", client.OrganizationRoleMember},
			{org.ViewerLogin, "viewer", client.OrganizationRoleMember},
		} {
			m, ok := members[want.login]
			if !ok || m.Role != want.role || m.FgaRole.Id != want.fga || !m.KnownToPulumi || m.VirtualAdmin || m.Created.IsZero() {
				t.Fatalf("%s: %+v", want.login, m)
			}
			if m.User.Email == nil || *m.User.Email != want.login+"@example.com" {
				t.Fatalf("an admin does not see %s's email: %+v", want.login, m.User)
			}
		}
		if _, ok := members[other.AdminLogin]; ok {
			t.Fatal("another organisation's admin is listed")
		}

		// Service principals: none.
		sp, err := env.Client(t, org.Admin).ListOrganizationMembersWithResponse(ctx, org.Name, &client.ListOrganizationMembersParams{Type: ptr(client.OrganizationMemberKindServicePrincipal)})
		if err != nil || sp.JSON200 == nil || len(sp.JSON200.Members) != 0 {
			t.Fatalf("service principals: %v %s", err, sp.Body)
		}

		// Paging: more members than a page.
		for i := 0; i < accounts.MembersPageSize; i++ {
			u := &model.User{Login: fmt.Sprintf("%s-x%03d", org.Name, i), Email: fmt.Sprintf("%s-x%03d@example.com", org.Name, i)}
			if err := b.Repo.Accounts.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if err := b.Repo.Accounts.AddMember(ctx, org.ID, u.ID, model.RoleMember); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		var token *string
		pages := 0
		for {
			page, err := env.Client(t, org.Viewer).ListOrganizationMembersWithResponse(ctx, org.Name, &client.ListOrganizationMembersParams{ContinuationToken: token})
			if err != nil || page.JSON200 == nil {
				t.Fatalf("page %d: %v %s", pages, err, page.Body)
			}
			pages++
			for _, m := range page.JSON200.Members {
				if seen[m.User.GithubLogin] {
					t.Fatalf("%s on two pages", m.User.GithubLogin)
				}
				seen[m.User.GithubLogin] = true
			}
			if page.JSON200.ContinuationToken == nil {
				break
			}
			token = page.JSON200.ContinuationToken
		}
		if pages != 2 || len(seen) != accounts.MembersPageSize+3 {
			t.Fatalf("%d members on %d pages", len(seen), pages)
		}

		// Bad input names the parameter.
		// A forged token is refused whatever the type, service principals'
		// (which answered their empty list) included; so is the token of
		// another type's listing.
		for _, q := range []string{"type=robots", "continuationToken=forged", "type=service-principal&continuationToken=forged",
			"type=service-principal&continuationToken=" + url.QueryEscape(deref(token))} {
			resp, body := send(t, http.MethodGet, env.URL+"/api/orgs/"+org.Name+"/members?"+q, "", map[string]string{"Authorization": "token " + org.Viewer})
			// The parameter named last is the wrong one.
			name, _, _ := strings.Cut(q[strings.LastIndex(q, "&")+1:], "=")
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), name) {
				t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
			}
		}
	})
}
