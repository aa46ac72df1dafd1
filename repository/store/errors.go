package store

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/policy"
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

// Invalid returns a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ConflictError carries a message for a conflict; it matches ErrConflict.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Translate maps GORM's errors to the store's: a missing row to
// ErrNotFound, a unique violation to a conflict with conflictMessage (or
// ErrConflict where it is empty).
func Translate(err error, conflictMessage string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey), isUniqueViolation(err):
		if conflictMessage == "" {
			return ErrConflict
		}
		return &ConflictError{Message: conflictMessage}
	}
	return err
}

// isUniqueViolation recognises SQLite's unique-constraint errors, which the
// glebarez dialector does not translate.
func isUniqueViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// Refused turns a rule's refusal (a *policy.FieldError) into a
// *ValidationError.
func Refused(err error) error {
	var fe *policy.FieldError
	if errors.As(err, &fe) {
		return &ValidationError{Field: fe.Field, Message: fe.Message}
	}
	return err
}
