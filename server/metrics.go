package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository"
)

// ingestOperations are the operations that apply an evaluation.
var ingestOperations = map[string]bool{
	"CreatePolicyEvaluation":             true,
	"UpdateStackPolicyResults":           true,
	"UpdateResourceVersionPolicyResults": true,
}

// metrics holds the server's Prometheus collectors, in a registry of its own
// so that several servers in one process (tests) don't collide. Labels carry
// operation ids and statuses only, never organisation names: /metrics may be
// public.
type metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	ingests       *prometheus.CounterVec
	ingestSeconds *prometheus.HistogramVec
	ingestIssues  *prometheus.CounterVec
	rateLimited   prometheus.Counter
}

func newMetrics(repo *repository.Repository) (*metrics, error) {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policyresults_http_requests_total",
			Help: "HTTP requests by operation id, method and status.",
		}, []string{"operation", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "policyresults_http_request_duration_seconds",
			Help:    "HTTP request latency by operation id and status class (2xx, 4xx, 5xx).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "policyresults_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		ingests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policyresults_ingest_total",
			Help: "Evaluations ingested, by operation id and status.",
		}, []string{"operation", "status"}),
		ingestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "policyresults_ingest_duration_seconds",
			Help:    "Time to ingest an evaluation, request to response, by operation id.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"operation"}),
		ingestIssues: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policyresults_ingest_issues_total",
			Help: "Issues changed by ingested evaluations of policyresults' own form, by change (opened, reopened, fixed).",
		}, []string{"change"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "policyresults_rate_limited_total",
			Help: "Requests refused with 429 by the per-token rate limit.",
		}),
	}
	sqlDB, err := repo.DB().DB()
	if err != nil {
		return nil, err
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.duration, m.inFlight, m.ingests, m.ingestSeconds, m.ingestIssues, m.rateLimited,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(sqlDB, repo.Dialect().String()),
		newIssuesCollector(repo),
	} {
		if err := m.registry.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe records one finished request.
func (m *metrics) observe(operation, method string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(operation, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(operation, strconv.Itoa(status/100)+"xx").Observe(elapsed.Seconds())
	if ingestOperations[operation] {
		m.ingests.WithLabelValues(operation, strconv.Itoa(status)).Inc()
		m.ingestSeconds.WithLabelValues(operation).Observe(elapsed.Seconds())
	}
}

// countIngest is a strict middleware that counts the issues each ingested
// evaluation opened, reopened and fixed.
func (m *metrics) countIngest(f api.StrictHandlerFunc, operationID string) api.StrictHandlerFunc {
	if operationID != "CreatePolicyEvaluation" {
		return f
	}
	return func(c echo.Context, request any) (any, error) {
		resp, err := f(c, request)
		if ok, isOK := resp.(api.CreatePolicyEvaluation200JSONResponse); isOK {
			m.ingestIssues.WithLabelValues("opened").Add(float64(ok.IssuesOpened))
			m.ingestIssues.WithLabelValues("reopened").Add(float64(ok.IssuesReopened))
			m.ingestIssues.WithLabelValues("fixed").Add(float64(ok.IssuesFixed))
		}
		return resp, err
	}
}

// handler serves the registry in Prometheus' formats. On the API, echo's
// gzip middleware compresses; promhttp must not compress a second time.
func (m *metrics) handler(compress bool) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry, DisableCompression: !compress})
}

// issuesCollector reports the number of issues by status, across all
// organisations, with one grouped count per scrape at most every
// issuesCacheFor (scrapes of several Prometheus servers share it).
type issuesCollector struct {
	repo *repository.Repository
	desc *prometheus.Desc

	mu     sync.Mutex
	at     time.Time
	counts map[string]float64
}

const issuesCacheFor = 10 * time.Second

var issueStatuses = []string{policy.StatusOpen, policy.StatusInProgress, policy.StatusByDesign, policy.StatusIgnored, policy.StatusFixed}

func newIssuesCollector(repo *repository.Repository) *issuesCollector {
	return &issuesCollector{repo: repo, desc: prometheus.NewDesc("policyresults_issues",
		"Policy issues by status, all organisations (counted at scrape time, cached 10s).", []string{"status"}, nil)}
}

func (c *issuesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *issuesCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil || time.Since(c.at) > issuesCacheFor {
		counts, err := c.count()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.desc, err)
			return
		}
		c.counts, c.at = counts, time.Now()
	}
	for _, s := range issueStatuses {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, c.counts[s], s)
	}
}

// count reads the issues' counts by status.
func (c *issuesCollector) count() (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.repo.IssueCountsByStatus(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(counts))
	for status, n := range counts {
		out[status] = float64(n)
	}
	return out, nil
}

// routeOperations maps echo routes ("POST /api/orgs/:orgName/...") to the
// spec's operations, so requests refused before their handler runs (401,
// 404 of an organisation, 400 of validation, 429) are still labelled with
// their operation, and the request body middleware knows which operations
// take a body.
func routeOperations(spec *openapi3.T) map[string]*openapi3.Operation {
	out := map[string]*openapi3.Operation{}
	for path, item := range spec.Paths.Map() {
		route := path
		for {
			i := strings.IndexByte(route, '{')
			if i < 0 {
				break
			}
			j := strings.IndexByte(route[i:], '}')
			if j < 0 {
				break
			}
			route = route[:i] + ":" + route[i+1:i+j] + route[i+j+1:]
		}
		for method, op := range item.Operations() {
			out[method+" "+route] = op
		}
	}
	return out
}

// routeOp is the spec's operation of a request's route, nil for routes
// outside the spec.
func (s *Server) routeOp(c echo.Context) *openapi3.Operation {
	return s.routeOps[c.Request().Method+" "+c.Path()]
}

// operationOf names the operation of a request for logs and metrics: its
// operation id as openapi.yaml writes it, else the route itself for routes
// outside the spec, else "unmatched".
func (s *Server) operationOf(c echo.Context) string {
	if op := s.routeOp(c); op != nil {
		return op.OperationID
	}
	if p := c.Path(); p != "" && p != "/*" {
		return p
	}
	return "unmatched"
}
