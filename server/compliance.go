package server

import (
	"context"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/compliance"
)

// GetPolicyComplianceResults answers one page of the compliance matrix.
func (s *Server) GetPolicyComplianceResults(ctx context.Context, req api.GetPolicyComplianceResultsRequestObject) (api.GetPolicyComplianceResultsResponseObject, error) {
	a := accessFrom(ctx)
	// The repository checks the size (0: its default) and the token.
	size, token := 0, ""
	if req.Body.Size != nil {
		size = *req.Body.Size
	}
	if req.Body.ContinuationToken != nil {
		token = *req.Body.ContinuationToken
	}
	m, err := s.repo.Compliance.Matrix(ctx, a.Org.ID, compliance.Entity(req.Body.Entity), size, token)
	if statusOf(err) == http.StatusBadRequest {
		return api.GetPolicyComplianceResults400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	if err != nil {
		return nil, err
	}
	out := api.GetPolicyComplianceResults200JSONResponse{Columns: m.Columns, Rows: make([]api.PolicyComplianceResult, 0, len(m.Rows))}
	for _, r := range m.Rows {
		out.Rows = append(out.Rows, api.PolicyComplianceResult{EntityName: r.EntityName, Scores: r.Scores})
	}
	if m.Next != "" {
		out.ContinuationToken = ptr(m.Next)
	}
	return out, nil
}

// GetPolicyResultsMetadata answers the organisation's totals.
func (s *Server) GetPolicyResultsMetadata(ctx context.Context, _ api.GetPolicyResultsMetadataRequestObject) (api.GetPolicyResultsMetadataResponseObject, error) {
	a := accessFrom(ctx)
	md, err := s.repo.Compliance.Metadata(ctx, a.Org.ID)
	if err != nil {
		return nil, err
	}
	counts := func(in []compliance.NameCount) *[]api.PolicyResultsCount {
		out := make([]api.PolicyResultsCount, 0, len(in))
		for _, c := range in {
			out = append(out, api.PolicyResultsCount{Name: c.Name, Count: int(c.Count)})
		}
		return &out
	}
	return api.GetPolicyResultsMetadata200JSONResponse{
		PolicyTotalCount:               int(md.PolicyTotalCount),
		PolicyWithIssuesCount:          int(md.PolicyWithIssuesCount),
		ResourcesTotalCount:            int(md.ResourcesTotalCount),
		ResourcesWithIssuesCount:       int(md.ResourcesWithIssuesCount),
		ActiveIssuesBySeverity:         counts(md.ActiveBySeverity),
		ActiveIssuesByEnforcementLevel: counts(md.ActiveByLevel),
		ActiveIssuesByKind:             counts(md.ActiveByKind),
	}, nil
}

// ListPolicyViolationsV2 answers the deprecated list of current violations.
func (s *Server) ListPolicyViolationsV2(ctx context.Context, req api.ListPolicyViolationsV2RequestObject) (api.ListPolicyViolationsV2ResponseObject, error) {
	a := accessFrom(ctx)
	token := ""
	if req.Params.ContinuationToken != nil {
		token = *req.Params.ContinuationToken
	}
	issues, next, err := s.repo.Compliance.Violations(ctx, a.Org.ID, token)
	if statusOf(err) == http.StatusBadRequest {
		return api.ListPolicyViolationsV2400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	if err != nil {
		return nil, err
	}
	body := api.ListPolicyViolationsV2Response{PolicyViolations: make([]api.PolicyViolationV2, 0, len(issues))}
	for i := range issues {
		body.PolicyViolations = append(body.PolicyViolations, violationToAPI(&issues[i]))
	}
	if next != "" {
		body.ContinuationToken = ptr(next)
	}
	return api.ListPolicyViolationsV2200JSONResponse{
		Body: body,
		Headers: api.ListPolicyViolationsV2200ResponseHeaders{
			Deprecation: ptr("true"),
			Link:        ptr(`</api/orgs/` + url.PathEscape(a.Org.Name) + `/policyresults/issues>; rel="successor-version"`),
		},
	}, nil
}

// violationToAPI maps an issue to the deprecated PolicyViolationV2 shape.
func violationToAPI(is *model.Issue) api.PolicyViolationV2 {
	v := api.PolicyViolationV2{
		Id:            uuid.MustParse(is.ID),
		Kind:          api.PolicyIssueKind(is.Kind),
		Level:         is.Level,
		Message:       is.Message,
		ObservedAt:    is.ObservedAt.UTC(),
		PolicyName:    is.PolicyName,
		PolicyPack:    is.PolicyPack,
		PolicyPackTag: is.PolicyPackTag,
		ProjectName:   is.EntityProject,
		ResourceName:  is.ResourceName,
		ResourceType:  is.ResourceType,
		ResourceURN:   is.ResourceURN,
	}
	if is.EntityType == "stack" {
		v.StackName = ptr(is.EntityID)
		if is.StackVersion != nil {
			v.StackVersion = ptr(int(*is.StackVersion))
		}
	} else {
		v.AccountName = ptr(is.EntityProject)
		if is.ResourceVersion != nil {
			v.ResourceVersion = ptr(int(*is.ResourceVersion))
		}
	}
	return v
}
