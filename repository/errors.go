package repository

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned when the requested row does not exist in the
	// organisation.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a write would break a uniqueness rule or a
	// state rule (a stale evaluation, a pack in use).
	ErrConflict = errors.New("conflict")
	// ErrPreconditionFailed is returned when an If-Match revision is stale.
	ErrPreconditionFailed = errors.New("precondition failed")
)

// ValidationError reports input the repository refuses; Field names the
// offending input.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// invalid returns a *ValidationError for field.
func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ConflictError carries a message for a conflict; it matches ErrConflict.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
