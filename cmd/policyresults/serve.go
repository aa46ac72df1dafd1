package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/policyresults/policyresults/server"
)

func newServeCommand(g *globalFlags) *cobra.Command {
	var (
		addr            string
		noMigrate       bool
		demo            bool
		bodyLimit       string
		baseURL         string
		requestTimeout  time.Duration
		shutdownTimeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Policy Results API",
		Long: "Serve the Policy Results API. Pending migrations are applied first unless --no-migrate is given.\n" +
			"With --demo, an empty database is seeded with the demo organisation 'acme', and a fresh token for its\n" +
			"admin 'alice' is printed with a first curl command.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := g.logger()
			repo, err := g.open(ctx, !noMigrate)
			if err != nil {
				return err
			}
			defer repo.Close()
			if demo {
				token, err := ensureDemo(ctx, repo, cmd.ErrOrStderr())
				if err != nil {
					return fmt.Errorf("seed demo data: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "\npolicyresults is serving the demo organisation 'acme' on http://%s\n\n", addr)
				fmt.Fprintf(cmd.OutOrStdout(), "  export TOKEN=%s\n", token)
				fmt.Fprintf(cmd.OutOrStdout(), "  curl -H \"Authorization: token $TOKEN\" -X POST http://%s/api/orgs/acme/policyresults/issues -d '{\"startRow\":0,\"endRow\":10}'\n\n", addr)
			}
			_, e, err := server.New(server.Config{
				Repo: repo, Logger: log, BodyLimit: bodyLimit, BaseURL: baseURL, RequestTimeout: requestTimeout,
			})
			if err != nil {
				return err
			}
			srv := &http.Server{
				Addr:              addr,
				Handler:           e,
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       60 * time.Second,
				WriteTimeout:      10 * time.Minute, // a full CSV export streams for a while
				IdleTimeout:       120 * time.Second,
				MaxHeaderBytes:    1 << 20,
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.ListenAndServe() }()
			log.Info("serving", "addr", addr, "database", string(repo.Dialect()))
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			log.Info("shutting down: finishing in-flight requests")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envOr("POLICYRESULTS_ADDR", "127.0.0.1:8080"), "listen address (env POLICYRESULTS_ADDR)")
	cmd.Flags().BoolVar(&noMigrate, "no-migrate", false, "do not apply pending migrations on start")
	cmd.Flags().BoolVar(&demo, "demo", false, "seed the demo organisation 'acme' when the database is empty and print a token")
	cmd.Flags().StringVar(&bodyLimit, "body-limit", envOr("POLICYRESULTS_BODY_LIMIT", "8M"), "largest request body (env POLICYRESULTS_BODY_LIMIT)")
	cmd.Flags().StringVar(&baseURL, "base-url", os.Getenv("POLICYRESULTS_BASE_URL"), "external URL of the server, for policy pack upload URIs (env POLICYRESULTS_BASE_URL)")
	cmd.Flags().DurationVar(&requestTimeout, "request-timeout", 30*time.Second, "longest time a request may spend on the database")
	cmd.Flags().DurationVar(&shutdownTimeout, "shutdown-timeout", 30*time.Second, "longest wait for in-flight requests on SIGTERM")
	return cmd
}
