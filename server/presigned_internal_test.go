package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	echomiddleware "github.com/oapi-codegen/echo-middleware"
	"github.com/policyresults/policyresults/repository/accounts"
)

// TestAuthorizeSchemeAcceptsPresignedOnlyForTheArchive checks the request
// validator's security check: a verified presigned credential satisfies
// the PresignedUpload scheme on UploadPolicyPackArchive only, and the
// PulumiToken scheme needs an authenticated caller.
func TestAuthorizeSchemeAcceptsPresignedOnlyForTheArchive(t *testing.T) {
	check := func(scheme, operation string, grant bool, caller bool) error {
		req := httptest.NewRequest(http.MethodPut, "/", nil)
		ctx := req.Context()
		if grant {
			ctx = withUploadGrant(ctx, &uploadGrant{orgID: 1, credential: "upl-x"})
		}
		if caller {
			ctx = withCaller(ctx, &accounts.Caller{TokenID: 1})
		}
		c := echo.New().NewContext(req.WithContext(ctx), httptest.NewRecorder())
		in := &openapi3filter.AuthenticationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Route: &routers.Route{Operation: &openapi3.Operation{OperationID: operation}},
			},
			SecuritySchemeName: scheme,
		}
		return authorizeScheme(context.WithValue(context.Background(), echomiddleware.EchoContextKey, c), in)
	}
	for _, tc := range []struct {
		scheme, operation string
		grant, caller     bool
		ok                bool
	}{
		{"PresignedUpload", archiveOperation, true, false, true},
		{"PresignedUpload", "CompletePolicyPack", true, false, false},
		{"PresignedUpload", "CreatePolicyPack", true, false, false},
		{"PresignedUpload", archiveOperation, false, true, false},
		{"PulumiToken", archiveOperation, true, false, false},
		{"PulumiToken", "CreatePolicyPack", false, true, true},
		{"PulumiToken", "CreatePolicyPack", false, false, false},
		{"SomethingElse", archiveOperation, true, true, false},
	} {
		if err := check(tc.scheme, tc.operation, tc.grant, tc.caller); (err == nil) != tc.ok {
			t.Errorf("%s on %s (grant %v, caller %v): %v, want ok %v", tc.scheme, tc.operation, tc.grant, tc.caller, err, tc.ok)
		}
	}
}
