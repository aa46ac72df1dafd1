package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Delivery limits.
const (
	// RetryWindow is how long a delivery is retried before it is failed,
	// and how long a hook may fail before it is deactivated.
	RetryWindow = 24 * time.Hour
	// Retention is how long deliveries and attempts are kept.
	Retention = 30 * 24 * time.Hour
	// recordLimit cuts the response headers and body an attempt records.
	recordLimit = 4 << 10
	// maxBackoff bounds the wait between attempts, Retry-After included.
	maxBackoff = time.Hour
	// firstBackoff is the wait after a first failed attempt; it doubles.
	firstBackoff = 10 * time.Second
)

// Delivery states.
const (
	statePending   = "pending"
	stateDelivered = "delivered"
	stateFailed    = "failed"
	stateRetrying  = "retrying"
)

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	Store  *Store
	Client *http.Client
	Logger *slog.Logger
	// Now is the clock of backoffs, retry windows and retention (default
	// time.Now).
	Now func() time.Time
	// ConsoleURL is the server's external URL, for the issue links of
	// messages ("" leaves them out).
	ConsoleURL string
	// Poll is how often the outbox and the due deliveries are read
	// (default 1s).
	Poll time.Duration
	// Workers bounds the deliveries in flight (default 16); PerHook those
	// of one hook (default 2), so that a hanging receiver holds only its
	// own.
	Workers int
	PerHook int
	// Lease is how long a taken delivery stays with its worker before
	// another may take it again (default 2 minutes, well beyond
	// RequestTimeout).
	Lease time.Duration
}

// Worker expands the outbox into deliveries and delivers them.
type Worker struct {
	cfg WorkerConfig
	log *slog.Logger

	mu       sync.Mutex
	inflight map[int64]int
	wg       sync.WaitGroup
}

// NewWorker returns a worker; call Run.
func NewWorker(cfg WorkerConfig) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = NewHTTPClient(false)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.PerHook <= 0 {
		cfg.PerHook = 2
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Worker{cfg: cfg, log: log, inflight: map[int64]int{}}
}

func (w *Worker) now() time.Time { return w.cfg.Now().UTC().Truncate(time.Microsecond) }

// Run delivers until ctx ends, then waits for the attempts in flight.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	var lastCleanup time.Time
	for {
		if err := w.step(ctx, false); err != nil && ctx.Err() == nil {
			w.log.Warn("webhooks: delivery step", "error", err)
		}
		if now := w.now(); now.Sub(lastCleanup) > time.Hour {
			if err := w.cfg.Store.Cleanup(ctx, now); err != nil && ctx.Err() == nil {
				w.log.Warn("webhooks: cleanup", "error", err)
			}
			lastCleanup = now
		}
		select {
		case <-ctx.Done():
			w.wg.Wait()
			return
		case <-t.C:
		}
	}
}

// Drain expands the outbox and makes every due delivery's attempt, waiting
// for them, until none is due: tests' way to run the worker by hand.
func (w *Worker) Drain(ctx context.Context) error {
	for range 1000 {
		n, err := w.expandAndClaim(ctx, true)
		if err != nil || n == 0 {
			return err
		}
	}
	return errors.New("webhooks: drain did not finish")
}

func (w *Worker) step(ctx context.Context, wait bool) error {
	_, err := w.expandAndClaim(ctx, wait)
	return err
}

func (w *Worker) expandAndClaim(ctx context.Context, wait bool) (int, error) {
	for {
		n, err := w.cfg.Store.expand(ctx, w.now(), w.cfg.ConsoleURL)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			break
		}
	}
	w.mu.Lock()
	free := w.cfg.Workers
	for _, n := range w.inflight {
		free -= n
	}
	w.mu.Unlock()
	if free <= 0 {
		return 0, nil
	}
	taken, err := w.claim(ctx, free)
	if err != nil {
		return 0, err
	}
	for _, d := range taken {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer w.release(d.HookID)
			if err := w.attempt(context.WithoutCancel(ctx), d); err != nil {
				w.log.Warn("webhooks: recording an attempt", "delivery", d.ID, "error", err)
			}
		}()
	}
	if wait {
		w.wg.Wait()
	}
	return len(taken), nil
}

