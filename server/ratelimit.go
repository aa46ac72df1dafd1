package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// rateLimiter is a token bucket per API token. Buckets idle for longer than
// it takes to refill are dropped, since a full bucket and a fresh one are
// the same: memory follows the tokens in use, not the tokens ever seen.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[int64]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newRateLimiter allows perSecond requests a second per token with bursts
// of burst; nil (no limit) when perSecond is not positive.
func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(2*perSecond)))
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[int64]*bucket{}}
}

// allow takes one request from key's bucket; when the bucket is empty it
// answers how long until a request would be allowed.
func (l *rateLimiter) allow(key int64, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops buckets that have refilled since they were last used.
func (l *rateLimiter) sweep(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
	idle := max(time.Minute, refill)
	for k, b := range l.buckets {
		if now.Sub(b.seen) > idle {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// rateLimit answers 429 with Retry-After, in Pulumi's error body, when the
// caller's token has used up its bucket. It runs after authenticate: only
// valid tokens get buckets.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	if s.limiter == nil {
		return next
	}
	return func(c echo.Context) error {
		caller := callerFrom(c.Request().Context())
		if caller == nil {
			return next(c)
		}
		ok, wait := s.limiter.allow(caller.TokenID, time.Now())
		if ok {
			return next(c)
		}
		s.metrics.rateLimited.Inc()
		secs := int(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return &apiError{status: http.StatusTooManyRequests,
			message: fmt.Sprintf("Too many requests: this token is limited to %g requests a second (bursts of %d); retry after %d s", float64(s.limiter.limit), s.limiter.burst, secs)}
	}
}
