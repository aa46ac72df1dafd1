package repository

import (
	"github.com/policyresults/policyresults/repository/store"
)

// The repository's errors (see package store).
var (
	ErrNotFound           = store.ErrNotFound
	ErrConflict           = store.ErrConflict
	ErrPreconditionFailed = store.ErrPreconditionFailed
)

// ValidationError reports input the repository refuses; Field names the
// offending input.
type ValidationError = store.ValidationError

// ConflictError carries a message for a conflict; it matches ErrConflict.
type ConflictError = store.ConflictError

// invalid returns a *ValidationError for field.
func invalid(field, format string, args ...any) error { return store.Invalid(field, format, args...) }

// translate maps GORM's errors to the repository's.
func translate(err error, conflictMessage string) error { return store.Translate(err, conflictMessage) }