func (w *Worker) release(hookID int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight[hookID]--; w.inflight[hookID] <= 0 {
		delete(w.inflight, hookID)
	}
}

// delivery is a row of webhook_deliveries.
type delivery struct {
	OrgID          int64
	ID             string
	HookID         int64
	Kind           string
	Payload        string
	State          string
	Attempts       int
	NextAttemptAt  time.Time
	FirstAttemptAt *time.Time
	CreatedAt      time.Time
}

func (delivery) TableName() string { return "webhook_deliveries" }

// claim takes up to n due deliveries, at most PerHook of a hook counting
// those in flight, by moving them a lease ahead; several replicas skip
// each other's rows on PostgreSQL.
func (w *Worker) claim(ctx context.Context, n int) ([]delivery, error) {
	now := w.now()
	var taken []delivery
	err := w.cfg.Store.transaction(ctx, func(tx *gorm.DB) error {
		q := tx.Where("state = ? AND next_attempt_at <= ?", statePending, now).Order("next_attempt_at").Limit(4 * n)
		if w.cfg.Store.postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var due []delivery
		if err := q.Find(&due).Error; err != nil {
			return err
		}
		w.mu.Lock()
		var ids []string
		for _, d := range due {
			if len(taken) == n || w.inflight[d.HookID] >= w.cfg.PerHook {
				continue
			}
			w.inflight[d.HookID]++
			taken = append(taken, d)
			ids = append(ids, d.ID)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			return nil
		}
		return tx.Model(&delivery{}).Where("id IN ?", ids).Update("next_attempt_at", now.Add(w.cfg.Lease)).Error
	})
	if err != nil {
		for _, d := range taken {
			w.release(d.HookID)
		}
		return nil, err
	}
	return taken, nil
}

// Attempt is one attempt's record, as GetOrganizationWebhookDeliveries lists it.
type Attempt struct {
	OrgID           int64
	ID              int64 `gorm:"primaryKey;autoIncrement"`
	HookID          int64
	DeliveryID      string
	Kind            string
	Attempt         int
	State           string
	StartedAt       time.Time
	DurationMs      int64
	RequestURL      string `gorm:"column:request_url"`
	RequestHeaders  string
	Payload         string
	ResponseCode    int
	ResponseHeaders string
	ResponseBody    string
	Error           string
}

// TableName is the attempts table.
func (Attempt) TableName() string { return "webhook_attempts" }

// result is what a receiver answered.
type result struct {
	attempt    Attempt
	retryAfter time.Duration
}

// send POSTs payload to h with Pulumi's headers and records the answer.
func send(ctx context.Context, client *http.Client, h *Hook, secret, id, kind string, payload []byte, now time.Time) result {
	a := Attempt{OrgID: h.OrgID, HookID: h.ID, DeliveryID: id, Kind: kind, StartedAt: now, RequestURL: h.PayloadURL, Payload: string(payload)}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.PayloadURL, bytes.NewReader(payload))
	if err != nil {
		a.Error = err.Error()
		return result{attempt: a}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "policyresults-webhooks")
	req.Header.Set("Pulumi-Webhook-Id", id)
	req.Header.Set("Pulumi-Webhook-Kind", kind)
	a.RequestHeaders = headerText(req.Header, 0)
	if secret != "" {
		req.Header.Set("Pulumi-Webhook-Signature", Signature(payload, secret))
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		a.DurationMs = time.Since(start).Milliseconds()
		a.Error = describeError(err)
		return result{attempt: a}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, recordLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	a.DurationMs = time.Since(start).Milliseconds()
	a.ResponseCode = resp.StatusCode
	a.ResponseHeaders = headerText(resp.Header, recordLimit)
	a.ResponseBody = strings.ToValidUTF8(string(body), "\uFFFD")
	return result{attempt: a, retryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
}

// Signature is Pulumi-Webhook-Signature: the hex HMAC-SHA256 of the body
// keyed with the hook's secret.
func Signature(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// describeError says why no answer came, without the URL (which the
// attempt records already, and which may carry a chat service's token).
func describeError(err error) string {
	switch {
	case errors.Is(err, ErrRefusedAddress):
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.HasPrefix(e.Error(), ErrRefusedAddress.Error()) {
				return e.Error()
			}
		}
		return ErrRefusedAddress.Error()
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), "Client.Timeout"):
		return fmt.Sprintf("timeout: no answer within %s", RequestTimeout)
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}

