package main

import (
	"os"
	"testing"
)

func TestParseCPUSeconds(t *testing.T) {
	tests := []struct {
		name, stat string
		want       float64
		ok         bool
	}{
		{"a plain name", "4242 (policyresults) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 9 0 100 0 0", 18.01, true},
		{"a name with spaces and parentheses", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 250 50 0 0 20 0", 3, true},
		{"a short line", "7 (x) R 1 7", 0, false},
		{"no name", "garbage", 0, false},
		{"times that are not numbers", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 a b 0 0", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseCPUSeconds(tc.stat)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := cpuSeconds(os.Getpid()); !ok {
		t.Error("this process's CPU time is unknown")
	}
}
