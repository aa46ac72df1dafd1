package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/policyresults/policyresults/gen/client"
)

// runBench samples the organisation's data, runs the mix (after its
// warm-up), then the naive SQL and the export, prints the figures and
// writes them as JSON; it fails when any request failed.
func runBench(ctx context.Context, o *benchOptions, out, progress io.Writer) error {
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
		if err := runNaive(ctx, o, env, kinds, stats); err != nil {
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
