package server

import (
	"testing"
	"time"
)

// TestRateLimiterBuckets checks the token bucket arithmetic and that idle
// buckets are dropped, so memory follows the tokens in use.
func TestRateLimiterBuckets(t *testing.T) {
	if newRateLimiter(0, 10) != nil {
		t.Fatal("a zero rate must disable the limiter")
	}
	l := newRateLimiter(10, 5)
	now := time.Unix(1_700_000_000, 0)
	for i := 0; i < 5; i++ {
		if ok, _ := l.allow(1, now); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.allow(1, now)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("beyond the burst: %t, wait %s (want about 100ms)", ok, wait)
	}
	// A refused request takes nothing from the bucket: one refill later,
	// exactly one request passes.
	if ok, _ := l.allow(1, now.Add(100*time.Millisecond)); !ok {
		t.Fatal("refused after a refill")
	}
	if ok, _ := l.allow(1, now.Add(100*time.Millisecond)); ok {
		t.Fatal("two requests passed on one refill")
	}
	if ok, _ := l.allow(2, now); !ok {
		t.Fatal("another token shares the bucket")
	}
	if d := newRateLimiter(2, 0); d.burst != 4 {
		t.Fatalf("default burst %d, want twice the rate", d.burst)
	}

	for k := int64(0); k < 10_000; k++ {
		l.allow(100+k, now.Add(time.Second))
	}
	if n := len(l.buckets); n < 10_000 {
		t.Fatalf("%d buckets", n)
	}
	l.allow(1, now.Add(3*time.Minute))
	if n := len(l.buckets); n != 1 {
		t.Fatalf("%d buckets after every other token idled for minutes, want 1", n)
	}
}
