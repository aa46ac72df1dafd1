package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestListMembersPagesInByteOrder lists more members than a page: every
// member once, in byte order of their logins on both databases (upper case
// before lower case), only the organisation's own, with their roles.
func TestListMembersPagesInByteOrder(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		ctx := context.Background()
		r := b.Repo.Accounts
		org, err := r.CreateOrganization(ctx, repotest.UniqueName("org"))
		if err != nil {
			t.Fatal(err)
		}
		other, err := r.CreateOrganization(ctx, repotest.UniqueName("other"))
		if err != nil {
			t.Fatal(err)
		}
		suffix := repotest.UniqueName("")
		add := func(orgID int64, login string, role model.Role) {
			t.Helper()
			u := &model.User{Login: login + suffix, Email: login + suffix + "@example.com"}
			if err := r.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if err := r.AddMember(ctx, orgID, u.ID, role); err != nil {
				t.Fatal(err)
			}
		}
		n := accounts.MembersPageSize + 5
		for i := 0; i < n-2; i++ {
			add(org.ID, fmt.Sprintf("m%03d", i), model.RoleMember)
		}
		add(org.ID, "Zed", model.RoleAdmin)
		add(org.ID, "alice", model.RoleViewer)
		add(other.ID, "outsider", model.RoleAdmin)

		var logins []string
		roles := map[string]model.Role{}
		token, pages := "", 0
		for {
			page, next, err := r.ListMembers(ctx, org.ID, token)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(page) > accounts.MembersPageSize {
				t.Fatalf("a page of %d members", len(page))
			}
			for _, m := range page {
				logins = append(logins, m.Login)
				roles[m.Login] = m.Role
				if m.JoinedAt.IsZero() || m.Email != m.Login+"@example.com" {
					t.Fatalf("member %+v", m)
				}
			}
			if next == "" {
				break
			}
			token = next
		}
		if pages != 2 || len(logins) != n {
			t.Fatalf("%d members on %d pages, want %d on 2", len(logins), pages, n)
		}
		if logins[0] != "Zed"+suffix || logins[1] != "alice"+suffix || logins[2] != "m000"+suffix {
			t.Fatalf("order starts %v, want byte order (Zed, alice, m000)", logins[:3])
		}
		for i := 1; i < len(logins); i++ {
			if logins[i-1] >= logins[i] {
				t.Fatalf("logins out of order or repeated: %q then %q", logins[i-1], logins[i])
			}
		}
		if roles["Zed"+suffix] != model.RoleAdmin || roles["alice"+suffix] != model.RoleViewer {
			t.Fatalf("roles %v", roles)
		}
		if _, ok := roles["outsider"+suffix]; ok {
			t.Fatal("another organisation's member is listed")
		}
		var ve *repository.ValidationError
		if _, _, err := r.ListMembers(ctx, org.ID, token+"x"); !errors.As(err, &ve) || ve.Field != "continuationToken" {
			t.Fatalf("tampered token: %v", err)
		}
	})
}
