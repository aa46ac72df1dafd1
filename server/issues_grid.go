package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/issuerows"
)

// parseGrid parses a grid body against a schema; its errors are grid.Errors
// (400s).
func parseGrid(body *grid.Request, schema grid.Schema, opts grid.Options) (*grid.Query, error) {
	var req grid.Request
	if body != nil {
		req = *body
	}
	q, err := grid.Parse(req, schema, opts)
	if err != nil {
		return nil, err
	}
	return q, nil
}

// parseIssueFilter parses a filter model on the issues (facets, batch
// triage); parse errors are 400s.
func parseIssueFilter(filterModel grid.FilterModel) (grid.Node, error) {
	filter, err := grid.ParseFilter(filterModel, issuequery.IssueSchema)
	if err != nil {
		return nil, err
	}
	return filter, nil
}

// parseFacet checks a facet's field and parses its filter; errors are 400s.
func parseFacet(field string, filterModel grid.FilterModel) (grid.Node, error) {
	if _, err := issuequery.IssueSchema.Column(field, "field"); err != nil {
		return nil, err
	}
	return parseIssueFilter(filterModel)
}

// ListPolicyIssues answers the issue grid: a page of issues, or of groups.
func (s *Server) ListPolicyIssues(ctx context.Context, req api.ListPolicyIssuesRequestObject) (api.ListPolicyIssuesResponseObject, error) {
	a := accessFrom(ctx)
	q, err := parseGrid(req.Body, issuequery.IssueSchema, issuequery.IssueGridOptions)
	if statusOf(err) == http.StatusBadRequest {
		return api.ListPolicyIssues400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	if err != nil {
		return nil, err
	}
	page, err := s.repo.Issues.ListIssues(ctx, a.Org.ID, q)
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			return api.ListPolicyIssues400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
		}
		return nil, err
	}
	out := api.ListPolicyIssues200JSONResponse{
		PolicyIssues: make([]api.PolicyIssue, 0, len(page.Issues)),
		GroupData:    page.Groups,
		RowCount:     ptr(int(page.RowCount)),
	}
	if out.GroupData == nil {
		out.GroupData = []map[string]any{}
	}
	for i := range page.Issues {
		out.PolicyIssues = append(out.PolicyIssues, issueToAPI(&page.Issues[i]))
	}
	return out, nil
}

// GetPolicyIssuesFilters answers the values of one field with their counts
// among the issues matching the filter, leaving out the field's own
// conditions (faceted search).
func (s *Server) GetPolicyIssuesFilters(ctx context.Context, req api.GetPolicyIssuesFiltersRequestObject) (api.GetPolicyIssuesFiltersResponseObject, error) {
	a := accessFrom(ctx)
	filterModel, _ := req.Body.FilterModel.Get()
	filter, err := parseFacet(req.Body.Field, filterModel)
	var values []issuequery.FacetValue
	if err == nil {
		values, err = s.repo.Issues.IssueFacets(ctx, a.Org.ID, req.Body.Field, filter)
	}
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			return api.GetPolicyIssuesFilters400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
		}
		return nil, err
	}
	out := api.GetPolicyIssuesFilters200JSONResponse{Field: req.Body.Field, Values: make([]api.PolicyIssueFilterValue, 0, len(values))}
	for _, v := range values {
		out.Values = append(out.Values, api.PolicyIssueFilterValue{Name: v.Name, Count: int(v.Count)})
	}
	return out, nil
}

// exportColumns are the CSV columns: PolicyIssue's field names, in the
// order of the issues' columns (issuerows.Fields).
var exportColumns = slices.Clone(issuerows.Fields)

