package policy

import (
	"regexp"
	"strings"
)

// The names policyresults accepts; openapi.yaml states the same patterns.
var (
	// PackNamePattern is Pulumi's rule for pack and policy names: URL-safe,
	// at most 100.
	PackNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
	// StackNamePattern is the rule for stack and project names.
	StackNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
	// AccountNamePattern is the rule for Insights account names.
	AccountNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@/-]{0,199}$`)
	// GroupNamePattern is the rule for policy group names.
	GroupNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
)

// CheckText refuses a text field longer than max bytes or holding a NUL
// character.
func CheckText(field, s string, max int) error {
	if len(s) > max {
		return Refuse(field, "longer than %d bytes", max)
	}
	if strings.ContainsAny(s, "\x00") {
		return Refuse(field, "contains a NUL character")
	}
	return nil
}
