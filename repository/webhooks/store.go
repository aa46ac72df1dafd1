// Package webhooks keeps an organisation's webhooks, the outbox of policy
// events written in the transactions that change issues, the deliveries
// expanded from it and every delivery attempt; its Worker delivers them.
package webhooks

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

var (
	// ErrNotFound is returned when the named webhook does not exist in the scope.
	ErrNotFound = errors.New("webhook not found")
	// ErrConflict is returned when a webhook of the same name exists in the scope.
	ErrConflict = errors.New("a webhook of this name already exists")
)

// ValidationError reports input the store refuses; Field names the input.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Scope is where a webhook belongs: an organisation, or one of its stacks
// when Project and Stack are set.
type Scope struct {
	OrgID   int64
	Project string
	Stack   string
}

// Hook is a stored webhook. SecretEnc is its secret encrypted with the
// store's key; it never leaves the package in clear but to sign.
type Hook struct {
	OrgID             int64
	ID                int64 `gorm:"primaryKey;autoIncrement"`
	Project           string
	Stack             string
	Name              string
	DisplayName       string
	PayloadURL        string `gorm:"column:payload_url"`
	SecretEnc         string `gorm:"column:secret_enc"`
	Active            bool
	Format            string
	Filters           string
	Groups            string `gorm:"column:groups_"`
	MinSeverity       string
	FailingSince      *time.Time
	DeactivatedReason string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// TableName is the webhooks table.
func (Hook) TableName() string { return "webhooks" }

// HasSecret reports whether deliveries are signed.
func (h *Hook) HasSecret() bool { return h.SecretEnc != "" }

// FilterList is the hook's filters.
func (h *Hook) FilterList() []string { return splitList(h.Filters) }

// GroupList is the hook's groups.
func (h *Hook) GroupList() []string { return splitList(h.Groups) }

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// Spec is a webhook's settable fields; nil leaves a field as it is on
// update (create takes defaults).
type Spec struct {
	Name        *string
	DisplayName *string
	PayloadURL  *string
	// Secret: the empty string removes it.
	Secret      *string
	Active      *bool
	Format      *string
	Filters     *[]string
	Groups      *[]string
	MinSeverity *string
}

// Store keeps webhooks in one database.
type Store struct {
	db       *gorm.DB
	postgres bool

	keyMu sync.Mutex
	key   []byte
}

// New returns the store of db. concurrentWrites says the database runs
// write transactions in parallel with row locks (PostgreSQL): replicas then
// share the outbox with FOR UPDATE SKIP LOCKED; otherwise (SQLite) every
// write transaction takes the database's write lock first. key encrypts
// the secrets (any length: it is hashed to an AES-256 key); when empty, a
// random key is made and kept in the database on first use.
func New(db *gorm.DB, concurrentWrites bool, key string) *Store {
	s := &Store{db: db, postgres: concurrentWrites}
	if key != "" {
		sum := sha256.Sum256([]byte(key))
		s.key = sum[:]
	}
	return s
}

// transaction runs fn in a transaction that, on SQLite, takes the write
// lock first (a write matching no row), so that it never fails upgrading
// a read lock under concurrent writers.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if !s.postgres {
			if err := tx.Exec("UPDATE webhook_keys SET key = key WHERE id = -1").Error; err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Formats, filters and groups a webhook may take (openapi.yaml's enums;
// the validator refuses others first).
var (
	formats    = []string{"raw", "slack", "ms_teams"}
	severities = []string{"", "low", "medium", "high", "critical"}
)

func (s *Store) validate(sp *Spec) error {
	if sp.Name != nil && !namePattern.MatchString(*sp.Name) {
		return invalid("name", "must be 1 to 64 letters, digits, '-', '_' or '.'")
	}
	if sp.DisplayName != nil && strings.TrimSpace(*sp.DisplayName) == "" {
		return invalid("displayName", "must not be empty")
	}
	if sp.PayloadURL != nil {
		if err := checkPayloadURL(*sp.PayloadURL); err != nil {
			return err
		}
	}
	if sp.Format != nil && !slices.Contains(formats, *sp.Format) {
		return invalid("format", "must be one of raw, slack, ms_teams")
	}
	if sp.MinSeverity != nil && !slices.Contains(severities, *sp.MinSeverity) {
		return invalid("minimumSeverity", "must be one of low, medium, high, critical or empty")
	}
	return nil
}

// checkPayloadURL accepts absolute http and https URLs with a host and no
// credentials. Where the host points is checked when a delivery dials it.
func checkPayloadURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return invalid("payloadUrl", "must be an absolute http or https URL")
	}
	if u.User != nil {
		return invalid("payloadUrl", "must not carry credentials (user:password@); use the secret to authenticate deliveries")
	}
	return nil
}

func scoped(tx *gorm.DB, sc Scope) *gorm.DB {
	return tx.Where("org_id = ? AND project = ? AND stack = ?", sc.OrgID, sc.Project, sc.Stack)
}

// List returns the scope's webhooks by name.
func (s *Store) List(ctx context.Context, sc Scope) ([]Hook, error) {
	var hooks []Hook
	err := scoped(s.db.WithContext(ctx), sc).Order("name").Find(&hooks).Error
	return hooks, err
}

