// Command policyresults-bench is the load generator of the benchmark suite
// (BENCHMARKS.md, scripts/bench.sh). It runs a fixed request mix (benchKinds,
// with their weights) against a running policyresults server from N
// concurrent clients for a set time, then, for the grid and facet kinds,
// runs the naive SQL of the same requests directly against the database
// (package naive), then exports every issue once. It is a binary of its own
// so that the server's binary holds no benchmark code.
package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// benchOptions are the command's flags.
type benchOptions struct {
	url, org, token string
	databaseURL     string
	logLevel        string
	// log is the logger of the naive SQL's database access (--log-level).
	log          *slog.Logger
	clients      int
	duration     time.Duration
	warmup       time.Duration
	serverPID    int
	naiveSamples int
	export       bool
	seed         uint64
	jsonOut      string
	kinds        string
	verbose      bool
	viewSamples  int
}

func newRootCommand() *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "policyresults-bench --url URL --org ORG --token TOKEN [--clients 4] [--duration 60s] [--database-url URL] [--server-pid PID]",
		Short: "Run the benchmark request mix against a running policyresults server",
		Long: "Run a fixed request mix (grid pages with filters and sorts, a deep page, contains, facets, the compliance\n" +
			"matrix, per-policy compliance, metadata, triage and complete evaluations) from --clients concurrent clients\n" +
			"for --duration, and print per request kind the count, p50, p95, p99 and errors, and the server's RSS\n" +
			"and CPU time (--server-pid). With --database-url, the grid and facet requests are also run as naive SQL (WHERE +\n" +
			"ORDER BY + OFFSET + COUNT(*) on policy_issues) against the database, and the ratio is printed. Then\n" +
			"every issue is exported once (rows/s and RSS growth). See BENCHMARKS.md.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			o.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			return runBench(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", cmp.Or(os.Getenv("POLICYRESULTS_URL"), "http://127.0.0.1:8080"), "server URL (env POLICYRESULTS_URL)")
	f.StringVar(&o.org, "org", "acme", "organisation")
	f.StringVar(&o.token, "token", os.Getenv("POLICYRESULTS_TOKEN"), "token of a member of the organisation (env POLICYRESULTS_TOKEN)")
	f.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"),
		"the server's database (postgres://... or sqlite:PATH), for the naive SQL; none without it (env DATABASE_URL)")
	f.StringVar(&o.logLevel, "log-level", "warn", "log level of the naive SQL's database access: debug, info, warn, error")
	f.IntVar(&o.clients, "clients", 4, "concurrent clients")
	f.DurationVar(&o.duration, "duration", 60*time.Second, "how long the mix runs")
	f.DurationVar(&o.warmup, "warmup", 5*time.Second, "mix run first and not measured (warms caches)")
	f.IntVar(&o.serverPID, "server-pid", 0, "the server's process id, to report its RSS (from /proc/PID/status)")
	f.IntVar(&o.naiveSamples, "naive-samples", 12, "naive SQL runs per grid and facet kind (needs --database-url)")
	f.BoolVar(&o.export, "export", true, "export every issue once after the mix")
	f.Uint64Var(&o.seed, "seed", 1, "random seed of the mix")
	f.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	f.StringVar(&o.kinds, "kinds", "", "comma-separated subset of request kinds (default: the whole mix)")
	f.BoolVar(&o.verbose, "verbose", false, "also print the three slowest requests of each grid and facet kind")
	f.IntVar(&o.viewSamples, "view-samples", 0,
		"naive SQL runs per everyday filter of grid.filter, for a table of each view's ratio (needs --database-url)")
	return cmd
}
