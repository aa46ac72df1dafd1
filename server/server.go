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
	echomiddleware "github.com/oapi-codegen/echo-middleware"

	"github.com/policyresults/policyresults"
	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/repository"
)

// RequestIDHeader carries the request id, as Pulumi Cloud names it.
const RequestIDHeader = "X-Pulumi-Request-ID"

// Config configures a Server.
type Config struct {
	Repo   *repository.Repository
	Logger *slog.Logger
	// BodyLimit bounds request bodies (echo size syntax, default "8M").
	BodyLimit string
	// ArchiveLimit bounds policy pack archives (bytes, default 32 MiB).
	ArchiveLimit int64
	// RequestTimeout bounds a request's database work (default 30s).
	RequestTimeout time.Duration
	// BaseURL is the externally visible URL of the server, used in the
	// upload URIs of policy packs (default derived from the request).
	BaseURL string
}

// Server implements api.StrictServerInterface.
type Server struct {
	repo           *repository.Repository
	log            *slog.Logger
	spec           *openapi3.T
	specYAML       []byte
	specJSON       []byte
	archiveLimit   int64
	requestTimeout time.Duration
	baseURL        string
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
	specJSON, err := spec.MarshalJSON()
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
	}
	if s.archiveLimit <= 0 {
		s.archiveLimit = 32 << 20
	}
	if s.requestTimeout <= 0 {
		s.requestTimeout = 30 * time.Second
	}
	bodyLimit := cfg.BodyLimit
	if bodyLimit == "" {
		bodyLimit = "8M"
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Pre(jsonBodies)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: RequestIDHeader}))
	e.Use(s.requestLogger())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.ErrorContext(c.Request().Context(), "panic", "request_id", c.Response().Header().Get(RequestIDHeader), "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: bodyLimit,
		Skipper: func(c echo.Context) bool {
			return strings.HasSuffix(c.Path(), "/archive")
		},
	}))
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 1024}))
	e.Use(s.timeout)
	e.Use(s.authenticate)
	e.Use(echomiddleware.OapiRequestValidatorWithOptions(spec, &echomiddleware.Options{
		SilenceServersWarning: true,
		Options: openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			ExcludeRequestBody: false,
		},
		Skipper: func(c echo.Context) bool {
			// The archive upload is binary and size-checked by its handler.
			return c.Path() == "" || c.Path() == "/metrics" || strings.HasPrefix(c.Path(), "/docs") || strings.HasSuffix(c.Path(), "/archive")
		},
		ErrorHandler: func(c echo.Context, err *echo.HTTPError) error {
			if err.Code == http.StatusNotFound {
				return err
			}
			msg := fmt.Sprint(err.Message)
			if err.Internal != nil {
				msg = validationMessage(err.Internal)
			}
			return &apiError{status: err.Code, message: msg}
		},
	}))
	api.RegisterHandlers(e, api.NewStrictHandler(s, []api.StrictMiddlewareFunc{operationName}))
	registerDocs(e)
	return s, e, nil
}

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

// operationName records the operation id for logs and metrics.
func operationName(f api.StrictHandlerFunc, operationID string) api.StrictHandlerFunc {
	return func(c echo.Context, request any) (any, error) {
		c.Set("operation", operationID)
		return f(c, request)
	}
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

// requestLogger writes one structured line per request.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogLatency: true, LogRequestID: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []slog.Attr{
				slog.String("request_id", v.RequestID),
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Duration("duration", v.Latency),
			}
			if op, ok := c.Get("operation").(string); ok {
				attrs = append(attrs, slog.String("operation", op))
			}
			if org, ok := c.Get("org").(string); ok {
				attrs = append(attrs, slog.String("org", org))
			}
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			s.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}