// headerText is headers as "Name: value\r\n" lines, sorted, cut at limit
// (0: no limit).
func headerText(h http.Header, limit int) string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, k := range names {
		for _, v := range h[k] {
			sb.WriteString(k + ": " + v + "\r\n")
		}
	}
	s := sb.String()
	if limit > 0 && len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "")
	}
	return s
}

// retryAfter reads Retry-After: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// retryable reports whether an attempt's failure is worth retrying:
// no answer, a timeout, 429 or 5xx.
func retryable(a *Attempt) bool {
	return a.ResponseCode == 0 || a.ResponseCode == http.StatusTooManyRequests || a.ResponseCode >= 500
}

// backoff is the wait after the n-th failed attempt: doubling from
// firstBackoff up to maxBackoff, with ±20% jitter so that receivers coming
// back are not hit by every delivery at once.
func backoff(n int) time.Duration {
	d := firstBackoff << min(n-1, 20)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// attempt makes one attempt of d and records it.
func (w *Worker) attempt(ctx context.Context, d delivery) error {
	s := w.cfg.Store
	var h Hook
	if err := s.db.WithContext(ctx).Where("org_id = ? AND id = ?", d.OrgID, d.HookID).Take(&h).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		return err
	}
	now := w.now()
	if !h.Active {
		return s.db.WithContext(ctx).Model(&delivery{}).Where("id = ? AND state = ?", d.ID, statePending).
			Update("state", stateFailed).Error
	}
	secret, err := s.decrypt(ctx, h.SecretEnc)
	if err != nil {
		return err
	}
	res := send(ctx, w.cfg.Client, &h, secret, d.ID, d.Kind, []byte(d.Payload), now)
	a := res.attempt
	a.Attempt = d.Attempts + 1
	first := now
	if d.FirstAttemptAt != nil {
		first = *d.FirstAttemptAt
	}
	state, next := stateDelivered, now
	switch {
	case a.ResponseCode >= 200 && a.ResponseCode < 300:
	case retryable(&a) && now.Sub(first) < RetryWindow:
		state = statePending
		wait := backoff(a.Attempt)
		if res.retryAfter > 0 {
			wait = min(res.retryAfter, maxBackoff)
		}
		next = now.Add(wait)
	default:
		state = stateFailed
	}
	a.State = state
	if state == statePending {
		a.State = stateRetrying
	}
	return s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		if err := tx.Model(&delivery{}).Where("id = ?", d.ID).Updates(map[string]any{
			"state": state, "attempts": a.Attempt, "next_attempt_at": next, "first_attempt_at": first,
		}).Error; err != nil {
			return err
		}
		return s.noteOutcome(tx, &h, state == stateDelivered, describeOutcome(&a), now)
	})
}

func describeOutcome(a *Attempt) string {
	if a.ResponseCode == 0 {
		return a.Error
	}
	return fmt.Sprintf("HTTP %d", a.ResponseCode)
}

// noteOutcome keeps when a hook started failing; a hook failing for
// RetryWindow is deactivated, with the reason shown in its answers.
func (s *Store) noteOutcome(tx *gorm.DB, h *Hook, ok bool, outcome string, now time.Time) error {
	switch {
	case ok && h.FailingSince != nil:
		return tx.Model(&Hook{}).Where("org_id = ? AND id = ?", h.OrgID, h.ID).Update("failing_since", nil).Error
	case ok:
		return nil
	case h.FailingSince == nil:
		return tx.Model(&Hook{}).Where("org_id = ? AND id = ? AND failing_since IS NULL", h.OrgID, h.ID).Update("failing_since", now).Error
	case now.Sub(*h.FailingSince) >= RetryWindow:
		reason := fmt.Sprintf("deactivated on %s: every delivery since %s failed (last: %s); set active to true to resume",
			now.Format(time.RFC3339), h.FailingSince.UTC().Format(time.RFC3339), outcome)
		return tx.Model(&Hook{}).Where("org_id = ? AND id = ?", h.OrgID, h.ID).
			Updates(map[string]any{"active": false, "deactivated_reason": reason}).Error
	}
	return nil
}