// exportCells render an issue's fields as CSV cells, by field name;
// assignedTo is the assignee's email.
var exportCells = map[string]func(is *model.Issue) string{
	"id":               func(is *model.Issue) string { return is.ID },
	"entityType":       func(is *model.Issue) string { return is.EntityType },
	"entityProject":    func(is *model.Issue) string { return is.EntityProject },
	"entityId":         func(is *model.Issue) string { return is.EntityID },
	"stackVersion":     func(is *model.Issue) string { return exportVersion(is.StackVersion) },
	"resourceVersion":  func(is *model.Issue) string { return exportVersion(is.ResourceVersion) },
	"policyPack":       func(is *model.Issue) string { return is.PolicyPack },
	"policyPackTag":    func(is *model.Issue) string { return is.PolicyPackTag },
	"policyName":       func(is *model.Issue) string { return is.PolicyName },
	"resourceURN":      func(is *model.Issue) string { return is.ResourceURN },
	"resourceProvider": func(is *model.Issue) string { return is.ResourceProvider },
	"resourceType":     func(is *model.Issue) string { return is.ResourceType },
	"resourceName":     func(is *model.Issue) string { return is.ResourceName },
	"message":          func(is *model.Issue) string { return is.Message },
	"observedAt":       func(is *model.Issue) string { return is.ObservedAt.UTC().Format(time.RFC3339Nano) },
	"lastModified":     func(is *model.Issue) string { return is.LastModified.UTC().Format(time.RFC3339Nano) },
	"level":            func(is *model.Issue) string { return is.Level },
	"severity":         func(is *model.Issue) string { return is.Severity },
	"status":           func(is *model.Issue) string { return is.Status },
	"kind":             func(is *model.Issue) string { return is.Kind },
	"priority":         func(is *model.Issue) string { return is.Priority },
	"assignedTo":       func(is *model.Issue) string { return is.AssigneeEmail },
	"policyGroupName":  func(is *model.Issue) string { return is.PolicyGroupName },
	"policyGroupType":  func(is *model.Issue) string { return is.PolicyGroupType },
	"acceptedUntil": func(is *model.Issue) string {
		if is.AcceptedUntil == nil {
			return ""
		}
		return is.AcceptedUntil.UTC().Format(time.RFC3339Nano)
	},
	"acceptanceReason": func(is *model.Issue) string { return is.AcceptanceReason },
}

// exportRecordCells are exportCells in the order of exportColumns.
var exportRecordCells = func() []func(*model.Issue) string {
	out := make([]func(*model.Issue) string, len(exportColumns))
	for i, c := range exportColumns {
		out[i] = exportCells[c]
	}
	return out
}()

func exportVersion(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

// exportRecord renders an issue as a CSV record.
func exportRecord(is *model.Issue, rec []string) []string {
	rec = rec[:0]
	for _, cell := range exportRecordCells {
		rec = append(rec, neutraliseFormula(cell(is)))
	}
	return rec
}

// neutraliseFormula defuses a cell that a spreadsheet would run as a formula
// (OWASP's CSV injection advice): a leading =, +, -, @, tab or carriage return
// gets a single quote in front.
func neutraliseFormula(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}

// ExportPolicyIssues streams the matching issues as CSV, row by row from the
// database.
func (s *Server) ExportPolicyIssues(ctx context.Context, req api.ExportPolicyIssuesRequestObject) (api.ExportPolicyIssuesResponseObject, error) {
	a := accessFrom(ctx)
	q, err := parseGrid(req.Body, issuequery.IssueSchema, issuequery.IssueExportOptions)
	if statusOf(err) == http.StatusBadRequest {
		return api.ExportPolicyIssues400JSONResponse{BadRequestJSONResponse: api.BadRequestJSONResponse(errorBody(err))}, nil
	}
	if err != nil {
		return nil, err
	}
	// Rows stream through a pipe: the database cursor feeds the CSV writer
	// while the response is written, so memory stays constant.
	pr, pw := io.Pipe()
	go func() {
		// csv.Writer buffers 4 KB; a bigger buffer hands the pipe a
		// tenth as many writes (a goroutine switch each).
		w := csv.NewWriter(bufio.NewWriterSize(pw, exportBuffer))
		err := w.Write(exportColumns)
		rec := make([]string, 0, len(exportColumns))
		if err == nil {
			err = s.repo.Issues.ExportIssues(ctx, a.Org.ID, q, func(is *model.Issue) error {
				return w.Write(exportRecord(is, rec))
			})
		}
		if err == nil {
			w.Flush()
			err = w.Error()
		}
		if err != nil && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, context.Canceled) {
			s.log.ErrorContext(ctx, "export failed", "org", a.Org.Name, "error", err)
		}
		pw.CloseWithError(err)
	}()
	filename := fmt.Sprintf("policy-issues-%s-%s.csv", a.Org.Name, time.Now().UTC().Format("2006-01-02"))
	return csvResponse{body: pr, filename: filename}, nil
}

// exportBuffer is the size of the writes of an export to its response.
const exportBuffer = 64 << 10

// csvResponse writes the export with its charset, which the generated
// response type (media type text/csv) does not name.
type csvResponse struct {
	body     io.ReadCloser
	filename string
}

// VisitExportPolicyIssuesResponse implements api.ExportPolicyIssuesResponseObject.
func (r csvResponse) VisitExportPolicyIssuesResponse(w http.ResponseWriter) error {
	defer r.body.Close()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.filename+`"`)
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, r.body)
	return err
}
