package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/accounts"
)

func newOrgCommand(g *globalFlags) *cobra.Command {
	org := &cobra.Command{Use: "org", Short: "Manage organisations"}
	org.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create an organisation (with its two default policy groups)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo, err := g.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer repo.Close()
			o, err := repo.Accounts.CreateOrganization(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created organisation %s\n", o.Name)
			return nil
		},
	})
	return org
}

func newUserCommand(g *globalFlags) *cobra.Command {
	var email, name, orgName, role string
	create := &cobra.Command{
		Use:   "create LOGIN --email E --org ORG --role ROLE [--name N]",
		Short: "Create a user and make them a member of an organisation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := accounts.ParseRole(role)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			repo, o, err := g.openOrg(ctx, orgName)
			if err != nil {
				return err
			}
			defer repo.Close()
			u := &model.User{Login: args[0], Email: email, Name: name}
			if err := repo.Accounts.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := repo.Accounts.AddMember(ctx, o.ID, u.ID, r); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created user %s (%s in %s)\n", u.Login, r, o.Name)
			return nil
		},
	}
	create.Flags().StringVar(&email, "email", "", "email address (required)")
	create.Flags().StringVar(&name, "name", "", "display name (default: the login)")
	create.Flags().StringVar(&orgName, "org", "", "organisation to join (required)")
	create.Flags().StringVar(&role, "role", "member", "role in the organisation: admin, member or viewer")
	_ = create.MarkFlagRequired("email")
	_ = create.MarkFlagRequired("org")
	user := &cobra.Command{Use: "user", Short: "Manage users"}
	user.AddCommand(create)
	return user
}

func newTokenCommand(g *globalFlags) *cobra.Command {
	var orgName, login, name, role string
	var expires time.Duration
	create := &cobra.Command{
		Use:   "create --org ORG (--user LOGIN | --name NAME --role ROLE)",
		Short: "Create a token and print it (only the token, on stdout)",
		Long: "Create a user's personal token (--user) or an organisation token with a role of its own (--name, --role), " +
			"for CI ingestion. The token is printed once; only its SHA-256 hash is stored.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (login == "") == (name == "" && role == "") {
				return fmt.Errorf("give either --user LOGIN or --name NAME --role ROLE")
			}
			ctx := cmd.Context()
			repo, o, err := g.openOrg(ctx, orgName)
			if err != nil {
				return err
			}
			defer repo.Close()
			spec := accounts.TokenSpec{Name: name}
			if expires > 0 {
				at := time.Now().UTC().Add(expires)
				spec.ExpiresAt = &at
			}
			if login != "" {
				u, err := repo.Accounts.MemberByLoginOrEmail(ctx, o.ID, login)
				if err != nil {
					return fmt.Errorf("user %q is not a member of %s: %w", login, orgName, err)
				}
				spec.UserID = &u.ID
				if spec.Name == "" {
					spec.Name = "cli"
				}
			} else {
				r, err := accounts.ParseRole(role)
				if err != nil {
					return err
				}
				spec.OrgID, spec.Role = &o.ID, r
			}
			secret, _, err := repo.Accounts.CreateToken(ctx, spec)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			return nil
		},
	}
	create.Flags().StringVar(&orgName, "org", "", "organisation (required)")
	create.Flags().StringVar(&login, "user", "", "login of the member whose personal token this is")
	create.Flags().StringVar(&name, "name", "", "token name (organisation tokens)")
	create.Flags().StringVar(&role, "role", "", "organisation token role: admin, member or viewer")
	create.Flags().DurationVar(&expires, "expires-in", 0, "expire the token after this long (e.g. 720h); 0 never expires")
	_ = create.MarkFlagRequired("org")

	list := &cobra.Command{
		Use:   "list --org ORG",
		Short: "List an organisation's tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			repo, o, err := g.openOrg(cmd.Context(), orgName)
			if err != nil {
				return err
			}
			defer repo.Close()
			tokens, err := repo.Accounts.ListTokens(cmd.Context(), o.ID)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tOWNER\tNAME\tROLE\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
			for _, t := range tokens {
				kind, owner, role := "organisation", t.OrgName, string(t.Role)
				if t.UserID != nil {
					kind, owner, role = "personal", t.UserLogin, "(member's role)"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, kind, owner, t.Name, role,
					t.CreatedAt.Format(time.RFC3339), fmtTime(t.LastUsedAt), fmtTime(t.ExpiresAt), fmtTime(t.RevokedAt))
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&orgName, "org", "", "organisation (required)")
	_ = list.MarkFlagRequired("org")

	var id int64
	revoke := &cobra.Command{
		Use:   "revoke --org ORG --id ID",
		Short: "Revoke a token at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			repo, o, err := g.openOrg(cmd.Context(), orgName)
			if err != nil {
				return err
			}
			defer repo.Close()
			if err := repo.Accounts.RevokeToken(cmd.Context(), o.ID, id); err != nil {
				return fmt.Errorf("revoke token %d: %w", id, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked token %d\n", id)
			return nil
		},
	}
	revoke.Flags().StringVar(&orgName, "org", "", "organisation (required)")
	revoke.Flags().Int64Var(&id, "id", 0, "token id, from 'token list' (required)")
	_ = revoke.MarkFlagRequired("org")
	_ = revoke.MarkFlagRequired("id")

	token := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	token.AddCommand(create, list, revoke)
	return token
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
