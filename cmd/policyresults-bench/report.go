package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"text/tabwriter"
	"time"
)

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