// Get returns the named webhook of the scope.
func (s *Store) Get(ctx context.Context, sc Scope, name string) (*Hook, error) {
	var h Hook
	err := scoped(s.db.WithContext(ctx), sc).Where("name = ?", name).Take(&h).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &h, err
}

// Create stores a new webhook; a missing name is generated.
func (s *Store) Create(ctx context.Context, sc Scope, sp Spec) (*Hook, error) {
	if err := s.validate(&sp); err != nil {
		return nil, err
	}
	if sp.DisplayName == nil || sp.PayloadURL == nil {
		return nil, invalid("displayName", "displayName and payloadUrl are required")
	}
	h := &Hook{OrgID: sc.OrgID, Project: sc.Project, Stack: sc.Stack, DisplayName: *sp.DisplayName, PayloadURL: *sp.PayloadURL,
		Active: true, Format: "raw"}
	if sp.Name != nil {
		h.Name = *sp.Name
	} else {
		var b [4]byte
		_, _ = rand.Read(b[:])
		h.Name = hex.EncodeToString(b[:])
	}
	if err := s.apply(ctx, h, sp); err != nil {
		return nil, err
	}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := scoped(tx.Model(&Hook{}), sc).Where("name = ?", h.Name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrConflict
		}
		return tx.Create(h).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, ErrConflict
	}
	return h, err
}

// apply copies the set fields of sp onto h, encrypting the secret.
func (s *Store) apply(ctx context.Context, h *Hook, sp Spec) error {
	if sp.DisplayName != nil {
		h.DisplayName = *sp.DisplayName
	}
	if sp.PayloadURL != nil {
		h.PayloadURL = *sp.PayloadURL
	}
	if sp.Active != nil {
		h.Active = *sp.Active
		if h.Active {
			h.DeactivatedReason, h.FailingSince = "", nil
		}
	}
	if sp.Format != nil {
		h.Format = *sp.Format
	}
	if sp.Filters != nil {
		h.Filters = strings.Join(dedupe(*sp.Filters), ",")
	}
	if sp.Groups != nil {
		h.Groups = strings.Join(dedupe(*sp.Groups), ",")
	}
	if sp.MinSeverity != nil {
		h.MinSeverity = *sp.MinSeverity
	}
	if sp.Secret != nil {
		if *sp.Secret == "" {
			h.SecretEnc = ""
		} else {
			enc, err := s.encrypt(ctx, *sp.Secret)
			if err != nil {
				return err
			}
			h.SecretEnc = enc
		}
	}
	return nil
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Update changes the set fields of the named webhook.
func (s *Store) Update(ctx context.Context, sc Scope, name string, sp Spec) (*Hook, error) {
	sp.Name = nil
	if err := s.validate(&sp); err != nil {
		return nil, err
	}
	var h Hook
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := scoped(tx, sc).Where("name = ?", name).Take(&h).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		if err := s.apply(ctx, &h, sp); err != nil {
			return err
		}
		return tx.Select("*").Save(&h).Error
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// Delete removes the named webhook with its deliveries and attempts.
func (s *Store) Delete(ctx context.Context, sc Scope, name string) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		var h Hook
		if err := scoped(tx, sc).Where("name = ?", name).Take(&h).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		for _, table := range []string{"webhook_attempts", "webhook_deliveries"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE org_id = ? AND hook_id = ?", h.OrgID, h.ID).Error; err != nil {
				return err
			}
		}
		return tx.Delete(&Hook{}, "org_id = ? AND id = ?", h.OrgID, h.ID).Error
	})
}

// encryptionKey is the configured key, else the database's, made on
// first use.
func (s *Store) encryptionKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	candidate := base64.StdEncoding.EncodeToString(b[:])
	// Replicas starting together each offer a key; the first one stored wins.
	if err := s.db.WithContext(ctx).Exec("INSERT INTO webhook_keys (id, key) VALUES (1, ?) ON CONFLICT (id) DO NOTHING", candidate).Error; err != nil {
		return nil, err
	}
	var stored string
	if err := s.db.WithContext(ctx).Raw("SELECT key FROM webhook_keys WHERE id = 1").Scan(&stored).Error; err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(stored)
	if err != nil || len(key) != 32 {
		return nil, errors.New("webhooks: the stored webhook key is malformed")
	}
	s.key = key
	return key, nil
}

// encrypt seals a secret with AES-256-GCM: base64 of nonce and ciphertext.
func (s *Store) encrypt(ctx context.Context, secret string) (string, error) {
	aead, err := s.aead(ctx)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(secret), nil)), nil
}

func (s *Store) decrypt(ctx context.Context, enc string) (string, error) {
	if enc == "" {
		return "", nil
	}
	aead, err := s.aead(ctx)
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("webhooks: a stored secret is malformed")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return "", errors.New("webhooks: a stored secret does not open with the webhook key (was --webhook-key changed?)")
	}
	return string(plain), nil
}

func (s *Store) aead(ctx context.Context) (cipher.AEAD, error) {
	key, err := s.encryptionKey(ctx)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
