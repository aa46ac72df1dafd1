package webhooks

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// issuesPerMessage bounds the issues a message lists; the counts cover
// every issue.
const issuesPerMessage = 20

// RawPayload is the body of a `raw` webhook (docs/webhooks.md).
type RawPayload struct {
	Kind         string          `json:"kind"`
	Cause        string          `json:"cause"`
	Organization RawOrganization `json:"organization"`
	User         *RawUser        `json:"user,omitempty"`
	ProjectName  string          `json:"projectName,omitempty"`
	StackName    string          `json:"stackName,omitempty"`
	Entity       RawEntity       `json:"entity"`
	Evaluation   *RawEvaluation  `json:"evaluation,omitempty"`
	BatchID      string          `json:"batchId,omitempty"`
	Summary      string          `json:"summary"`
	Counts       []Count         `json:"counts"`
	Total        int             `json:"total"`
	Issues       []RawIssue      `json:"issues"`
	IssuesURL    string          `json:"issuesUrl,omitempty"`
	Timestamp    int64           `json:"timestamp"`
}

// RawOrganization names the organisation, as Pulumi's payloads do.
type RawOrganization struct {
	Name        string `json:"name"`
	GithubLogin string `json:"githubLogin"`
}

// RawUser is who caused the event: a person's login, or "policyresults".
type RawUser struct {
	GithubLogin string `json:"githubLogin"`
}

// RawEntity is the stack or Insights account of the event.
type RawEntity struct {
	Type    string `json:"type"`
	Project string `json:"project,omitempty"`
	Name    string `json:"name,omitempty"`
}

// RawEvaluation is the evaluation that caused the event.
type RawEvaluation struct {
	ID int64 `json:"id"`
}

// RawIssue is one changed issue with its console link.
type RawIssue struct {
	IssueRef
	URL string `json:"url,omitempty"`
}

// render builds the body of e for a hook of the given format. consoleURL
// is the server's external URL ("" leaves links out).
func render(format, org, consoleURL string, e *Event, now time.Time) ([]byte, error) {
	link := func(id string) string {
		if consoleURL == "" {
			return ""
		}
		return consoleURL + "/issues/" + url.PathEscape(id) + "?org=" + url.QueryEscape(org)
	}
	issuesURL := ""
	if consoleURL != "" {
		issuesURL = consoleURL + "/issues?org=" + url.QueryEscape(org)
	}
	issues := make([]RawIssue, 0, min(len(e.Issues), issuesPerMessage))
	for _, i := range e.Issues[:min(len(e.Issues), issuesPerMessage)] {
		issues = append(issues, RawIssue{IssueRef: i, URL: link(i.ID)})
	}
	title := fmt.Sprintf("[%s] %s: %s", org, e.entityName(), e.headline())
	switch format {
	case "slack":
		return slackMessage(title, issues, issuesURL, e.total())
	case "ms_teams":
		return teamsMessage(title, issues, issuesURL, e.total())
	}
	p := RawPayload{
		Kind: e.Kind(), Cause: e.Cause, Organization: RawOrganization{Name: org, GithubLogin: org},
		Entity:  RawEntity{Type: e.EntityType, Project: e.Project, Name: e.Stack},
		BatchID: e.BatchID, Summary: title, Counts: e.Counts, Total: e.total(), Issues: issues, IssuesURL: issuesURL,
		Timestamp: now.Unix(),
	}
	if e.Actor != "" {
		p.User = &RawUser{GithubLogin: e.Actor}
	}
	if e.EntityType == "stack" {
		p.ProjectName, p.StackName = e.Project, e.Stack
	}
	if e.EvaluationID != 0 {
		p.Evaluation = &RawEvaluation{ID: e.EvaluationID}
	}
	return json.Marshal(p)
}

// issueLine is one issue in a chat message.
func issueLine(i RawIssue, linkf func(text, url string) string) string {
	sev := i.Severity
	if sev == "" {
		sev = "no severity"
	}
	text := fmt.Sprintf("%s %s: %s on %s (%s, %s)", i.Change, i.PolicyPack, i.Policy, i.Resource, sev, i.Level)
	if i.URL != "" {
		return linkf(text, i.URL)
	}
	return text
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func slackMessage(title string, issues []RawIssue, issuesURL string, total int) ([]byte, error) {
	var lines []string
	for _, i := range issues {
		lines = append(lines, "• "+issueLine(i, func(text, u string) string { return "<" + u + "|" + slackEscape(text) + ">" }))
	}
	if more := total - len(issues); more > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more", more))
	}
	blocks := []map[string]any{
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*" + slackEscape(title) + "*"}},
	}
	if len(lines) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": strings.Join(lines, "\n")}})
	}
	if issuesURL != "" {
		blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{
			{"type": "mrkdwn", "text": "<" + issuesURL + "|Open the issues in policyresults>"}}})
	}
	return json.Marshal(map[string]any{"text": title, "blocks": blocks})
}

// teamsEscape keeps text from being read as Markdown by Teams.
func teamsEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;").Replace(s)
}

func teamsMessage(title string, issues []RawIssue, issuesURL string, total int) ([]byte, error) {
	var lines []string
	for _, i := range issues {
		lines = append(lines, "- "+issueLine(i, func(text, u string) string { return "[" + teamsEscape(text) + "](" + u + ")" }))
	}
	if more := total - len(issues); more > 0 {
		lines = append(lines, fmt.Sprintf("- …and %d more", more))
	}
	card := map[string]any{
		"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": title, "themeColor": "8A3391",
		"title": teamsEscape(title), "text": strings.Join(lines, "\n"),
	}
	if issuesURL != "" {
		card["potentialAction"] = []map[string]any{{"@type": "OpenUri", "name": "Open the issues in policyresults",
			"targets": []map[string]any{{"os": "default", "uri": issuesURL}}}}
	}
	return json.Marshal(card)
}

// pingPayload is the body of a ping, in the webhook's format.
func pingPayload(format string, now time.Time) ([]byte, error) {
	const msg = "Just a friendly ping from policyresults"
	switch format {
	case "slack":
		return json.Marshal(map[string]any{"text": msg})
	case "ms_teams":
		return json.Marshal(map[string]any{"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": msg, "text": msg})
	}
	return json.Marshal(map[string]any{"timestamp": now.Unix(), "message": msg})
}
