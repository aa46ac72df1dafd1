package servertest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheckResponseRefusesUndeclaredStatuses(t *testing.T) {
	router := specRouter(t)
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string
		ok                 bool
	}{
		{"declared", http.MethodGet, "/readyz", http.StatusOK, `{"status":"ready"}`, true},
		{"declared 503", http.MethodGet, "/readyz", http.StatusServiceUnavailable, `{"status":"unavailable"}`, true},
		{"undeclared 500", http.MethodGet, "/healthz", http.StatusInternalServerError, `{"code":500,"message":"x"}`, false},
		{"undeclared 409", http.MethodGet, "/api/orgs/acme/policyresults/metadata", http.StatusConflict, `{"code":409,"message":"x"}`, false},
		// openapi3filter.ValidateResponse alone lets a redirect through.
		{"undeclared redirect", http.MethodGet, "/healthz", http.StatusTemporaryRedirect, "", false},
		{"HEAD, which no operation declares", http.MethodHead, "/healthz", http.StatusTeapot, "", false},
		{"body off the schema", http.MethodGet, "/readyz", http.StatusOK, `{"state":"ready"}`, false},
		{"unknown route answered 404", http.MethodGet, "/nowhere", http.StatusNotFound, `{"code":404,"message":"x"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://localhost"+tc.path, nil)
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
			if tc.body != "" {
				resp.Header.Set("Content-Type", "application/json")
			}
			err := checkResponse(router, req, resp, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("checkResponse = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
