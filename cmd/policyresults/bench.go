package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository"
)

// The load generator. It runs a fixed request mix (benchKinds, with their
// weights) against a running server from N concurrent clients for a set
// time, then, for the grid and facet kinds, runs the naive SQL of the same
// requests directly against the database (repository.NaiveIssuePage,
// NaiveIssueFacets), then exports every issue once. BENCHMARKS.md documents
// the mix and records the figures.

// benchOptions are the bench command's flags.
type benchOptions struct {
	url, org, token string
	databaseURL     string
	clients         int
	duration        time.Duration
	warmup          time.Duration
	serverPID       int
	naiveSamples    int
	export          bool
	seed            uint64
	jsonOut         string
	kinds           string
	verbose         bool
	viewSamples     int
}

// benchKind is one kind of request of the mix.
type benchKind struct {
	name   string
	weight int
	// naive marks the grid and facet kinds, measured against the naive SQL.
	naive bool
}

// benchKinds is the request mix: a kind is picked at random with these
// weights for every request.
var benchKinds = []benchKind{
	{"grid.default", 10, true},      // POST /issues, no filter, default order, one of the first five pages
	{"grid.filter", 20, true},       // a common filter (status, severity, priority, kind, level, pack, policy, entity, group, assignee), default order
	{"grid.sort", 10, true},         // a common filter or none, sorted by observedAt, severity or priority
	{"grid.deep", 3, true},          // default order at startRow 100,000 (the middle of smaller data sets)
	{"grid.deep.filtered", 0, true}, // a broad filter's page at startRow 100,000 (an eighth of smaller data sets); only with --kinds
	{"grid.contains", 4, true},      // contains on resourceName, resourceURN or message
	{"facets", 8, true},             // POST /issues/filters on a low-cardinality field, with a filter
	{"compliance", 3, false},        // POST /compliance, stacks, size 1000
	{"policies", 3, false},          // POST /policies, a page of 100
	{"metadata", 3, false},          // GET /metadata
	{"patch", 4, false},             // PATCH /issues/{id}: status, priority or assignee of an active issue
	{"evaluation", 2, false},        // POST /evaluations: a 1,000-resource stack with 50 violations, 5 of them moving
}

func newBenchCommand(g *globalFlags) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench --url URL --org ORG --token TOKEN [--clients 4] [--duration 60s] [--database-url URL] [--server-pid PID]",
		Short: "Run the benchmark request mix against a running server",
		Long: "Run a fixed request mix (grid pages with filters and sorts, a deep page, contains, facets, the compliance\n" +
			"matrix, per-policy compliance, metadata, triage and complete evaluations) from --clients concurrent clients\n" +
			"for --duration, and print per request kind the count, p50, p95, p99 and errors, and the server's RSS\n" +
			"and CPU time (--server-pid). With --database-url, the grid and facet requests are also run as naive SQL (WHERE +\n" +
			"ORDER BY + OFFSET + COUNT(*) on policy_issues) against the database, and the ratio is printed. Then\n" +
			"every issue is exported once (rows/s and RSS growth). See BENCHMARKS.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.databaseURL = g.databaseURL
			return runBench(cmd.Context(), g, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", envOr("POLICYRESULTS_URL", "http://127.0.0.1:8080"), "server URL (env POLICYRESULTS_URL)")
	f.StringVar(&o.org, "org", "acme", "organisation")
	f.StringVar(&o.token, "token", os.Getenv("POLICYRESULTS_TOKEN"), "token of a member of the organisation (env POLICYRESULTS_TOKEN)")
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

// benchRequest is one request of the mix, ready to send.
type benchRequest struct {
	kind string
	// body is the JSON body of grid and facet requests (their naive SQL
	// reads it too).
	body  []byte
	field string // facets: the field
	view  string // grid.filter: the name of the everyday filter (gridViews)
	do    func(ctx context.Context) error
}

// kindStats are the timings of one kind.
type kindStats struct {
	mu      sync.Mutex
	times   []time.Duration
	errors  int
	naive   []time.Duration
	naiveE  int
	lastErr string
	// slowest are the slowest requests with a body.
	slowest []slowSample
	// views are grid.filter's timings per everyday filter.
	views map[string]*viewStats
}

// viewStats are the timings of one everyday filter of grid.filter: the
// server's during the mix, the naive SQL's after it.
type viewStats struct {
	times, naive []time.Duration
}

func (s *kindStats) view(name string) *viewStats {
	if s.views == nil {
		s.views = map[string]*viewStats{}
	}
	v := s.views[name]
	if v == nil {
		v = &viewStats{}
		s.views[name] = v
	}
	return v
}

type slowSample struct {
	d    time.Duration
	body string
}

func (s *kindStats) add(d time.Duration, req benchRequest, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errors++
		s.lastErr = err.Error()
		return
	}
	s.times = append(s.times, d)
	if req.view != "" {
		v := s.view(req.view)
		v.times = append(v.times, d)
	}
	if len(req.body) > 0 {
		s.slowest = append(s.slowest, slowSample{d, string(req.body)})
		slices.SortFunc(s.slowest, func(a, b slowSample) int { return cmp.Compare(b.d, a.d) })
		if len(s.slowest) > 3 {
			s.slowest = s.slowest[:3]
		}
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(len(s)-1, i))]
}

