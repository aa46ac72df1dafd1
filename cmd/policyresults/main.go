// Command policyresults serves Pulumi Cloud's Policy Results API and
// administers its organisations, users and tokens.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// globalFlags are the flags every subcommand shares.
type globalFlags struct {
	databaseURL string
	logFormat   string
	logLevel    string
}

func newRootCommand() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "policyresults",
		Short:         "A self-hostable server for Pulumi Cloud's Policy Results API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.databaseURL, "database-url", os.Getenv("DATABASE_URL"),
		"postgres://... or sqlite:PATH; empty means the embedded SQLite database at "+repository.DefaultSQLitePath+" (env DATABASE_URL)")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", envOr("POLICYRESULTS_LOG_FORMAT", "json"), "log format: json or text (env POLICYRESULTS_LOG_FORMAT)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", envOr("POLICYRESULTS_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env POLICYRESULTS_LOG_LEVEL)")
	root.AddCommand(
		newServeCommand(g),
		newMigrateCommand(g),
		newOrgCommand(g),
		newUserCommand(g),
		newTokenCommand(g),
		newDemoCommand(g),
		newImportCommand(),
	)
	return root
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// logger builds the process logger from the flags.
func (g *globalFlags) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if g.logFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// open connects to the database and applies pending migrations when migrate
// is true.
func (g *globalFlags) open(ctx context.Context, migrate bool) (*repository.Repository, error) {
	repo, err := repository.Open(ctx, g.databaseURL, repository.Options{Logger: g.logger()})
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := repo.Migrate(ctx); err != nil {
			_ = repo.Close()
			return nil, err
		}
	}
	return repo, nil
}

// openOrg opens the migrated database and finds an organisation by name.
func (g *globalFlags) openOrg(ctx context.Context, orgName string) (*repository.Repository, *model.Organization, error) {
	repo, err := g.open(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	o, err := repo.Accounts.OrganizationByName(ctx, orgName)
	if err != nil {
		_ = repo.Close()
		return nil, nil, fmt.Errorf("organisation %q: %w", orgName, err)
	}
	return repo, o, nil
}

func newMigrateCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			repo, err := g.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer repo.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "%s database is up to date\n", repo.Dialect())
			return nil
		},
	}
}
