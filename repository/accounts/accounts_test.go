package accounts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/repotest"
)

func TestTokensAndAuthorization(t *testing.T) {
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
		if _, err := r.CreateOrganization(ctx, org.Name); !errors.Is(err, repository.ErrConflict) {
			t.Fatalf("duplicate organisation: got %v, want ErrConflict", err)
		}
		login := repotest.UniqueName("alice")
		u := &model.User{Login: login, Email: login + "@example.com"}
		if err := r.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := r.AddMember(ctx, org.ID, u.ID, model.RoleMember); err != nil {
			t.Fatal(err)
		}
		secret, _, err := r.CreateToken(ctx, accounts.TokenSpec{UserID: &u.ID, Name: "laptop"})
		if err != nil {
			t.Fatal(err)
		}
		caller, err := r.Authenticate(ctx, secret)
		if err != nil || caller.User == nil || caller.User.Login != u.Login {
			t.Fatalf("authenticate: %v %+v", err, caller)
		}
		acc, err := r.AuthenticateIn(ctx, secret, org.Name)
		if err != nil || acc.Role != model.RoleMember || acc.Org.ID != org.ID || acc.Caller.User.ID != u.ID {
			t.Fatalf("authorize member: %v %+v", err, acc)
		}
		if _, err := r.AuthenticateIn(ctx, secret, other.Name); !errors.Is(err, repository.ErrNotFound) {
			t.Fatalf("authorize non-member: got %v, want ErrNotFound", err)
		}
		if _, err := r.AuthenticateIn(ctx, secret, "no-such-org"); !errors.Is(err, repository.ErrNotFound) {
			t.Fatalf("authorize in a missing organisation: got %v, want ErrNotFound", err)
		}

		orgSecret, tok, err := r.CreateToken(ctx, accounts.TokenSpec{OrgID: &org.ID, Name: "ci", Role: model.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		if oc, err := r.Authenticate(ctx, orgSecret); err != nil || oc.OrgID == nil || *oc.OrgID != org.ID {
			t.Fatalf("authenticate org token: %v %+v", err, oc)
		}
		if acc, err := r.AuthenticateIn(ctx, orgSecret, org.Name); err != nil || acc.Role != model.RoleViewer || acc.Org.Name != org.Name {
			t.Fatalf("org token: %v %+v", err, acc)
		}
		if _, err := r.AuthenticateIn(ctx, orgSecret, other.Name); !errors.Is(err, repository.ErrNotFound) {
			t.Fatalf("org token elsewhere: got %v", err)
		}
		if err := r.RevokeToken(ctx, org.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Authenticate(ctx, orgSecret); !errors.Is(err, accounts.ErrUnauthenticated) {
			t.Fatalf("revoked token: got %v", err)
		}
		if _, err := r.AuthenticateIn(ctx, orgSecret, org.Name); !errors.Is(err, accounts.ErrUnauthenticated) {
			t.Fatalf("revoked token in its organisation: got %v, want ErrUnauthenticated", err)
		}
		for _, bad := range []string{"", "pul-123", accounts.NewTokenSecret()} {
			if _, err := r.Authenticate(ctx, bad); !errors.Is(err, accounts.ErrUnauthenticated) {
				t.Errorf("token %q: got %v", bad, err)
			}
		}
		past := time.Now().Add(-time.Hour)
		expired, _, err := r.CreateToken(ctx, accounts.TokenSpec{UserID: &u.ID, ExpiresAt: &past})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Authenticate(ctx, expired); !errors.Is(err, accounts.ErrUnauthenticated) {
			t.Fatalf("expired token: got %v", err)
		}
	})
}
