package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/policyresults/policyresults/demo"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
)

func newDemoCommand(g *globalFlags) *cobra.Command {
	var opts demo.Options
	var quiet bool
	cmd := &cobra.Command{
		Use:   "demo [--seed N] [--stacks N] [--accounts N] [--resources-per-entity N] [--runs N] [--workers N] [--failure-rate F] [--triage N]",
		Short: "Load the demo organisation 'acme' through the ingest code",
		Long: "Load a realistic organisation 'acme': users alice (admin), bob (member) and carol (viewer); policy packs\n" +
			"modelled on Pulumi's compliance-ready policies (AWS CIS and PCI DSS, Azure ISO 27001, Kubernetes CIS);\n" +
			"stacks and Insights accounts evaluated several times over a month, so issues open, get fixed and reopen;\n" +
			"and some issues triaged. Deterministic for a given seed. Prints a token for alice.\n\n" +
			"The size flags build benchmark data sets (BENCHMARKS.md, scripts/bench.sh):\n" +
			"  ~100,000 issues:   --stacks 300 --accounts 4 --resources-per-entity 400 --runs 2 --failure-rate 0.5 --triage 2000\n" +
			"  ~1,000,000 issues: --stacks 3000 --accounts 20 --resources-per-entity 400 --runs 2 --failure-rate 0.5 --triage 20000",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			repo, err := g.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer repo.Close()
			if !quiet {
				opts.Progress = cmd.ErrOrStderr()
			}
			if opts.Workers == 0 && repo.Dialect().ConcurrentWrites() {
				opts.Workers = 4
			}
			res, err := demo.Load(cmd.Context(), repo, opts)
			if errors.Is(err, repository.ErrConflict) {
				return fmt.Errorf("the organisation %q already exists; use an empty database", demo.OrgName)
			}
			if err != nil {
				return err
			}
			token, err := demoToken(cmd.Context(), repo, res.Org.ID)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 1, "random seed; the same seed gives the same data")
	cmd.Flags().IntVar(&opts.Stacks, "stacks", 10, "number of stacks")
	cmd.Flags().IntVar(&opts.Accounts, "accounts", 3, "number of Insights accounts")
	cmd.Flags().IntVar(&opts.ResourcesPerEntity, "resources-per-entity", 24, "resources per stack or account")
	cmd.Flags().IntVar(&opts.Runs, "runs", 4, "evaluations of each entity, a week apart")
	cmd.Flags().IntVar(&opts.Workers, "workers", 0, "parallel ingest workers (default 1 on SQLite, 4 on PostgreSQL)")
	cmd.Flags().Float64Var(&opts.FailureRate, "failure-rate", 0.2, "share of (resource, policy) pairs failing at first")
	cmd.Flags().IntVar(&opts.Triage, "triage", 400, "active issues people triage (status, assignee, priority); -1 for none")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress output")
	return cmd
}

// demoToken mints a personal token for the demo admin, alice.
func demoToken(ctx context.Context, repo *repository.Repository, orgID int64) (string, error) {
	alice, err := repo.Accounts.MemberByLoginOrEmail(ctx, orgID, "alice")
	if err != nil {
		return "", fmt.Errorf("demo admin alice: %w", err)
	}
	secret, _, err := repo.Accounts.CreateToken(ctx, accounts.TokenSpec{UserID: &alice.ID, Name: "make-run"})
	return secret, err
}

// ensureDemo seeds the demo organisation when the database has no
// organisation, and returns a fresh token for its admin.
func ensureDemo(ctx context.Context, repo *repository.Repository, progress io.Writer) (string, error) {
	n, err := repo.Accounts.CountOrganizations(ctx)
	if err != nil {
		return "", err
	}
	if n == 0 {
		fmt.Fprintln(progress, "seeding the demo organisation 'acme'")
		if _, err := demo.Load(ctx, repo, demo.Options{Progress: progress}); err != nil {
			return "", err
		}
	}
	org, err := repo.Accounts.OrganizationByName(ctx, demo.OrgName)
	if errors.Is(err, repository.ErrNotFound) {
		return "", fmt.Errorf("the database holds organisations but not %q; --demo needs an empty database or the demo one", demo.OrgName)
	}
	if err != nil {
		return "", err
	}
	return demoToken(ctx, repo, org.ID)
}
