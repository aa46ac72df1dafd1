// Package grid parses AG Grid server-side row model requests (filter model,
// sort model, paging, row grouping) into one validated, typed Query, checked
// against a Schema: an allowlist of column ids with their kinds.
//
// The package knows nothing of databases: the repository translates a Query
// to SQL. Every column a Query references is a column id of the Schema it was
// parsed with, and every value is typed for its column, so a translator only
// ever writes its own expressions of those columns and binds the values.
package grid

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Request is an AG Grid server-side row model request as clients send it:
// openapi.yaml's AngularGridGetRowsRequest, which the generated server and
// client use as is. Every field is optional.
type Request struct {
	// StartRow is the first row, inclusive (default 0).
	StartRow *int `json:"startRow,omitempty"`
	// EndRow is the last row, exclusive (default StartRow + the page size).
	EndRow *int `json:"endRow,omitempty"`
	// RowGroupCols are the grouped columns, outermost first.
	RowGroupCols []Column `json:"rowGroupCols,omitempty"`
	// ValueCols are the aggregates computed for each group.
	ValueCols []Column `json:"valueCols,omitempty"`
	// GroupKeys are the keys of the expanded groups, one per level.
	GroupKeys []string `json:"groupKeys,omitempty"`
	// FilterModel is the filter model in any of the accepted shapes (see
	// ParseFilter); null or absent means no filter.
	FilterModel FilterModel `json:"filterModel,omitempty"`
	// SortModel lists the sort keys; null or empty means the default order.
	SortModel []SortItem `json:"sortModel,omitempty"`
	// ContinuationToken, beyond AG Grid, continues a paged listing where
	// the previous page ended (per-policy compliance only); Parse ignores
	// it.
	ContinuationToken *string `json:"continuationToken,omitempty"`
}

// FilterModel is a filter model as clients send it (openapi.yaml's
// AngularGridAdvancedFilterModel), kept as JSON for ParseFilter, which
// accepts more shapes than one Go type describes.
type FilterModel = json.RawMessage

// Column is a grouped or aggregated column of a Request.
type Column struct {
	// ID is the column id (a Schema key).
	ID string `json:"id"`
	// DisplayName is the column's title; informative only.
	DisplayName string `json:"displayName,omitempty"`
	// Field is the row field; used as the column id when ID is empty.
	Field string `json:"field,omitempty"`
	// AggFunc is the aggregate of a value column: count, min or max.
	AggFunc string `json:"aggFunc,omitempty"`
}

// SortItem is one key of the sort model.
type SortItem struct {
	// ColID is the column id (a Schema key).
	ColID string `json:"colId"`
	// Sort is "asc" or "desc".
	Sort string `json:"sort"`
}

// DecodeRequest decodes a JSON request body. Unknown fields are ignored, as
// AG Grid sends more than the server needs (pivotCols, pivotMode, ...); an
// empty body is an empty request.
func DecodeRequest(body []byte) (Request, error) {
	var req Request
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return Request{}, &Error{Field: "body", Message: fmt.Sprintf("invalid grid request: %v", err)}
	}
	return req, nil
}
