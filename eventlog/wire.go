package eventlog

import "strings"

// The engine event payloads this package reads, with the JSON keys of
// Pulumi's apitype package (see the package documentation). Fields not
// listed here are ignored.
type engineEvent struct {
	Sequence                       *int                `json:"sequence"`
	Timestamp                      *int64              `json:"timestamp"`
	PolicyEvent                    *policyEvent        `json:"policyEvent"`
	PolicyRemediationEvent         *remediationEvent   `json:"policyRemediationEvent"`
	PolicyAnalyzeSummaryEvent      *policySummaryEvent `json:"policyAnalyzeSummaryEvent"`
	PolicyAnalyzeStackSummaryEvent *policySummaryEvent `json:"policyAnalyzeStackSummaryEvent"`
	PolicyRemediateSummaryEvent    *policySummaryEvent `json:"policyRemediateSummaryEvent"`
	ResourcePreEvent               *resourcePreEvent   `json:"resourcePreEvent"`
	SummaryEvent                   *summaryEvent       `json:"summaryEvent"`
}

type policyEvent struct {
	ResourceURN          string  `json:"resourceUrn"`
	Message              string  `json:"message"`
	PolicyName           string  `json:"policyName"`
	PolicyPackName       string  `json:"policyPackName"`
	PolicyPackVersion    string  `json:"policyPackVersion"`
	PolicyPackVersionTag string  `json:"policyPackVersionTag"`
	EnforcementLevel     string  `json:"enforcementLevel"`
	Severity             *string `json:"severity"`
	// Exceptions (policy exceptions that matched; the violation then does
	// not fail the operation) are not read: the violation is still one.
}

type remediationEvent struct {
	ResourceURN          string `json:"resourceUrn"`
	PolicyName           string `json:"policyName"`
	PolicyPackName       string `json:"policyPackName"`
	PolicyPackVersion    string `json:"policyPackVersion"`
	PolicyPackVersionTag string `json:"policyPackVersionTag"`
}

type policySummaryEvent struct {
	ResourceURN          string   `json:"resourceUrn"`
	PolicyPackName       string   `json:"policyPackName"`
	PolicyPackVersion    string   `json:"policyPackVersion"`
	PolicyPackVersionTag string   `json:"policyPackVersionTag"`
	Passed               []string `json:"passed"`
	Failed               []string `json:"failed"`
}

type resourcePreEvent struct {
	Metadata struct {
		Op       string `json:"op"`
		URN      string `json:"urn"`
		Type     string `json:"type"`
		Provider string `json:"provider"`
	} `json:"metadata"`
}

type summaryEvent struct {
	// PolicyPacks maps pack keys to versions; see summaryPackName.
	PolicyPacks map[string]string `json:"PolicyPacks"`
	IsPreview   bool              `json:"isPreview"`
	Result      string            `json:"result"`
}

// summaryPackName is the pack a summaryEvent.PolicyPacks entry names: the
// key itself for a pack required by Pulumi Cloud, the part before
// "|local|" for a local pack. ok is false when the entry names no pack: a
// local pack whose analyzer gave no name, or the oldest CLIs' PATH →
// "(local)" form.
func summaryPackName(key, version string) (name string, ok bool) {
	if version == "(local)" {
		return "", false
	}
	if n, rest, found := strings.Cut(key, "|"); found && strings.HasPrefix(rest, "local|") {
		key = n
	}
	return key, key != ""
}

// trimV drops the "v" newer CLIs put before version tags in summaries.
func trimV(v string) string {
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

// normalizeLevel maps the engine's older names of enforcement levels to the
// API's. A level the API does not know (a newer CLI's) becomes "", which the
// server reads as the policy's registered level, else advisory.
func normalizeLevel(level string) string {
	switch level {
	case "warning":
		return "advisory"
	case "none":
		return "disabled"
	case "advisory", "mandatory", "remediate", "disabled":
		return level
	}
	return ""
}

// normalizeSeverity keeps the severities the API knows; any other is unset.
func normalizeSeverity(sev *string) string {
	if sev == nil {
		return ""
	}
	switch *sev {
	case "low", "medium", "high", "critical":
		return *sev
	}
	return ""
}
