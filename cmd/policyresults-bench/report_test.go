package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestViewResultsAndTheirGeometricMean(t *testing.T) {
	msList := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	s := &kindStats{views: map[string]*viewStats{
		"active":          {times: msList(2, 4, 9), naive: msList(40, 40)},   // 10×
		"a policy":        {times: msList(5), naive: msList(200, 300, 100)},  // 40×
		"an assignee":     {times: msList(3)},                                // no naive run: left out
		"in-progress low": {naive: msList(10)},                               // not sent in the mix: no ratio
		"one stack":       {times: msList(1, 1, 1, 50), naive: msList(0, 0)}, // naive too fast to time: no ratio
	}}
	views := viewResults(s)
	tests := []struct {
		view      string
		present   bool
		p50, want float64
	}{
		{"active", true, 4, 10},
		{"a policy", true, 5, 40},
		{"an assignee", false, 0, 0},
		{"in-progress low", true, 0, 0},
		{"one stack", true, 1, 0},
	}
	for _, tc := range tests {
		got, ok := views[tc.view]
		if ok != tc.present {
			t.Fatalf("%s: present %v, want %v", tc.view, ok, tc.present)
		}
		if ok && (got.P50 != tc.p50 || got.Ratio != tc.want) {
			t.Errorf("%s: p50 %.1f ratio %.1f, want %.1f and %.1f", tc.view, got.P50, got.Ratio, tc.p50, tc.want)
		}
	}

	var out bytes.Buffer
	printViews(&out, views)
	if !strings.Contains(out.String(), "geometric mean of the views' ratios 20.0× over 2 views") {
		t.Errorf("the table's summary is wrong:\n%s", out.String())
	}
	if strings.Index(out.String(), "active") > strings.Index(out.String(), "a policy") {
		t.Errorf("views are not in gridViews' order:\n%s", out.String())
	}
	if viewResults(&kindStats{}) != nil {
		t.Error("a kind without views has a view table")
	}
}
