package repository

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/accounts"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestQueryLogShowsNoValues logs every query as slow and every failure, and
// checks that token secrets, token hashes and other bound values never
// reach the log while the SQL does.
func TestQueryLogShowsNoValues(t *testing.T) {
	ctx := context.Background()
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "log.db"), Options{Logger: log, SlowQuery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org, err := r.Accounts.CreateOrganization(ctx, "redact-org")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := r.Accounts.CreateToken(ctx, accounts.TokenSpec{OrgID: &org.ID, Name: "ci", Role: model.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Accounts.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	hash := accounts.HashToken(secret)
	// Failing queries (logged with their SQL) through both of GORM's paths:
	// the callbacks (First) and the trace recorder (Raw + Scan).
	var n int64
	_ = r.db.WithContext(ctx).Table("no_such_table").Where("hash = ?", hash).Count(&n).Error
	var rows []map[string]any
	_ = r.db.WithContext(ctx).Raw("SELECT * FROM no_such_table WHERE hash = ?", hash).Scan(&rows).Error
	_ = r.db.WithContext(ctx).Raw("SELECT id FROM tokens WHERE hash = ?", hash).Scan(&rows).Error

	out := logs.String()
	for _, want := range []string{`"msg":"slow query"`, `"msg":"query failed"`, "hash = ?"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the log lacks %s:\n%s", want, out)
		}
	}
	for _, leak := range []string{secret, strings.TrimPrefix(secret, "pul-"), hash} {
		if strings.Contains(out, leak) {
			t.Fatalf("the log shows %q:\n%s", leak, out)
		}
	}
}
