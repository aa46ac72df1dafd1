// Package policy holds the rules of policy results that need no database:
// an issue's statuses and lifecycle, what a person may set when triaging,
// the compliance score, and the enforcement levels, severities and version
// tags a pack's policies carry.
package policy

import "fmt"

// Issue statuses.
const (
	StatusOpen       = "open"
	StatusInProgress = "in_progress"
	StatusByDesign   = "by_design"
	StatusIgnored    = "ignored"
	StatusFixed      = "fixed"
)

// StatusRank orders statuses by meaning: open, in_progress, by_design,
// ignored, fixed.
func StatusRank(status string) int {
	switch status {
	case StatusOpen:
		return 0
	case StatusInProgress:
		return 1
	case StatusByDesign:
		return 2
	case StatusIgnored:
		return 3
	}
	return 4
}

// IsActive reports whether a status counts as active (open or in_progress):
// active issues fail their policy in the compliance scores.
func IsActive(status string) bool { return status == StatusOpen || status == StatusInProgress }

// StatusReported is an issue's status once an evaluation reports its
// violation again: a fixed issue reopens; any other status stands, so a
// person's triage (in progress, by design, ignored) survives re-evaluation.
func StatusReported(status string) string {
	if status == StatusFixed {
		return StatusOpen
	}
	return status
}

// StatusNotReported is an issue's status once a later evaluation of its pack
// (or a complete inventory without its resource) no longer reports it:
// fixed, whatever a person had set.
func StatusNotReported(string) string { return StatusFixed }

// FieldError is input a rule refuses: Field names it, Message says what is
// allowed.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Refuse returns a *FieldError for field.
func Refuse(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Priorities, most urgent first.
var priorities = map[string]bool{"p0": true, "p1": true, "p2": true, "p3": true, "p4": true}

// CheckTriage checks what a person asks to set on an issue (nil: left
// alone): a status other than fixed, which only an evaluation sets, and a
// priority p0 to p4.
func CheckTriage(status, priority *string) error {
	if status != nil {
		switch *status {
		case StatusOpen, StatusInProgress, StatusByDesign, StatusIgnored:
		case StatusFixed:
			return Refuse("status", "fixed cannot be set manually; an issue becomes fixed when a later evaluation no longer reports it")
		default:
			return Refuse("status", "%q is not allowed; allowed values: open, in_progress, by_design, ignored", *status)
		}
	}
	if priority != nil && !priorities[*priority] {
		return Refuse("priority", "%q is not allowed; allowed values: p0, p1, p2, p3, p4", *priority)
	}
	return nil
}

// SeverityRank orders severities by meaning: critical 4 > high 3 > medium 2
// > low 1 > unset 0.
func SeverityRank(severity string) int {
	switch severity {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

// PriorityForSeverity is the priority a new issue gets.
func PriorityForSeverity(severity string) string {
	switch severity {
	case "critical":
		return "p0"
	case "high":
		return "p1"
	case "medium":
		return "p2"
	case "low":
		return "p3"
	}
	return "p4"
}
