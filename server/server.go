// Package server serves the policyresults HTTP API: echo wiring, middleware
// (request ids, logging, auth, request validation against openapi.yaml, one
// error format) and the handlers of the generated strict server interface.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/labstack/gommon/bytes"
	echomiddleware "github.com/oapi-codegen/echo-middleware"

	"github.com/policyresults/policyresults"
	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/webhooks"
)

// RequestIDHeader carries the request id, as Pulumi Cloud names it.
const RequestIDHeader = "X-Pulumi-Request-ID"

// Config configures a Server.
type Config struct {
	Repo   *repository.Repository
	Logger *slog.Logger
	// BodyLimit bounds request bodies after decoding a gzip
	// Content-Encoding (echo size syntax, default "8M").
	BodyLimit string
	// ArchiveLimit bounds policy pack archives after decoding (bytes,
	// default 32 MiB).
	ArchiveLimit int64
	// RequestTimeout bounds a request's database work (default 30s).
	RequestTimeout time.Duration
	// BaseURL is the externally visible URL of the server, used in the
	// upload URIs of policy packs (default derived from the request).
	BaseURL string
	// RateLimit is the requests a second each API token may make (a token
	// bucket per token, refilled at this rate); beyond it requests answer
	// 429 with Retry-After. 0 disables the limit.
	RateLimit float64
	// RateBurst is the bucket size: requests a token may make at once
	// (default twice RateLimit).
	RateBurst int
	// Limits bound list lengths and string sizes of requests (zero fields
	// take DefaultLimits).
	Limits Limits
	// ServeMetrics serves Prometheus metrics at /metrics on the API, without
	// a token. Metrics are collected either way; MetricsHandler serves them
	// on another listener.
	ServeMetrics bool
	// Now is the clock presigned upload URLs expire by and risk acceptances
	// are checked against (default time.Now).
	Now func() time.Time
	// AcceptanceMaxDays bounds how far ahead a risk acceptance may end
	// (default 365).
	AcceptanceMaxDays int
	// WebhookKey encrypts webhook secrets (see webhooks.New).
	WebhookKey string
	// WebhookClient sends pings (default webhooks.NewHTTPClient(false),
	// which refuses internal addresses).
	WebhookClient *http.Client
}

// Server implements api.StrictServerInterface.
type Server struct {
	repo           *repository.Repository
	log            *slog.Logger
	spec           *openapi3.T
	specYAML       []byte
	specJSON       []byte
	bodyLimit      int64
	archiveLimit   int64
	requestTimeout time.Duration
	baseURL        string
	limits         Limits
	limiter        *rateLimiter
	metrics        *metrics
	routeOps       map[string]*openapi3.Operation
	now            func() time.Time
	hooks          *webhooks.Store
	hookClient     *http.Client
	// maxAcceptance bounds how far ahead a risk acceptance may end.
	maxAcceptance time.Duration
}

var _ api.StrictServerInterface = (*Server)(nil)