// benchResult is the JSON form of a run.
type benchResult struct {
	Clients  int                   `json:"clients"`
	Duration string                `json:"duration"`
	Kinds    map[string]kindResult `json:"kinds"`
	RSS      rssResult             `json:"rss"`
	// ServerCPU is the server's CPU time (user and system) during the mix.
	ServerCPU *cpuResult    `json:"server_cpu,omitempty"`
	Export    *exportResult `json:"export,omitempty"`
}

type kindResult struct {
	Count    int     `json:"count"`
	Errors   int     `json:"errors"`
	P50      float64 `json:"p50_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
	NaiveN   int     `json:"naive_count,omitempty"`
	NaiveP50 float64 `json:"naive_p50_ms,omitempty"`
	NaiveP99 float64 `json:"naive_p99_ms,omitempty"`
	Ratio    float64 `json:"ratio_p50,omitempty"`
	// Views are grid.filter's figures per everyday filter (--view-samples).
	Views map[string]viewResult `json:"views,omitempty"`
}

// viewResult is one everyday filter's figures: the server's during the
// mix and the naive SQL's.
type viewResult struct {
	Count    int     `json:"count"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	NaiveN   int     `json:"naive_count"`
	NaiveP50 float64 `json:"naive_p50_ms"`
	Ratio    float64 `json:"ratio_p50"`
}

// cpuResult is the server's CPU time during the mix, in all and per
// request answered: the server's own cost, which latencies mix with the
// time requests wait for the cores they share with the database.
type cpuResult struct {
	Seconds      float64 `json:"seconds"`
	Cores        float64 `json:"cores"`
	PerRequestMS float64 `json:"per_request_ms"`
}

type rssResult struct {
	StartMB float64 `json:"start_mb"`
	MaxMB   float64 `json:"max_mb"`
	EndMB   float64 `json:"end_mb"`
}

