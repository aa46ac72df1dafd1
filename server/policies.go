package server

import (
	"context"
	"net/http"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository/compliance"
)

// ListPoliciesCompliance answers per-policy compliance rows, filtered, sorted
// and paged like the issue grid.
func (s *Server) ListPoliciesCompliance(ctx context.Context, req api.ListPoliciesComplianceRequestObject) (api.ListPoliciesComplianceResponseObject, error) {
	a := accessFrom(ctx)
	body := *req.Body
	token := ""
	if body.ContinuationToken != nil {
		token = *body.ContinuationToken
	}
	if token != "" {
		// A continuing page is as long as the rows asked for; where it
		// starts is the token's (the repository reads it).
		size := grid.DefaultPageSize
		if body.StartRow != nil && body.EndRow != nil && *body.EndRow > *body.StartRow {
			size = *body.EndRow - *body.StartRow
		}
		body.StartRow, body.EndRow = ptr(0), ptr(size)
	}
	body.ContinuationToken = nil
	q, err := parseGrid(&body, compliance.PolicySchema, compliance.PolicyGridOptions)
	if err == nil {
		var page *compliance.PolicyPage
		page, err = s.repo.Compliance.Policies(ctx, a.Org.ID, q, token)
		if err == nil {
			out := api.ListPoliciesCompliance200JSONResponse{
				Policies:   make([]api.PolicyComplianceRow, 0, len(page.Rows)),
				TotalCount: ptr(int(page.TotalCount)),
			}
			for _, r := range page.Rows {
				out.Policies = append(out.Policies, api.PolicyComplianceRow{
					PolicyName:        r.PolicyName,
					Severity:          api.PolicySeverity(r.Severity),
					FailingResources:  int(r.FailingResources),
					GovernedResources: int(r.GovernedResources),
					PercentCompliant:  int(r.PercentCompliant),
					PolicyPack:        r.PolicyPack,
					PolicyGroupName:   r.PolicyGroupName,
					PolicyGroupType:   api.PolicyGroupMode(r.PolicyGroupType),
				})
			}
			if page.Next != "" {
				out.ContinuationToken = ptr(page.Next)
			}
			return out, nil
		}
	}
	if statusOf(err) == http.StatusBadRequest {
		return api.ListPoliciesCompliance400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	return nil, err
}
