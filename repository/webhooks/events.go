package webhooks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Causes of an event, as the issue history names them.
const (
	CauseEvaluation = "evaluation"
	CausePerson     = "person"
	CauseBatch      = "batch"
	CauseExpiry     = "expiry"
)

// Changes an event counts, one per issue.
const (
	ChangeOpened   = "opened"
	ChangeReopened = "reopened"
	ChangeFixed    = "fixed"
	ChangeTriaged  = "triaged"
	ChangeExpired  = "expired"
)

// samplesPerGroup bounds the issues an event keeps of each (change,
// severity, level): an evaluation opening 500 issues keeps counts and
// the first few, which is what a message shows.
const samplesPerGroup = 10

// IssueRef is one changed issue as an event lists it.
type IssueRef struct {
	Change     string `json:"change"`
	ID         string `json:"id"`
	Policy     string `json:"policy"`
	PolicyPack string `json:"policyPack"`
	Resource   string `json:"resource"`
	Severity   string `json:"severity"`
	Level      string `json:"level"`
	Status     string `json:"status,omitempty"`
	Priority   string `json:"priority,omitempty"`
	Assignee   string `json:"assignee,omitempty"`
}

// Count is how many issues changed one way at one severity and level.
type Count struct {
	Change   string `json:"change"`
	Severity string `json:"severity"`
	Level    string `json:"level"`
	N        int    `json:"n"`
}

// Event is one cause's issue changes, summarised: the outbox row's data.
type Event struct {
	OrgID        int64  `json:"-"`
	Cause        string `json:"cause"`
	EntityType   string `json:"entityType"`
	Project      string `json:"project"`
	Stack        string `json:"stack"`
	EvaluationID int64  `json:"evaluationId,omitempty"`
	Actor        string `json:"actor,omitempty"`
	// BatchID is set when the cause is a batch.
	BatchID string     `json:"batchId,omitempty"`
	Counts  []Count    `json:"counts"`
	Issues  []IssueRef `json:"issues"`
}

// Add counts one changed issue, keeping it as a sample while its group
// has room.
func (e *Event) Add(ref IssueRef) {
	for i := range e.Counts {
		c := &e.Counts[i]
		if c.Change == ref.Change && c.Severity == ref.Severity && c.Level == ref.Level {
			c.N++
			if c.N <= samplesPerGroup {
				e.Issues = append(e.Issues, ref)
			}
			return
		}
	}
	e.Counts = append(e.Counts, Count{Change: ref.Change, Severity: ref.Severity, Level: ref.Level, N: 1})
	e.Issues = append(e.Issues, ref)
}

// Empty reports whether the event counts no change.
func (e *Event) Empty() bool { return len(e.Counts) == 0 }

// HasActiveHooks reports whether the organisation has an active webhook:
// without one, no event is built nor kept.
func HasActiveHooks(tx *gorm.DB, orgID int64) (bool, error) {
	var active []int64
	if err := tx.Raw("SELECT id FROM webhooks WHERE org_id = ? AND active LIMIT 1", orgID).Scan(&active).Error; err != nil {
		return false, err
	}
	return len(active) > 0, nil
}

// WriteEvent writes e to the outbox in tx, the transaction of the change.
// Callers check HasActiveHooks first: an organisation without an active
// webhook keeps no events.
func WriteEvent(tx *gorm.DB, e *Event) error {
	if e == nil || e.Empty() {
		return nil
	}
	data, err := e.Data()
	if err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO webhook_events (org_id, cause, entity_type, project, stack, evaluation_id, actor, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.OrgID, e.Cause, e.EntityType, e.Project, e.Stack, e.EvaluationID, e.Actor, data,
		time.Now().UTC()).Error
}

// Data is the outbox row's data column: e as JSON.
func (e *Event) Data() (string, error) {
	b, err := json.Marshal(e)
	return string(b), err
}