type exportResult struct {
	Rows       int64   `json:"rows"`
	Seconds    float64 `json:"seconds"`
	RowsPerSec float64 `json:"rows_per_s"`
	RSSBefore  float64 `json:"rss_before_mb"`
	RSSMax     float64 `json:"rss_max_mb"`
	RSSGrowth  float64 `json:"rss_growth_mb"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rssMB reads a process's resident set size in MB; 0 when unknown.
func rssMB(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// clockTicks is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// Linux).
const clockTicks = 100

// cpuSeconds reads a process's user and system CPU time from
// /proc/PID/stat; false when unknown.
func cpuSeconds(pid int) (float64, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	return parseCPUSeconds(string(b))
}

// parseCPUSeconds reads utime and stime (fields 14 and 15) of a
// /proc/PID/stat line. The command name (field 2) is in parentheses and
// may hold spaces and parentheses itself, so fields are counted after its
// last ')'.
func parseCPUSeconds(stat string) (float64, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	// After the name: field 3 (state) onwards, so utime is the 12th.
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return float64(utime+stime) / clockTicks, true
}

// rssWatch samples a process's RSS until stopped and keeps the maximum.
type rssWatch struct {
	max  atomic.Uint64 // float64 bits
	stop chan struct{}
	done chan struct{}
}

func watchRSS(pid int, every time.Duration) *rssWatch {
	w := &rssWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if v := rssMB(pid); v > w.Max() {
				w.max.Store(uint64(v * 1000))
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *rssWatch) Max() float64 { return float64(w.max.Load()) / 1000 }

func (w *rssWatch) Stop() float64 {
	close(w.stop)
	<-w.done
	return w.Max()
}

// benchEnv is what the requests need: the client and values sampled from
// the organisation's data.
type benchEnv struct {
	c     *client.ClientWithResponses
	raw   *client.Client
	org   string
	packs []string
	pols  []string
	projs []string
	// stackPairs are (project, stack) pairs of stacks with issues.
	stackPairs [][2]string
	groups     []string
	users      []string
	words      []string
	issues     []string
	total      int
	runID      int64
	evalSeq    atomic.Int64
	stackV     sync.Map // stack name → *atomic.Int64 version
}

func runBench(ctx context.Context, g *globalFlags, o *benchOptions, out, progress io.Writer) error {
	if o.token == "" {
		return errors.New("give --token (or POLICYRESULTS_TOKEN): a token of a member of the organisation")
	}
	httpClient := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{
		MaxIdleConns: o.clients * 2, MaxIdleConnsPerHost: o.clients * 2, IdleConnTimeout: time.Minute,
	}}
	auth := client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "token "+o.token)
		return nil
	})
	base := strings.TrimSuffix(o.url, "/")
	c, err := client.NewClientWithResponses(base, client.WithHTTPClient(httpClient), auth)
	if err != nil {
		return err
	}
	raw, err := client.NewClient(base, client.WithHTTPClient(httpClient), auth)
	if err != nil {
		return err
	}
	env := &benchEnv{c: c, raw: raw, org: o.org, runID: time.Now().Unix()}
	fmt.Fprintln(progress, "bench: sampling the organisation's data")
	if err := env.sample(ctx); err != nil {
		return fmt.Errorf("sample data: %w", err)
	}
	// Kinds of weight 0 are left out of the mix and run only when named.
	kinds := slices.DeleteFunc(slices.Clone(benchKinds), func(k benchKind) bool { return k.weight == 0 })
	if o.kinds != "" {
		want := map[string]bool{}
		for _, k := range strings.Split(o.kinds, ",") {
			want[strings.TrimSpace(k)] = true
		}
		kinds = slices.DeleteFunc(slices.Clone(benchKinds), func(k benchKind) bool { return !want[k.name] })
		if len(kinds) == 0 {
			return fmt.Errorf("--kinds %q names no request kind", o.kinds)
		}
		for i := range kinds {
			kinds[i].weight = max(1, kinds[i].weight)
		}
	}
	stats := map[string]*kindStats{}
	for _, k := range kinds {
		stats[k.name] = &kindStats{}
	}
	totalWeight := 0
	for _, k := range kinds {
		totalWeight += k.weight
	}
	pick := func(rng *rand.Rand) string {
		x := rng.IntN(totalWeight)
		for _, k := range kinds {
			if x < k.weight {
				return k.name
			}
			x -= k.weight
		}
		return kinds[0].name
	}

	// Each client creates its evaluation stack first (1,000 new resources),
	// so the measured evaluations are re-evaluations.
	if slices.ContainsFunc(kinds, func(k benchKind) bool { return k.name == "evaluation" }) {
		for i := 0; i < o.clients; i++ {
			if err := env.evaluation(ctx, i, rand.New(rand.NewPCG(o.seed, uint64(i)))); err != nil {
				return fmt.Errorf("first evaluation: %w", err)
			}
		}
	}
	run := func(d time.Duration, measure bool) {
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		for i := 0; i < o.clients; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(o.seed, uint64(1000+i)))
				if measure {
					rng = rand.New(rand.NewPCG(o.seed+1, uint64(2000+i)))
				}
				for time.Now().Before(deadline) && ctx.Err() == nil {
					req := env.request(pick(rng), i, rng)
					start := time.Now()
					err := req.do(ctx)
					if measure {
						stats[req.kind].add(time.Since(start), req, err)
					}
				}
			}(i)
		}
		wg.Wait()
	}
	if o.warmup > 0 {
		fmt.Fprintf(progress, "bench: warming up for %s\n", o.warmup)
		run(o.warmup, false)
	}
	res := benchResult{Clients: o.clients, Duration: o.duration.String(), Kinds: map[string]kindResult{}}
	res.RSS.StartMB = rssMB(o.serverPID)
	fmt.Fprintf(progress, "bench: %d clients for %s\n", o.clients, o.duration)
	w := watchRSS(o.serverPID, 100*time.Millisecond)
	cpuStart, cpuKnown := cpuSeconds(o.serverPID)
	mixStart := time.Now()
	run(o.duration, true)
	elapsed := time.Since(mixStart)
	cpuEnd, cpuKnownEnd := cpuSeconds(o.serverPID)
	res.RSS.MaxMB = w.Stop()
	res.RSS.EndMB = rssMB(o.serverPID)
	if cpuKnown && cpuKnownEnd {
		answered := 0
		for _, s := range stats {
			answered += len(s.times)
		}
		c := &cpuResult{Seconds: cpuEnd - cpuStart, Cores: (cpuEnd - cpuStart) / elapsed.Seconds()}
		if answered > 0 {
			c.PerRequestMS = c.Seconds * 1000 / float64(answered)
		}
		res.ServerCPU = c
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	if o.databaseURL != "" && o.naiveSamples > 0 {
		fmt.Fprintln(progress, "bench: naive SQL of the grid and facet requests")
		if err := runNaive(ctx, g, o, env, kinds, stats); err != nil {
			return fmt.Errorf("naive SQL: %w", err)
		}
	}
	if o.export {
		fmt.Fprintln(progress, "bench: exporting every issue")
		ex, err := env.exportAll(ctx, o.serverPID)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		res.Export = ex
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "kind\tcount\tp50 ms\tp95 ms\tp99 ms\terrors\tnaive p50 ms\tnaive p99 ms\tnaive/p50\t\n")
	for _, k := range kinds {
		s := stats[k.name]
		kr := kindResult{Count: len(s.times), Errors: s.errors, P50: ms(percentile(s.times, .50)),
			P95: ms(percentile(s.times, .95)), P99: ms(percentile(s.times, .99))}
		naive := "\t\t\t"
		if len(s.naive) > 0 {
			kr.NaiveN, kr.NaiveP50, kr.NaiveP99 = len(s.naive), ms(percentile(s.naive, .50)), ms(percentile(s.naive, .99))
			if kr.P50 > 0 {
				kr.Ratio = kr.NaiveP50 / kr.P50
			}
			naive = fmt.Sprintf("%.1f\t%.1f\t%.1f×\t", kr.NaiveP50, kr.NaiveP99, kr.Ratio)
		}
		kr.Views = viewResults(s)
		res.Kinds[k.name] = kr
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%d\t%s\n", k.name, kr.Count, kr.P50, kr.P95, kr.P99, kr.Errors, naive)
	}
	tw.Flush()
	if views := res.Kinds["grid.filter"].Views; views != nil {
		printViews(out, views)
	}
	for _, k := range kinds {
		if s := stats[k.name]; s.errors > 0 || s.naiveE > 0 {
			fmt.Fprintf(out, "%s: %d errors (%d naive), last: %s\n", k.name, s.errors, s.naiveE, s.lastErr)
		}
	}
	if o.verbose {
		for _, k := range kinds {
			for _, r := range stats[k.name].slowest {
				fmt.Fprintf(out, "slowest %s %.1f ms: %s\n", k.name, ms(r.d), r.body)
			}
		}
	}
	if o.serverPID > 0 {
		fmt.Fprintf(out, "server RSS: %.1f MB at start, %.1f MB max during the mix, %.1f MB at the end\n",
			res.RSS.StartMB, res.RSS.MaxMB, res.RSS.EndMB)
	}
	if c := res.ServerCPU; c != nil {
		fmt.Fprintf(out, "server CPU: %.1f s during the mix (%.2f cores), %.2f ms per request answered\n",
			c.Seconds, c.Cores, c.PerRequestMS)
	}
	if ex := res.Export; ex != nil {
		fmt.Fprintf(out, "export: %d rows in %.2fs (%.0f rows/s)", ex.Rows, ex.Seconds, ex.RowsPerSec)
		if o.serverPID > 0 {
			fmt.Fprintf(out, ", server RSS %.1f MB before, %.1f MB max (growth %.1f MB)", ex.RSSBefore, ex.RSSMax, ex.RSSGrowth)
		}
		fmt.Fprintln(out)
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	failed := 0
	for _, s := range stats {
		failed += s.errors + s.naiveE
	}
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}

// viewResults are a kind's figures per view, when its views have naive
// runs (--view-samples).
func viewResults(s *kindStats) map[string]viewResult {
	out := map[string]viewResult{}
	for name, v := range s.views {
		if len(v.naive) == 0 {
			continue
		}
		r := viewResult{Count: len(v.times), P50: ms(percentile(v.times, .50)), P99: ms(percentile(v.times, .99)),
			NaiveN: len(v.naive), NaiveP50: ms(percentile(v.naive, .50))}
		if r.P50 > 0 {
			r.Ratio = r.NaiveP50 / r.P50
		}
		out[name] = r
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// printViews prints grid.filter's table per everyday filter, with the
// geometric mean of the ratios of the views the mix sent.
func printViews(out io.Writer, views map[string]viewResult) {
	fmt.Fprintln(out, "grid.filter by view (the server's times are the mix's; the naive ones ran after it):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "view\tcount\tp50 ms\tp99 ms\tnaive runs\tnaive p50 ms\tnaive/p50\t\n")
	logSum, n := 0.0, 0
	for _, name := range gridViews {
		r, ok := views[name]
		if !ok {
			continue
		}
		ratio := "\t"
		if r.Count > 0 && r.Ratio > 0 {
			ratio = fmt.Sprintf("%.1f×\t", r.Ratio)
			logSum += math.Log(r.Ratio)
			n++
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%d\t%.1f\t%s\n", name, r.Count, r.P50, r.P99, r.NaiveN, r.NaiveP50, ratio)
	}
	tw.Flush()
	if n > 0 {
		fmt.Fprintf(out, "grid.filter: geometric mean of the views' ratios %.1f× over %d views\n", math.Exp(logSum/float64(n)), n)
	}
}

// runNaive runs, for each grid and facet kind, naive-samples requests of the
// mix as naive SQL from the same number of clients.
func runNaive(ctx context.Context, g *globalFlags, o *benchOptions, env *benchEnv, kinds []benchKind, stats map[string]*kindStats) error {
	repo, err := repository.Open(ctx, o.databaseURL, repository.Options{Logger: g.logger(), MaxOpenConns: o.clients})
	if err != nil {
		return err
	}
	defer repo.Close()
	org, err := repo.OrganizationByName(ctx, o.org)
	if err != nil {
		return err
	}
	for _, k := range kinds {
		if !k.naive {
			continue
		}
		s := stats[k.name]
		rng := rand.New(rand.NewPCG(o.seed+2, uint64(len(k.name))))
		// A request with a view counts in its view's figures only, so the
		// kind's figures stay those of the mix's random draw.
		reqs := make(chan benchRequest)
		var wg sync.WaitGroup
		for i := 0; i < o.clients; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for req := range reqs {
					start := time.Now()
					err := naiveRun(ctx, repo, org.ID, req)
					s.mu.Lock()
					switch {
					case err != nil:
						s.naiveE++
						s.lastErr = "naive: " + err.Error()
					case req.view != "":
						v := s.view(req.view)
						v.naive = append(v.naive, time.Since(start))
					default:
						s.naive = append(s.naive, time.Since(start))
					}
					s.mu.Unlock()
				}
			}()
		}
		for n := 0; n < o.naiveSamples; n++ {
			req := env.request(k.name, 0, rng)
			req.view = ""
			reqs <- req
		}
		if k.name == "grid.filter" {
			for i := range gridViews {
				for n := 0; n < o.viewSamples; n++ {
					req := benchRequest{kind: k.name}
					var filter string
					req.view, filter = env.view(i, rng)
					req.body = []byte(filterPage(filter))
					reqs <- req
				}
			}
		}
		close(reqs)
		wg.Wait()
	}
	return nil
}

// naiveRun runs one grid or facet request as naive SQL.
func naiveRun(ctx context.Context, repo *repository.Repository, orgID int64, req benchRequest) error {
	if req.kind == "facets" {
		var body struct {
			Field       string          `json:"field"`
			FilterModel json.RawMessage `json:"filterModel"`
		}
		if err := json.Unmarshal(req.body, &body); err != nil {
			return err
		}
		_, err := repo.NaiveIssueFacets(ctx, orgID, body.Field, body.FilterModel)
		return err
	}
	r, err := grid.DecodeRequest(req.body)
	if err != nil {
		return err
	}
	q, err := grid.Parse(r, repository.IssueColumns, repository.IssueGridOptions)
	if err != nil {
		return err
	}
	_, _, err = repo.NaiveIssuePage(ctx, orgID, q)
	return err
}

// checkStatus reads a response to the end and fails unless it is a 2xx.
func checkStatus(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s %s: %d %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, b)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// sample reads values to build requests from: facet values, issue ids and
// the number of issues.
func (e *benchEnv) sample(ctx context.Context) error {
	facet := func(field string, n int) ([]string, error) {
		resp, err := e.c.GetPolicyIssuesFiltersWithBodyWithResponse(ctx, e.org, "application/json",
			strings.NewReader(`{"field":"`+field+`"}`))
		if err != nil {
			return nil, err
		}
		if resp.JSON200 == nil {
			return nil, fmt.Errorf("facets %s: %d %s", field, resp.StatusCode(), resp.Body)
		}
		var out []string
		for _, v := range resp.JSON200.Values {
			if v.Name != "" && len(out) < n {
				out = append(out, v.Name)
			}
		}
		return out, nil
	}
	var err error
	for _, f := range []struct {
		field string
		dst   *[]string
		n     int
	}{{"policyPack", &e.packs, 10}, {"policyName", &e.pols, 40}, {"entityProject", &e.projs, 200},
		{"policyGroupName", &e.groups, 10}, {"assignedTo", &e.users, 10}} {
		if *f.dst, err = facet(f.field, f.n); err != nil {
			return err
		}
	}
	page := func(body string) (*client.ListPolicyIssuesResponse, error) {
		resp, err := e.c.ListPolicyIssuesWithBodyWithResponse(ctx, e.org, "application/json", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		if resp.JSON200 == nil {
			return nil, fmt.Errorf("issues: %d %s", resp.StatusCode(), resp.Body)
		}
		return resp.JSON200, nil
	}
	first, err := page(`{"startRow":0,"endRow":1}`)
	if err != nil {
		return err
	}
	if first.RowCount != nil {
		e.total = *first.RowCount
	}
	active, err := page(`{"startRow":0,"endRow":1,"filterModel":{"status":{"filterType":"set","values":["open","in_progress"]}}}`)
	if err != nil {
		return err
	}
	n := 0
	if active.RowCount != nil {
		n = *active.RowCount
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := map[string]bool{}
	for i := 0; i < 10 && n > 0; i++ {
		start := rng.IntN(max(1, n-1000))
		p, err := page(fmt.Sprintf(`{"startRow":%d,"endRow":%d,"filterModel":{"status":{"filterType":"set","values":["open","in_progress"]}}}`, start, start+200))
		if err != nil {
			return err
		}
		for _, is := range p.PolicyIssues {
			e.issues = append(e.issues, is.Id.String())
			if is.EntityType == "stack" && len(e.stackPairs) < 200 {
				e.stackPairs = append(e.stackPairs, [2]string{is.EntityProject, is.EntityId})
			}
			// Needles for contains: pieces of names and messages.
			if len(words) < 200 {
				msg := ""
				if is.Message != nil {
					msg = *is.Message
				}
				for _, w := range strings.FieldsFunc(is.ResourceName+" "+msg, func(r rune) bool { return r == ' ' || r == ':' || r == '.' }) {
					if len(w) >= 5 {
						words[strings.ToLower(w)] = true
					}
				}
			}
		}
	}
	for w := range words {
		e.words = append(e.words, w)
	}
	slices.Sort(e.words)
	if len(e.issues) == 0 {
		return errors.New("the organisation has no active issues; load data first (policyresults demo)")
	}
	if len(e.words) == 0 {
		e.words = []string{"bucket"}
	}
	return nil
}

func oneOf[T any](rng *rand.Rand, xs []T, fallback T) T {
	if len(xs) == 0 {
		return fallback
	}
	return xs[rng.IntN(len(xs))]
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// gridViews names the everyday filters of benchEnv.view, in its order; the
// per-view table of grid.filter (--view-samples) uses these names.
var gridViews = []string{
	"active", "open critical/high", "a policy pack", "a policy", "an assignee", "active accounts",
	"audit and mandatory", "a group, active", "open p0/p1", "a project", "one stack",
	"ignored or by design", "in-progress low",
}

// commonFilter is a filter model of the grid's everyday views, in the
// shapes clients send (column filter model, Pulumi's join, AG Grid's
// advanced join).
func (e *benchEnv) commonFilter(rng *rand.Rand) string {
	_, body := e.view(rng.IntN(len(gridViews)), rng)
	return body
}

// view is the filter model of gridViews[i], with values drawn from the
// organisation's data.
func (e *benchEnv) view(i int, rng *rand.Rand) (name, filter string) {
	textEq := func(col, v string) string {
		return `{"filterType":"text","colId":"` + col + `","type":"equals","filter":` + jsonString(v) + `}`
	}
	name = gridViews[i]
	switch i {
	case 0:
		return name, `{"status":{"filterType":"set","values":["open","in_progress"]}}`
	case 1:
		return name, `{"type":"AND","conditions":[{"filterType":"set","colId":"status","values":["open"]},{"filterType":"set","colId":"severity","values":["critical","high"]}]}`
	case 2:
		return name, `{"policyPack":{"filterType":"text","type":"equals","filter":` + jsonString(oneOf(rng, e.packs, "x")) + `}}`
	case 3:
		return name, textEq("policyName", oneOf(rng, e.pols, "x"))
	case 4:
		return name, `{"assignedTo":{"filterType":"text","type":"equals","filter":` + jsonString(oneOf(rng, e.users, "alice")) + `}}`
	case 5:
		return name, `{"filterType":"join","type":"AND","conditions":[` + textEq("entityType", "insights-account") +
			`,{"filterType":"set","colId":"status","values":["open","in_progress"]}]}`
	case 6:
		return name, `{"kind":{"filterType":"text","type":"equals","filter":"audit"},"level":{"filterType":"text","type":"equals","filter":"mandatory"}}`
	case 7:
		return name, `{"type":"AND","conditions":[` + textEq("policyGroupName", oneOf(rng, e.groups, "x")) +
			`,{"filterType":"set","colId":"status","values":["open","in_progress"]}]}`
	case 8:
		return name, `{"priority":{"filterType":"set","values":["p0","p1"]},"status":{"filterType":"set","values":["open"]}}`
	case 9:
		return name, `{"entityProject":{"filterType":"text","type":"equals","filter":` + jsonString(oneOf(rng, e.projs, "x")) + `}}`
	case 10:
		st := oneOf(rng, e.stackPairs, [2]string{"x", "x"})
		return name, `{"type":"AND","conditions":[` + textEq("entityProject", st[0]) + `,` + textEq("entityId", st[1]) + `]}`
	case 11:
		return name, `{"status":{"filterType":"set","values":["ignored","by_design"]}}`
	}
	return name, `{"severity":{"filterType":"set","values":["low"]},"status":{"filterType":"set","values":["in_progress"]}}`
}

// filterPage is grid.filter's request body: the first page of a view in
// the default order.
func filterPage(filter string) string {
	return `{"startRow":0,"endRow":100,"filterModel":` + filter + `}`
}

// request builds one request of a kind.
func (e *benchEnv) request(kind string, clientID int, rng *rand.Rand) benchRequest {
	req := benchRequest{kind: kind}
	grid := func(body string) {
		req.body = []byte(body)
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.ListPolicyIssuesWithBody(ctx, e.org, "application/json", bytes.NewReader(req.body)))
		}
	}
	switch kind {
	case "grid.default":
		start := 100 * rng.IntN(5)
		grid(fmt.Sprintf(`{"startRow":%d,"endRow":%d}`, start, start+100))
	case "grid.filter":
		var filter string
		req.view, filter = e.view(rng.IntN(len(gridViews)), rng)
		grid(filterPage(filter))
	case "grid.sort":
		sorts := []string{`[{"colId":"observedAt","sort":"desc"}]`, `[{"colId":"severity","sort":"desc"}]`, `[{"colId":"priority","sort":"asc"}]`}
		filter := "null"
		if rng.IntN(3) > 0 {
			filter = e.commonFilter(rng)
		}
		grid(`{"startRow":0,"endRow":100,"filterModel":` + filter + `,"sortModel":` + oneOf(rng, sorts, "null") + `}`)
	case "grid.deep":
		start := 100000
		if e.total < 200000 {
			start = e.total / 2
		}
		grid(fmt.Sprintf(`{"startRow":%d,"endRow":%d}`, start, start+100))
	case "grid.deep.filtered":
		// The CLI pages a filter by startRow too. Each filter selects a
		// quarter to three quarters of the demo's issues (a pack: 4% to
		// 52%) in the default or observedAt order.
		start := 100000
		if e.total < 800000 {
			start = e.total / 8
		}
		filter := oneOf(rng, []string{
			`{"status":{"filterType":"set","values":["open","in_progress"]}}`,
			`{"type":"AND","conditions":[{"filterType":"set","colId":"status","values":["open"]},{"filterType":"set","colId":"severity","values":["critical","high"]}]}`,
			`{"policyPack":{"filterType":"text","type":"equals","filter":` + jsonString(oneOf(rng, e.packs, "x")) + `}}`,
			`{"priority":{"filterType":"set","values":["p0","p1"]},"status":{"filterType":"set","values":["open"]}}`,
		}, "null")
		sort := oneOf(rng, []string{`null`, `[{"colId":"observedAt","sort":"desc"}]`}, "null")
		grid(fmt.Sprintf(`{"startRow":%d,"endRow":%d,"filterModel":%s,"sortModel":%s}`, start, start+100, filter, sort))
	case "grid.contains":
		col := oneOf(rng, []string{"resourceName", "resourceURN", "message"}, "message")
		grid(`{"startRow":0,"endRow":100,"filterModel":{"` + col + `":{"filterType":"text","type":"contains","filter":` +
			jsonString(oneOf(rng, e.words, "bucket")) + `}}}`)
	case "facets":
		field := oneOf(rng, []string{"status", "severity", "policyPack", "policyName", "kind", "level", "priority", "policyGroupName", "entityType"}, "status")
		req.field = field
		req.body = []byte(`{"field":"` + field + `","filterModel":` + e.commonFilter(rng) + `}`)
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.GetPolicyIssuesFiltersWithBody(ctx, e.org, "application/json", bytes.NewReader(req.body)))
		}
	case "compliance":
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.GetPolicyComplianceResultsWithBody(ctx, e.org, "application/json",
				strings.NewReader(`{"entity":"stack","size":1000}`)))
		}
	case "policies":
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.ListPoliciesComplianceWithBody(ctx, e.org, "application/json",
				strings.NewReader(`{"startRow":0,"endRow":100}`)))
		}
	case "metadata":
		req.do = func(ctx context.Context) error { return checkStatus(e.raw.GetPolicyResultsMetadata(ctx, e.org)) }
	case "patch":
		id := oneOf(rng, e.issues, "")
		var body string
		switch rng.IntN(3) {
		case 0:
			body = `{"status":` + jsonString(oneOf(rng, []string{"open", "in_progress"}, "open")) + `}`
		case 1:
			body = `{"priority":` + jsonString(oneOf(rng, []string{"p1", "p2", "p3"}, "p2")) + `}`
		default:
			body = `{"assignedTo":` + jsonString(oneOf(rng, append([]string{""}, e.users...), "")) + `}`
		}
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.UpdatePolicyIssueWithBody(ctx, e.org, id, nil, "application/json", strings.NewReader(body)))
		}
	case "evaluation":
		req.do = func(ctx context.Context) error { return e.evaluation(ctx, clientID, rng) }
	}
	return req
}

// evaluation posts a complete evaluation of the client's stack: 1,000 S3
// buckets of pack aws-cis-benchmark, 50 of them failing one policy; 45
// always fail and 5 are picked at random, so each evaluation fixes and
// opens a few issues.
func (e *benchEnv) evaluation(ctx context.Context, clientID int, rng *rand.Rand) error {
	stack := fmt.Sprintf("c%d", clientID)
	v, _ := e.stackV.LoadOrStore(stack, new(atomic.Int64))
	version := v.(*atomic.Int64).Add(1)
	project := fmt.Sprintf("loadgen-%d", e.runID)
	const policy, passing = "s3-bucket-server-side-encryption", "s3-bucket-versioning-enabled"
	failing := map[int]bool{}
	for i := 0; i < 45; i++ {
		failing[i*20] = true
	}
	for len(failing) < 50 {
		failing[rng.IntN(1000)] = true
	}
	type pack struct {
		Name   string   `json:"name"`
		Passed []string `json:"passed,omitempty"`
		Failed []string `json:"failed,omitempty"`
	}
	type resource struct {
		URN         string `json:"urn"`
		PolicyPacks []pack `json:"policyPacks"`
	}
	type violation struct {
		PolicyPack  string `json:"policyPack"`
		PolicyName  string `json:"policyName"`
		ResourceURN string `json:"resourceURN"`
		Message     string `json:"message"`
		Severity    string `json:"severity"`
	}
	body := struct {
		Stack       map[string]any      `json:"stack"`
		PolicyPacks []map[string]string `json:"policyPacks"`
		Resources   []resource          `json:"resources"`
		Violations  []violation         `json:"violations"`
	}{
		Stack:       map[string]any{"project": project, "name": stack, "version": version},
		PolicyPacks: []map[string]string{{"name": "aws-cis-benchmark", "versionTag": "1.5.1"}},
	}
	for i := 0; i < 1000; i++ {
		urn := fmt.Sprintf("urn:pulumi:%s::%s::aws:s3/bucket:Bucket::bucket-%04d", stack, project, i)
		p := pack{Name: "aws-cis-benchmark", Passed: []string{passing}}
		if failing[i] {
			p.Failed = []string{policy}
			body.Violations = append(body.Violations, violation{PolicyPack: "aws-cis-benchmark", PolicyName: policy,
				ResourceURN: urn, Message: "S3 buckets must encrypt objects at rest.", Severity: "medium"})
		} else {
			p.Passed = append(p.Passed, policy)
		}
		body.Resources = append(body.Resources, resource{URN: urn, PolicyPacks: []pack{p}})
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	e.evalSeq.Add(1)
	return checkStatus(e.raw.CreatePolicyEvaluationWithBody(ctx, e.org, "application/json", bytes.NewReader(b)))
}

// exportAll exports every issue once and measures rows/s and the server's
// RSS growth.
func (e *benchEnv) exportAll(ctx context.Context, pid int) (*exportResult, error) {
	before := rssMB(pid)
	w := watchRSS(pid, 20*time.Millisecond)
	start := time.Now()
	// A download without compression: the rows/s of the export itself (a
	// client asking for gzip adds the server's compression time).
	resp, err := e.raw.ExportPolicyIssuesWithBody(ctx, e.org, "application/json", strings.NewReader(`{}`),
		func(_ context.Context, r *http.Request) error {
			r.Header.Set("Accept-Encoding", "identity")
			return nil
		})
	if err != nil {
		w.Stop()
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.Stop()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("export: %d %s", resp.StatusCode, b)
	}
	rows, err := countCSVRecords(resp.Body)
	if err != nil {
		w.Stop()
		return nil, err
	}
	elapsed := time.Since(start)
	peak := w.Stop()
	ex := &exportResult{Rows: rows - 1, Seconds: elapsed.Seconds(), RSSBefore: before, RSSMax: peak}
	ex.RowsPerSec = float64(ex.Rows) / ex.Seconds
	if peak > before {
		ex.RSSGrowth = peak - before
	}
	return ex, nil
}

// countCSVRecords counts the records of an RFC 4180 stream: line ends
// outside quoted fields. Cheaper than parsing, so the client takes little
// of the machine the server is measured on.
func countCSVRecords(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<16)
	var n int64
	quoted, last := false, byte('\n')
	for {
		k, err := r.Read(buf)
		for _, c := range buf[:k] {
			switch c {
			case '"':
				quoted = !quoted
			case '\n':
				if !quoted {
					n++
				}
			}
		}
		if k > 0 {
			last = buf[k-1]
		}
		if err == io.EOF {
			if last != '\n' {
				n++
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
