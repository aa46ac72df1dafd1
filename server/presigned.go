package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	echomiddleware "github.com/oapi-codegen/echo-middleware"
)

// Pack archives are uploaded to a presigned URL of this server, as Pulumi
// Cloud answers a presigned object storage URL: the `pulumi` CLI sends no
// token there. The credential rides in the URL's query (it is what a
// presigned URL is); the request log records the path only.
const (
	// archiveRoute is UploadPolicyPackArchive's route, the one operation a
	// presigned credential authorizes.
	archiveRoute = "/api/orgs/:orgName/policypacks/:policyPackName/versions/:version/archive"
	// archiveOperation is its operation id.
	archiveOperation = "UploadPolicyPackArchive"
	// credentialParam is the upload URL's query parameter that carries the
	// credential (openapi.yaml's PresignedUpload scheme).
	credentialParam = "credential"
	// uploadURLLifetime is how long an upload URL is valid, as long as the
	// presigned object storage URLs Pulumi Cloud answers.
	uploadURLLifetime = time.Hour
)

// uploadGrant is a presigned upload the authenticate middleware verified:
// the organisation it is for and the credential, which the handler checks
// again in the transaction that stores the archive.
type uploadGrant struct {
	orgID      int64
	credential string
}

func withUploadGrant(ctx context.Context, g *uploadGrant) context.Context {
	return context.WithValue(ctx, uploadGrantKey, g)
}

func uploadGrantFrom(ctx context.Context) *uploadGrant {
	g, _ := ctx.Value(uploadGrantKey).(*uploadGrant)
	return g
}

// uploadURL is the presigned URL of a pack version's archive upload.
func (s *Server) uploadURL(ctx context.Context, org, pack string, version int, credential string) string {
	return fmt.Sprintf("%s/api/orgs/%s/policypacks/%s/versions/%d/archive?%s", s.externalURL(ctx),
		url.PathEscape(org), url.PathEscape(pack), version, url.Values{credentialParam: {credential}}.Encode())
}

// presignedUpload reports whether a request without a token presents a
// presigned credential on the archive route, the only one that takes it.
func presignedUpload(c echo.Context) (string, bool) {
	if c.Path() != archiveRoute || c.Request().Method != http.MethodPut {
		return "", false
	}
	credential := c.QueryParam(credentialParam)
	return credential, credential != ""
}

// authorizeUpload verifies a presigned upload's credential against the
// pack version its path names before the body is read: 403 in Pulumi's
// error body when it does not authorize the upload.
func (s *Server) authorizeUpload(c echo.Context, credential string) (context.Context, error) {
	req := c.Request()
	version, err := strconv.Atoi(c.Param("version"))
	if err != nil {
		version = 0
	}
	orgName, pack := c.Param("orgName"), c.Param("policyPackName")
	if u, err := url.PathUnescape(orgName); err == nil {
		orgName = u
	}
	if u, err := url.PathUnescape(pack); err == nil {
		pack = u
	}
	orgID, err := s.repo.Packs.AuthorizeArchiveUpload(req.Context(), orgName, pack, version, credential, s.now())
	if err != nil {
		return nil, err
	}
	c.Set("org", orgName)
	return withUploadGrant(req.Context(), &uploadGrant{orgID: orgID, credential: credential}), nil
}

// authorizeScheme is the request validator's check of an operation's
// security requirements (openapi.yaml): the authenticate middleware has
// verified the token or the presigned credential already; this accepts each
// scheme only where the operation lists it, so that a presigned credential
// authorizes UploadPolicyPackArchive and nothing else.
func authorizeScheme(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	c := echomiddleware.GetEchoContext(ctx)
	if c == nil {
		return errors.New("no request")
	}
	reqCtx := c.Request().Context()
	switch in.SecuritySchemeName {
	case "PulumiToken":
		if callerFrom(reqCtx) != nil {
			return nil
		}
	case "PresignedUpload":
		route := in.RequestValidationInput.Route
		if uploadGrantFrom(reqCtx) != nil && route != nil && route.Operation != nil && route.Operation.OperationID == archiveOperation {
			return nil
		}
	}
	return fmt.Errorf("the request does not satisfy security scheme %s", in.SecuritySchemeName)
}