// New builds the server and its echo instance.
func New(cfg Config) (*Server, *echo.Echo, error) {
	if cfg.Repo == nil {
		return nil, nil, errors.New("server: no repository")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	spec, err := api.GetSwagger()
	if err != nil {
		return nil, nil, fmt.Errorf("load embedded spec: %w", err)
	}
	// The JSON document, the logs and the metrics name operations as
	// openapi.yaml writes them: the generated spec renames operation ids
	// such as ListPolicyPacks_orgs (ListPolicyPacksOrgs).
	doc, err := openapi3.NewLoader().LoadFromData(policyresults.OpenAPIYAML)
	if err != nil {
		return nil, nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	specJSON, err := doc.MarshalJSON()
	if err != nil {
		return nil, nil, err
	}
	// Validate requests whatever Host they arrive on.
	spec.Servers = nil
	s := &Server{
		repo:           cfg.Repo,
		log:            log,
		spec:           spec,
		specYAML:       policyresults.OpenAPIYAML,
		specJSON:       specJSON,
		archiveLimit:   cfg.ArchiveLimit,
		requestTimeout: cfg.RequestTimeout,
		baseURL:        strings.TrimSuffix(cfg.BaseURL, "/"),
		limits:         cfg.Limits.withDefaults(),
		limiter:        newRateLimiter(cfg.RateLimit, cfg.RateBurst),
		routeOps:       routeOperations(doc),
		now:            cfg.Now,
		hooks:          webhooks.New(cfg.Repo.DB(), cfg.Repo.Dialect().ConcurrentWrites(), cfg.WebhookKey),
		hookClient:     cfg.WebhookClient,
		maxAcceptance:  repository.DefaultMaxAcceptance,
	}
	if s.hookClient == nil {
		s.hookClient = webhooks.NewHTTPClient(false)
	}
	if cfg.AcceptanceMaxDays > 0 {
		s.maxAcceptance = time.Duration(cfg.AcceptanceMaxDays) * 24 * time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics, err = newMetrics(cfg.Repo); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	if s.archiveLimit <= 0 {
		s.archiveLimit = 32 << 20
	}
	if s.requestTimeout <= 0 {
		s.requestTimeout = 30 * time.Second
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "8M"
	}
	if s.bodyLimit, err = bytes.Parse(cfg.BodyLimit); err != nil || s.bodyLimit <= 0 {
		return nil, nil, fmt.Errorf("body limit %q: want a size such as 8M", cfg.BodyLimit)
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Pre(jsonBodies, clientRequestID)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: RequestIDHeader}))
	e.Use(s.requestLogger())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.ErrorContext(c.Request().Context(), "panic", "request_id", c.Response().Header().Get(RequestIDHeader), "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(s.requestBodies)
	gz, err := compress()
	if err != nil {
		return nil, nil, err
	}
	e.Use(gz)
	e.Use(s.timeout)
	e.Use(s.authenticate)
	e.Use(s.rateLimit)
	registerStrictJSON()
	unvalidated := func(c echo.Context) bool {
		return c.Path() == "" || c.Path() == "/metrics" || strings.HasPrefix(c.Path(), "/docs") || consoleRoutes[c.Path()]
	}
	isArchive := func(c echo.Context) bool { return c.Path() == archiveRoute }
	e.Use(requestValidator(spec, openapi3filter.Options{
		// The strict handlers bind the value the validator decoded
		// instead of decoding the body a second time (a complete
		// evaluation of 1,000 resources is a 200 KB body).
		KeepValidatedValue: true,
	}, func(c echo.Context) bool { return unvalidated(c) || isArchive(c) }))
	// The archive upload's parameters and security, without its body: the
	// body is binary and streamed, size-checked, by its handler.
	e.Use(requestValidator(spec, openapi3filter.Options{ExcludeRequestBody: true},
		func(c echo.Context) bool { return !isArchive(c) }))
	api.RegisterHandlers(e, api.NewStrictHandler(s, []api.StrictMiddlewareFunc{s.enforceLimits, s.metrics.countIngest}))
	registerDocs(e)
	registerConsole(e)
	if cfg.ServeMetrics {
		e.GET("/metrics", echo.WrapHandler(s.metrics.handler(false)))
	}
	return s, e, nil
}

// requestValidator checks requests against the spec with opts, except
// those skip picks, and answers 400 naming the field or parameter.
func requestValidator(spec *openapi3.T, opts openapi3filter.Options, skip func(echo.Context) bool) echo.MiddlewareFunc {
	opts.AuthenticationFunc = authorizeScheme
	return echomiddleware.OapiRequestValidatorWithOptions(spec, &echomiddleware.Options{
		SilenceServersWarning: true,
		Options:               opts,
		Skipper:               skip,
		ErrorHandler: func(c echo.Context, err *echo.HTTPError) error {
			if err.Code == http.StatusNotFound {
				return err
			}
			// A body that could not be read (too large, a corrupt gzip
			// stream) keeps the answer requestBodies gave it.
			var ae *apiError
			if errors.As(err.Internal, &ae) {
				return ae
			}
			msg := fmt.Sprint(err.Message)
			if err.Internal != nil {
				msg = validationMessage(err.Internal)
			}
			return &apiError{status: err.Code, message: msg}
		},
	})
}

// MetricsHandler serves the server's Prometheus metrics, for a listener of
// their own.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler(true) }

// jsonBodies treats every request body but a pack archive as JSON: curl -d
// sends application/x-www-form-urlencoded and some clients send no content
// type, while Pulumi's API only takes JSON.
func jsonBodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength != 0 && !strings.HasSuffix(req.URL.Path, "/archive") {
			ct := strings.ToLower(req.Header.Get(echo.HeaderContentType))
			if ct == "" || strings.HasPrefix(ct, echo.MIMEApplicationForm) || strings.HasPrefix(ct, echo.MIMETextPlain) {
				req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			}
		}
		return next(c)
	}
}

// clientRequestID keeps a request id the client sent only when it is a
// short token (up to 64 letters, digits, '-', '_', '.'), so that log lines
// can't be bloated or forged through it.
func clientRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(RequestIDHeader); id != "" && !validRequestID(id) {
			h.Del(RequestIDHeader)
		}
		return next(c)
	}
}

func validRequestID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// timeout bounds the database work of a request. The CSV export streams for
// as long as the result takes and is bounded by the HTTP write timeout.
func (s *Server) timeout(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.HasSuffix(c.Path(), "/issues/export") {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.requestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// requestLogger writes one structured line per request and records its
// metrics. It logs no header, query string or body: tokens never reach the
// log.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogLatency: true, LogRequestID: true, LogError: true,
		HandleError:    true,
		BeforeNextFunc: func(echo.Context) { s.metrics.inFlight.Inc() },
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.metrics.inFlight.Dec()
			op := s.operationOf(c)
			s.metrics.observe(op, v.Method, v.Status, v.Latency)
			attrs := []slog.Attr{
				slog.String("request_id", c.Response().Header().Get(RequestIDHeader)),
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Duration("duration", v.Latency),
				slog.String("operation", op),
			}
			if org, ok := c.Get("org").(string); ok {
				attrs = append(attrs, slog.String("org", org))
			}
			level := slog.LevelInfo
			switch {
			case v.Status == http.StatusServiceUnavailable:
				// The database is away or the client left: worth a warning,
				// not an alert per request.
				level = slog.LevelWarn
			case v.Status >= 500:
				level = slog.LevelError
			}
			s.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}
