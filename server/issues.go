package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
)

// issueToAPI maps a stored issue to the API's PolicyIssue.
func issueToAPI(is *model.Issue) api.PolicyIssue {
	out := api.PolicyIssue{
		Id:               uuid.MustParse(is.ID),
		EntityType:       api.PolicyIssueEntityType(is.EntityType),
		EntityProject:    is.EntityProject,
		EntityId:         is.EntityID,
		PolicyPack:       is.PolicyPack,
		PolicyPackTag:    is.PolicyPackTag,
		PolicyName:       is.PolicyName,
		ResourceURN:      is.ResourceURN,
		ResourceProvider: is.ResourceProvider,
		ResourceType:     is.ResourceType,
		ResourceName:     is.ResourceName,
		ObservedAt:       is.ObservedAt.UTC(),
		Level:            is.Level,
		Severity:         api.PolicySeverity(is.Severity),
		Status:           api.PolicyIssueStatus(is.Status),
		Kind:             api.PolicyIssueKind(is.Kind),
		Priority:         api.PolicyIssuePriority(is.Priority),
	}
	lm := is.LastModified.UTC()
	out.LastModified = &lm
	msg := is.Message
	out.Message = &msg
	if is.StackVersion != nil {
		v := int(*is.StackVersion)
		out.StackVersion = &v
	}
	if is.ResourceVersion != nil {
		v := int(*is.ResourceVersion)
		out.ResourceVersion = &v
	}
	if is.PolicyGroupName != "" {
		name := is.PolicyGroupName
		out.PolicyGroupName = &name
	}
	if is.PolicyGroupType != "" {
		t := api.PolicyGroupMode(is.PolicyGroupType)
		out.PolicyGroupType = &t
	}
	if is.AssigneeLogin != "" {
		email := is.AssigneeEmail
		out.AssignedTo.Set(api.UserInfo{Name: is.AssigneeLogin, GithubLogin: is.AssigneeLogin, AvatarUrl: "", Email: &email})
	}
	if is.AcceptedUntil != nil {
		until, reason := is.AcceptedUntil.UTC(), is.AcceptanceReason
		out.AcceptedUntil, out.AcceptanceReason = &until, &reason
	}
	return out
}

// parseIssueID checks the issueId path parameter: a UUID in its
// 36-character form, as openapi.yaml's format uuid says (uuid.Parse also
// takes braces, a urn:uuid: prefix or no hyphens).
func parseIssueID(s string) (string, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", badRequest("issueId must be a UUID, got %q", s)
	}
	return id.String(), nil
}

// issueDetails builds GetPolicyIssueResponse: the issue with its policy and
// pack from the registered pack version, when known.
func issueDetails(a *accounts.Access, d *repository.IssueDetails) api.GetPolicyIssueResponse {
	resp := api.GetPolicyIssueResponse{PolicyIssue: issueToAPI(&d.Issue)}
	resp.Policy.SetNull()
	resp.PolicyPack.SetNull()
	if d.Version == nil {
		return resp
	}
	if d.Policy != nil {
		resp.Policy.Set(policyToAPI(d.Policy))
	}
	resp.PolicyPack.Set(registryPackToAPI(*a, registryPackOf(d.Pack, d.Version)))
	return resp
}

