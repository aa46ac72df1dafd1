package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/policyresults/policyresults/repository/webhooks"
	"github.com/policyresults/policyresults/server"
)

func newServeCommand(g *globalFlags) *cobra.Command {
	var (
		addr            string
		pprofAddr       string
		noMigrate       bool
		demo            bool
		bodyLimit       string
		baseURL         string
		requestTimeout  time.Duration
		shutdownTimeout time.Duration
		timeouts        httpTimeouts
		rateLimit       float64
		rateBurst       int
		metricsAddr     string
		acceptanceMax   int
		expiryInterval  time.Duration
		webhookKey      string
		allowPrivate    bool
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
				fmt.Fprintf(cmd.OutOrStdout(), "  console: open http://%s/ and sign in with the token\n", addr)
				fmt.Fprintf(cmd.OutOrStdout(), "  export TOKEN=%s\n", token)
				fmt.Fprintf(cmd.OutOrStdout(), "  curl -H \"Authorization: token $TOKEN\" -X POST http://%s/api/orgs/acme/policyresults/issues -d '{\"startRow\":0,\"endRow\":10}'\n\n", addr)
			}
			s, e, err := server.New(server.Config{
				Repo: repo, Logger: log, BodyLimit: bodyLimit, BaseURL: baseURL, RequestTimeout: requestTimeout,
				RateLimit: rateLimit, RateBurst: rateBurst, ServeMetrics: metricsAddr == "",
				WebhookKey: webhookKey, WebhookClient: webhooks.NewHTTPClient(allowPrivate),
				AcceptanceMaxDays: acceptanceMax,
			})
			if err != nil {
				return err
			}
			if acceptanceMax <= 0 {
				return fmt.Errorf("--acceptance-max-days must be 1 or more, got %d", acceptanceMax)
			}
			if expiryInterval <= 0 || expiryInterval > 30*time.Second {
				return fmt.Errorf("--acceptance-expiry-interval must be more than 0 and at most 30s, got %s", expiryInterval)
			}
			// Acceptances that ended while the server was stopped end before
			// it serves; then every interval.
			if err := repo.RunAcceptanceExpiry(ctx, expiryInterval, time.Now, log); err != nil {
				return fmt.Errorf("end expired acceptances: %w", err)
			}
			servers := []*http.Server{newHTTPServer(addr, e, timeouts)}
			if metricsAddr != "" && metricsAddr != "off" {
				mux := http.NewServeMux()
				mux.Handle("GET /metrics", s.MetricsHandler())
				servers = append(servers, newHTTPServer(metricsAddr, mux, timeouts))
			}
			if pprofAddr != "" {
				// Go's profiler on a listener of its own, never on --addr:
				// profiles show queries and memory, so it is for operators.
				mux := http.NewServeMux()
				mux.HandleFunc("/debug/pprof/", pprof.Index)
				mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
				mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
				mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
				mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
				servers = append(servers, newHTTPServer(pprofAddr, mux, timeouts))
			}
			// Listen before serving so that a busy port fails the command
			// at once and tests can wait for the log line.
			listeners := make([]net.Listener, len(servers))
			for i, srv := range servers {
				if listeners[i], err = net.Listen("tcp", srv.Addr); err != nil {
					for _, l := range listeners[:i] {
						_ = l.Close()
					}
					return err
				}
			}
			// The webhook worker delivers the outbox until the servers have
			// stopped; replicas share the work through the database.
			wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
			workerDone := make(chan struct{})
			go func() {
				defer close(workerDone)
				webhooks.NewWorker(webhooks.WorkerConfig{
					Store: s.Webhooks(), Client: webhooks.NewHTTPClient(allowPrivate), Logger: log, ConsoleURL: baseURL,
				}).Run(wctx)
			}()
			defer func() { stopWorker(); <-workerDone }()
			errc := make(chan error, len(servers))
			for i, srv := range servers {
				go func() { errc <- srv.Serve(listeners[i]) }()
			}
			log.Info("serving", "addr", listeners[0].Addr().String(), "database", repo.Dialect().String(),
				"metrics", metricsWhere(metricsAddr), "rate_limit", rateLimit, "rate_burst", rateBurst)
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			// Shutdown closes the listeners at once (new connections are
			// refused), closes idle connections and waits for requests in
			// flight to finish, up to the shutdown timeout.
			log.Info("shutting down: finishing in-flight requests")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			for _, srv := range servers {
				if err := srv.Shutdown(sctx); err != nil {
					return fmt.Errorf("shutdown: %w", err)
				}
			}
			for range servers {
				if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
					return err
				}
			}
			log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envOr("POLICYRESULTS_ADDR", "127.0.0.1:8080"), "listen address (env POLICYRESULTS_ADDR)")
	cmd.Flags().BoolVar(&noMigrate, "no-migrate", false, "do not apply pending migrations on start")
	cmd.Flags().BoolVar(&demo, "demo", false, "seed the demo organisation 'acme' when the database is empty and print a token")
	cmd.Flags().StringVar(&bodyLimit, "body-limit", envOr("POLICYRESULTS_BODY_LIMIT", "8M"), "largest request body, counted after decoding a gzip Content-Encoding (env POLICYRESULTS_BODY_LIMIT)")
	cmd.Flags().StringVar(&baseURL, "base-url", os.Getenv("POLICYRESULTS_BASE_URL"), "external URL of the server, for policy pack upload URIs (env POLICYRESULTS_BASE_URL)")
	cmd.Flags().DurationVar(&requestTimeout, "request-timeout", envDuration("POLICYRESULTS_REQUEST_TIMEOUT", 30*time.Second), "longest time a request may spend on the database (env POLICYRESULTS_REQUEST_TIMEOUT)")
	cmd.Flags().DurationVar(&shutdownTimeout, "shutdown-timeout", envDuration("POLICYRESULTS_SHUTDOWN_TIMEOUT", 30*time.Second), "longest wait for in-flight requests on SIGTERM (env POLICYRESULTS_SHUTDOWN_TIMEOUT)")
	cmd.Flags().DurationVar(&timeouts.readHeader, "read-header-timeout", envDuration("POLICYRESULTS_READ_HEADER_TIMEOUT", 10*time.Second), "longest time a client may take to send request headers (env POLICYRESULTS_READ_HEADER_TIMEOUT)")
	cmd.Flags().DurationVar(&timeouts.read, "read-timeout", envDuration("POLICYRESULTS_READ_TIMEOUT", 60*time.Second), "longest time a client may take to send a whole request (env POLICYRESULTS_READ_TIMEOUT)")
	cmd.Flags().DurationVar(&timeouts.write, "write-timeout", envDuration("POLICYRESULTS_WRITE_TIMEOUT", 10*time.Minute), "longest time to write a response, a full CSV export included (env POLICYRESULTS_WRITE_TIMEOUT)")
	cmd.Flags().DurationVar(&timeouts.idle, "idle-timeout", envDuration("POLICYRESULTS_IDLE_TIMEOUT", 120*time.Second), "longest time an idle keep-alive connection stays open (env POLICYRESULTS_IDLE_TIMEOUT)")
	cmd.Flags().Float64Var(&rateLimit, "rate-limit", envFloat("POLICYRESULTS_RATE_LIMIT", 50), "requests a second each API token may make; 0 disables the limit (env POLICYRESULTS_RATE_LIMIT)")
	cmd.Flags().IntVar(&rateBurst, "rate-burst", envInt("POLICYRESULTS_RATE_BURST", 100), "requests a token may make at once before the rate applies (env POLICYRESULTS_RATE_BURST)")
	cmd.Flags().IntVar(&acceptanceMax, "acceptance-max-days", envInt("POLICYRESULTS_ACCEPTANCE_MAX_DAYS", 365), "longest a risk acceptance may last, in days from when it is set (env POLICYRESULTS_ACCEPTANCE_MAX_DAYS)")
	cmd.Flags().DurationVar(&expiryInterval, "acceptance-expiry-interval", envDuration("POLICYRESULTS_ACCEPTANCE_EXPIRY_INTERVAL", 30*time.Second), "how often ended risk acceptances are looked for, at most 30s (env POLICYRESULTS_ACCEPTANCE_EXPIRY_INTERVAL)")
	cmd.Flags().StringVar(&pprofAddr, "pprof-addr", os.Getenv("POLICYRESULTS_PPROF_ADDR"),
		"HOST:PORT to serve Go's profiler (/debug/pprof/) on, for operators; empty serves none (env POLICYRESULTS_PPROF_ADDR)")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", os.Getenv("POLICYRESULTS_METRICS_ADDR"),
		"where to serve Prometheus metrics: empty serves /metrics on --addr without a token; HOST:PORT serves them only there; off serves none (env POLICYRESULTS_METRICS_ADDR)")
	cmd.Flags().StringVar(&webhookKey, "webhook-key", os.Getenv("POLICYRESULTS_WEBHOOK_KEY"),
		"key that encrypts webhook secrets in the database; empty keeps a generated key in the database (env POLICYRESULTS_WEBHOOK_KEY)")
	cmd.Flags().BoolVar(&allowPrivate, "webhook-allow-private", os.Getenv("POLICYRESULTS_WEBHOOK_ALLOW_PRIVATE") == "true",
		"let webhook deliveries reach loopback, private and link-local addresses, for tests and closed networks (env POLICYRESULTS_WEBHOOK_ALLOW_PRIVATE=true)")
	return cmd
}

// httpTimeouts bound how long a client may hold a connection.
type httpTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// newHTTPServer is the HTTP server of serve: its timeouts cut off clients
// that send slowly (slowloris), read slowly or idle.
func newHTTPServer(addr string, h http.Handler, t httpTimeouts) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    1 << 20,
	}
}

func metricsWhere(addr string) string {
	switch addr {
	case "":
		return "/metrics"
	case "off":
		return "off"
	}
	return addr + "/metrics"
}

func envDuration(name string, fallback time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return fallback
}

func envFloat(name string, fallback float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return f
	}
	return fallback
}

func envInt(name string, fallback int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return fallback
}