var severityRank = map[string]int{"": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

// wants reports whether h is sent a change of this kind at this level.
func (h *Hook) wants(change, level string) bool {
	filters, groups := h.FilterList(), h.GroupList()
	if len(filters) == 0 && len(groups) == 0 {
		return true
	}
	has := func(f string) bool { return slices.Contains(filters, f) }
	switch change {
	case ChangeOpened, ChangeReopened:
		if has("policy_issue_" + change) {
			return true
		}
		switch level {
		case "mandatory":
			return has("policy_violation_mandatory") || slices.Contains(groups, "policies")
		case "advisory":
			return has("policy_violation_advisory") || slices.Contains(groups, "policies")
		}
		return false
	case ChangeFixed:
		return has("policy_issue_fixed")
	case ChangeTriaged:
		return has("policy_issue_triaged")
	case ChangeExpired:
		return has("policy_acceptance_expired")
	}
	return false
}

// inScope reports whether an event of e's entity reaches h: an
// organisation hook every entity's, a stack hook its stack's.
func (h *Hook) inScope(e *Event) bool {
	if h.Project == "" && h.Stack == "" {
		return true
	}
	return e.EntityType == "stack" && e.Project == h.Project && e.Stack == h.Stack
}

// forHook is the part of e that h is sent: the counts and issues of the
// changes it wants at its minimum severity or above; nil when none.
func (e *Event) forHook(h *Hook) *Event {
	if !h.inScope(e) {
		return nil
	}
	min := severityRank[h.MinSeverity]
	keep := func(change, severity, level string) bool {
		return severityRank[severity] >= min && h.wants(change, level)
	}
	out := *e
	out.Counts, out.Issues = nil, nil
	for _, c := range e.Counts {
		if keep(c.Change, c.Severity, c.Level) {
			out.Counts = append(out.Counts, c)
		}
	}
	if len(out.Counts) == 0 {
		return nil
	}
	for _, i := range e.Issues {
		if keep(i.Change, i.Severity, i.Level) {
			out.Issues = append(out.Issues, i)
		}
	}
	return &out
}

// Kind is the event's Pulumi-Webhook-Kind.
func (e *Event) Kind() string {
	switch e.Cause {
	case CausePerson, CauseBatch:
		return "policy_issue_triaged"
	case CauseExpiry:
		return "policy_acceptance_expired"
	}
	return "policy_evaluation"
}

// entityName is how messages name the event's entity.
func (e *Event) entityName() string {
	if e.EntityType == "stack" {
		return e.Project + "/" + e.Stack
	}
	if e.Project == "" {
		return "several entities"
	}
	return e.Project
}

// total is the number of changed issues the event counts.
func (e *Event) total() int {
	n := 0
	for _, c := range e.Counts {
		n += c.N
	}
	return n
}

// bySeverity sums the counts of a change by severity, from critical down.
func (e *Event) bySeverity(change string) []Count {
	var out []Count
	for _, sev := range []string{"critical", "high", "medium", "low", ""} {
		n := 0
		for _, c := range e.Counts {
			if c.Change == change && c.Severity == sev {
				n += c.N
			}
		}
		if n > 0 {
			out = append(out, Count{Change: change, Severity: sev, N: n})
		}
	}
	return out
}

// headline is a one-line summary such as "3 issues opened (1 critical, 2 high), 1 fixed".
func (e *Event) headline() string {
	var parts []string
	for _, change := range []string{ChangeOpened, ChangeReopened, ChangeFixed, ChangeTriaged, ChangeExpired} {
		counts := e.bySeverity(change)
		if len(counts) == 0 {
			continue
		}
		n := 0
		var sevs []string
		for _, c := range counts {
			n += c.N
			sev := c.Severity
			if sev == "" {
				sev = "no severity"
			}
			sevs = append(sevs, fmt.Sprintf("%d %s", c.N, sev))
		}
		word := map[string]string{ChangeOpened: "opened", ChangeReopened: "reopened", ChangeFixed: "fixed",
			ChangeTriaged: "triaged", ChangeExpired: "with an expired acceptance"}[change]
		parts = append(parts, fmt.Sprintf("%d %s %s (%s)", n, plural(n, "issue"), word, strings.Join(sevs, ", ")))
	}
	return strings.Join(parts, "; ")
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
