package server

import (
	"context"
	"net/http"
	"time"

	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/repository/trends"
)

// GetPolicyResultsTrends answers the organisation's trends over a range of
// days. Any member, viewers included, may read them.
func (s *Server) GetPolicyResultsTrends(ctx context.Context, req api.GetPolicyResultsTrendsRequestObject) (api.GetPolicyResultsTrendsResponseObject, error) {
	a := accessFrom(ctx)
	q := trends.Query{
		From:     req.Body.From.Format(time.DateOnly),
		To:       req.Body.To.Format(time.DateOnly),
		Interval: string(req.Body.Interval),
	}
	if req.Body.GroupBy != nil {
		q.GroupBy = string(*req.Body.GroupBy)
	}
	t, err := s.repo.Trends().Read(ctx, a.Org.ID, q)
	if statusOf(err) == http.StatusBadRequest {
		return api.GetPolicyResultsTrends400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	if err != nil {
		return nil, err
	}
	out := api.GetPolicyResultsTrends200JSONResponse{
		From:          req.Body.From,
		To:            req.Body.To,
		Interval:      api.PolicyResultsTrendsInterval(req.Body.Interval),
		Intervals:     make([]openapi_types.Date, len(t.Intervals)),
		Series:        make([]api.PolicyResultsTrendSeries, len(t.Series)),
		MeanTimeToFix: trendValues(t.MeanTimeToFix),
		Compliance:    trendValues(t.Compliance),
	}
	if req.Body.GroupBy != nil {
		g := api.PolicyResultsTrendsGroupBy(*req.Body.GroupBy)
		out.GroupBy = &g
	}
	for i, day := range t.Intervals {
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return nil, err
		}
		out.Intervals[i] = openapi_types.Date{Time: d}
	}
	for i, s := range t.Series {
		out.Series[i] = api.PolicyResultsTrendSeries{Value: s.Value, ActiveIssues: s.ActiveIssues, Opened: s.Opened,
			Fixed: s.Fixed, Reopened: s.Reopened}
	}
	return out, nil
}

func trendValues(in []trends.Values) []api.PolicyResultsTrendValues {
	out := make([]api.PolicyResultsTrendValues, len(in))
	for i, v := range in {
		values := make([]nullable.Nullable[float64], len(v.Values))
		for j, x := range v.Values {
			if x == nil {
				values[j] = nullable.NewNullNullable[float64]()
			} else {
				values[j] = nullable.NewNullableWithValue(*x)
			}
		}
		out[i] = api.PolicyResultsTrendValues{Name: v.Name, Values: values}
	}
	return out
}
