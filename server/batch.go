package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/repository"
)

// BatchUpdatePolicyIssues triages the issues of a selection (ids or a grid
// filter) at once, all or nothing.
func (s *Server) BatchUpdatePolicyIssues(ctx context.Context, req api.BatchUpdatePolicyIssuesRequestObject) (api.BatchUpdatePolicyIssuesResponseObject, error) {
	bad := func(err error) (api.BatchUpdatePolicyIssuesResponseObject, error) {
		return api.BatchUpdatePolicyIssues400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	failed := func(err error) (api.BatchUpdatePolicyIssuesResponseObject, error) {
		if statusOf(err) == http.StatusBadRequest {
			return bad(err)
		}
		return nil, err
	}
	a, err := requireWrite(ctx)
	if err != nil {
		return api.BatchUpdatePolicyIssues403JSONResponse{ForbiddenJSONResponse: api.ForbiddenJSONResponse(errorBody(err))}, nil
	}
	if req.Body == nil {
		return bad(badRequest("a body is required: ids or filterModel, expectedCount and the fields to set"))
	}
	b := req.Body
	u := repository.BatchUpdate{
		ExpectedCount: b.ExpectedCount,
		IssueUpdate:   s.triageOf(b.Status, b.Priority, b.AssignedTo, b.AcceptedUntil, b.AcceptanceReason),
	}
	if b.Ids != nil {
		u.IDs = *b.Ids
		if len(u.IDs) == 0 {
			return bad(badRequest("ids: send 1 to %d issue ids, or filterModel instead", repository.MaxBatchIDs))
		}
	}
	filterModel, err := b.FilterModel.Get()
	u.ByFilter = err == nil
	// A request's other errors are reported before its filter's.
	if err := u.Validate(); err != nil {
		return failed(err)
	}
	if u.ByFilter {
		if u.Filter, err = parseIssueFilter(filterModel); err != nil {
			return failed(err)
		}
	}
	name, actorType := a.Caller.Actor()
	res, err := s.repo.BatchUpdateIssues(ctx, a.Org.ID, repository.Actor{Name: name, Type: actorType}, u)
	var count *repository.BatchCountError
	switch {
	case errors.As(err, &count):
		return api.BatchUpdatePolicyIssues409JSONResponse{Code: http.StatusConflict, Message: count.Error(), Matched: count.Matched}, nil
	case err != nil:
		return failed(err)
	}
	return api.BatchUpdatePolicyIssues200JSONResponse{
		Matched: res.Matched, Changed: res.Changed, Unchanged: res.Unchanged,
		StatusUnchanged: res.StatusUnchanged, BatchId: res.BatchID,
	}, nil
}