// eventRow is a row of the outbox.
type eventRow struct {
	OrgID int64
	ID    int64
	Data  string
}

// expand turns up to 100 outbox events into deliveries, one per matching
// active hook, in one transaction; it answers how many it expanded.
func (s *Store) expand(ctx context.Context, now time.Time, consoleURL string) (int, error) {
	n := 0
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		q := tx.Table("webhook_events").Select("org_id, id, data").Where("NOT expanded").Order("id").Limit(100)
		if s.postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var rows []eventRow
		if err := q.Scan(&rows).Error; err != nil {
			return err
		}
		n = len(rows)
		if n == 0 {
			return nil
		}
		hooks := map[int64][]Hook{}
		orgNames := map[int64]string{}
		var deliveries []delivery
		ids := make([]int64, 0, n)
		for _, r := range rows {
			ids = append(ids, r.ID)
			if _, ok := hooks[r.OrgID]; !ok {
				var hs []Hook
				if err := tx.Where("org_id = ? AND active", r.OrgID).Order("id").Find(&hs).Error; err != nil {
					return err
				}
				hooks[r.OrgID] = hs
				var name string
				if err := tx.Raw("SELECT name FROM organizations WHERE id = ?", r.OrgID).Scan(&name).Error; err != nil {
					return err
				}
				orgNames[r.OrgID] = name
			}
			var e Event
			if err := json.Unmarshal([]byte(r.Data), &e); err != nil {
				return fmt.Errorf("webhooks: event %d: %w", r.ID, err)
			}
			for i := range hooks[r.OrgID] {
				h := &hooks[r.OrgID][i]
				part := e.forHook(h)
				if part == nil {
					continue
				}
				body, err := render(h.Format, orgNames[r.OrgID], consoleURL, part, now)
				if err != nil {
					return err
				}
				deliveries = append(deliveries, delivery{OrgID: r.OrgID, ID: uuid.NewString(), HookID: h.ID, Kind: part.Kind(),
					Payload: string(body), State: statePending, NextAttemptAt: now, CreatedAt: now})
			}
		}
		if len(deliveries) > 0 {
			if err := tx.CreateInBatches(deliveries, 200).Error; err != nil {
				return err
			}
		}
		return tx.Table("webhook_events").Where("id IN ?", ids).Update("expanded", true).Error
	})
	return n, err
}

// Cleanup deletes what is older than Retention: attempts, finished
// deliveries and expanded events.
func (s *Store) Cleanup(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-Retention)
	db := s.db.WithContext(ctx)
	if err := db.Exec("DELETE FROM webhook_attempts WHERE started_at < ?", cutoff).Error; err != nil {
		return err
	}
	if err := db.Exec("DELETE FROM webhook_deliveries WHERE created_at < ? AND state <> ?", cutoff, statePending).Error; err != nil {
		return err
	}
	return db.Exec("DELETE FROM webhook_events WHERE created_at < ? AND expanded", cutoff).Error
}

// Attempts lists the hook's attempts of the last Retention, newest first,
// at most 100.
func (s *Store) Attempts(ctx context.Context, h *Hook, now time.Time) ([]Attempt, error) {
	var out []Attempt
	err := s.db.WithContext(ctx).Where("org_id = ? AND hook_id = ? AND started_at >= ?", h.OrgID, h.ID, now.Add(-Retention)).
		Order("started_at DESC, id DESC").Limit(100).Find(&out).Error
	return out, err
}

// Ping sends a ping to h at once and records the attempt.
func (s *Store) Ping(ctx context.Context, client *http.Client, h *Hook, now time.Time) (*Attempt, error) {
	now = now.UTC().Truncate(time.Microsecond)
	secret, err := s.decrypt(ctx, h.SecretEnc)
	if err != nil {
		return nil, err
	}
	body, err := pingPayload(h.Format, now)
	if err != nil {
		return nil, err
	}
	res := send(ctx, client, h, secret, uuid.NewString(), "ping", body, now)
	a := res.attempt
	a.Attempt, a.State = 1, stateDelivered
	if a.ResponseCode < 200 || a.ResponseCode >= 300 {
		a.State = stateFailed
	}
	if err := s.db.WithContext(ctx).Create(&a).Error; err != nil {
		return nil, err
	}
	return &a, nil
}
