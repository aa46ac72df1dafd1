package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestIsUnavailable sorts database failures into 503 (retry later) and
// the rest (500).
func TestIsUnavailable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{fmt.Errorf("query: %w", &pgconn.PgError{Code: "08006"}), true},
		{&pgconn.PgError{Code: "53300"}, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{sql.ErrConnDone, true},
		{errors.New("failed to connect to `user=postgres database=x`: server error: FATAL: database \"x\" is not currently accepting connections (SQLSTATE 55000)"), true},
		{errors.New("database is locked (5) (SQLITE_BUSY)"), true},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "42P01", Message: "relation does not exist"}, false},
		{context.Canceled, false},
		{errors.New("boom"), false},
	} {
		if got := isUnavailable(c.err); got != c.want {
			t.Errorf("isUnavailable(%v) = %t, want %t", c.err, got, c.want)
		}
	}
}
