package policy

import "regexp"

// Enforcement levels.
const (
	LevelAdvisory  = "advisory"
	LevelMandatory = "mandatory"
	LevelRemediate = "remediate"
	LevelDisabled  = "disabled"
)

// ValidLevel reports whether s is an enforcement level.
func ValidLevel(s string) bool {
	switch s {
	case LevelAdvisory, LevelMandatory, LevelRemediate, LevelDisabled:
		return true
	}
	return false
}

// ValidSeverity reports whether s is a severity ("" means unset).
func ValidSeverity(s string) bool {
	switch s {
	case "", "low", "medium", "high", "critical":
		return true
	}
	return false
}

// SemVer matches a semantic version: a version tag without its leading "v".
var SemVer = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// NormalizeTag drops a leading "v" from a semantic version tag.
func NormalizeTag(tag string) string {
	if len(tag) > 1 && (tag[0] == 'v' || tag[0] == 'V') && tag[1] >= '0' && tag[1] <= '9' {
		return tag[1:]
	}
	return tag
}

// NewVersionTag checks the tag of a new pack version: empty (its number
// becomes its tag) or a semantic version, a leading "v" dropped.
// openapi.yaml states the same rule as AppCreatePolicyPackRequest's
// versionTag pattern.
func NewVersionTag(tag string) (string, error) {
	normal := NormalizeTag(tag)
	if normal != "" && !SemVer.MatchString(normal) {
		return "", Refuse("versionTag", "%q is not a semantic version such as 1.2.0", tag)
	}
	return normal, nil
}