// enforcementLevelsFor lists the enforcement levels a role may apply.
func enforcementLevelsFor(role model.Role) []string {
	if role == model.RoleAdmin {
		return []string{"advisory", "mandatory", "remediate", "disabled"}
	}
	return []string{}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// GetPolicyIssue returns one issue with its policy and pack.
func (s *Server) GetPolicyIssue(ctx context.Context, req api.GetPolicyIssueRequestObject) (api.GetPolicyIssueResponseObject, error) {
	a := accessFrom(ctx)
	id, err := parseIssueID(req.IssueId)
	if err != nil {
		return api.GetPolicyIssue400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	d, err := s.repo.IssueDetailsByID(ctx, a.Org.ID, id)
	if statusOf(err) == http.StatusNotFound {
		return api.GetPolicyIssue404JSONResponse{NotFoundJSONResponse: issueNotFound(id)}, nil
	}
	if err != nil {
		return nil, err
	}
	return api.GetPolicyIssue200JSONResponse{Body: issueDetails(a, d), Headers: api.GetPolicyIssue200ResponseHeaders{ETag: ptr(d.Issue.ETag())}}, nil
}

func issueNotFound(id string) api.NotFoundJSONResponse {
	return api.NotFoundJSONResponse{Code: http.StatusNotFound, Message: fmt.Sprintf("Policy issue %s not found", id)}
}

// UpdatePolicyIssue triages an issue: status, priority, assignee.
func (s *Server) UpdatePolicyIssue(ctx context.Context, req api.UpdatePolicyIssueRequestObject) (api.UpdatePolicyIssueResponseObject, error) {
	a, err := requireWrite(ctx)
	if err != nil {
		return api.UpdatePolicyIssue403JSONResponse{ForbiddenJSONResponse: api.ForbiddenJSONResponse(errorBody(err))}, nil
	}
	id, err := parseIssueID(req.IssueId)
	if err != nil {
		return api.UpdatePolicyIssue400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	u := repository.IssueUpdate{Now: s.now(), MaxAcceptance: s.maxAcceptance}
	if b := req.Body; b != nil {
		u = s.triageOf(b.Status, b.Priority, b.AssignedTo, b.AcceptedUntil, b.AcceptanceReason)
	}
	if req.Params.IfMatch != nil && strings.TrimSpace(*req.Params.IfMatch) != "*" {
		rev, ok := model.ParseETag(*req.Params.IfMatch)
		if !ok {
			rev = -1 // matches no revision: answered 412 below
		}
		u.IfRevision = &rev
	}
	name, actorType := a.Caller.Actor()
	d, err := s.repo.UpdateIssue(ctx, a.Org.ID, id, repository.Actor{Name: name, Type: actorType}, u)
	switch statusOf(err) {
	case http.StatusNotFound:
		return api.UpdatePolicyIssue404JSONResponse{NotFoundJSONResponse: issueNotFound(id)}, nil
	case http.StatusPreconditionFailed:
		return api.UpdatePolicyIssue412JSONResponse{PreconditionFailedJSONResponse: api.PreconditionFailedJSONResponse{
			Code: http.StatusPreconditionFailed, Message: "Precondition failed: the issue changed since the ETag in If-Match; GET it again and retry"}}, nil
	case http.StatusBadRequest:
		return api.UpdatePolicyIssue400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	if err != nil {
		return nil, err
	}
	return api.UpdatePolicyIssue200JSONResponse{Body: issueDetails(a, d), Headers: api.UpdatePolicyIssue200ResponseHeaders{ETag: ptr(d.Issue.ETag())}}, nil
}

// ListPolicyIssueHistory lists an issue's changes, newest first.
func (s *Server) ListPolicyIssueHistory(ctx context.Context, req api.ListPolicyIssueHistoryRequestObject) (api.ListPolicyIssueHistoryResponseObject, error) {
	a := accessFrom(ctx)
	id, err := parseIssueID(req.IssueId)
	if err != nil {
		return api.ListPolicyIssueHistory400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	entries, err := s.repo.IssueHistory(ctx, a.Org.ID, id)
	if statusOf(err) == http.StatusNotFound {
		return api.ListPolicyIssueHistory404JSONResponse{NotFoundJSONResponse: issueNotFound(id)}, nil
	}
	if err != nil {
		return nil, err
	}
	out := api.ListPolicyIssueHistory200JSONResponse{Entries: make([]api.PolicyIssueHistoryEntry, 0, len(entries))}
	for _, e := range entries {
		entry := api.PolicyIssueHistoryEntry{
			Id:        int(e.ID),
			At:        e.At.UTC(),
			Actor:     e.Actor,
			ActorType: api.PolicyIssueHistoryEntryActorType(e.ActorType),
			Field:     e.Field,
		}
		if e.OldValue != nil {
			entry.OldValue.Set(*e.OldValue)
		} else {
			entry.OldValue.SetNull()
		}
		if e.NewValue != nil {
			entry.NewValue.Set(*e.NewValue)
		} else {
			entry.NewValue.SetNull()
		}
		entry.BatchId, entry.Reason = e.BatchID, e.Reason
		out.Entries = append(out.Entries, entry)
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// triageOf is the change the triage fields of a PATCH or a batch ask for,
// at the server's time and within its bound on acceptances.
func (s *Server) triageOf(status *api.PolicyIssueStatus, priority *api.PolicyIssuePriority, assignee nullable.Nullable[string],
	until nullable.Nullable[time.Time], reason *string) repository.IssueUpdate {
	u := repository.IssueUpdate{
		Assignee: assigneeOf(assignee), Acceptance: acceptanceOf(until, reason),
		Now: s.now(), MaxAcceptance: s.maxAcceptance,
	}
	if status != nil {
		v := string(*status)
		u.Status = &v
	}
	if priority != nil {
		v := string(*priority)
		u.Priority = &v
	}
	return u
}

// assigneeOf reads assignedTo: nil when not sent, "" to unassign.
func assigneeOf(v nullable.Nullable[string]) *string {
	if !v.IsSpecified() {
		return nil
	}
	s := ""
	if !v.IsNull() {
		s = v.MustGet()
	}
	return &s
}

// acceptanceOf reads acceptedUntil and acceptanceReason: nil when neither
// is sent, an acceptance without an end to end one.
func acceptanceOf(until nullable.Nullable[time.Time], reason *string) *repository.Acceptance {
	if !until.IsSpecified() && reason == nil {
		return nil
	}
	a := &repository.Acceptance{}
	if until.IsSpecified() && !until.IsNull() {
		t := until.MustGet()
		a.Until = &t
	}
	if reason != nil {
		a.Reason = *reason
	}
	return a
}
