package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
)

type contextKey int

const (
	callerKey contextKey = iota
	accessKey
	requestBaseKey
	uploadGrantKey
)

// withCaller and callerFrom carry the authenticated caller in the request
// context, for the strict handlers.
func withCaller(ctx context.Context, c *accounts.Caller) context.Context {
	return context.WithValue(ctx, callerKey, c)
}

func callerFrom(ctx context.Context) *accounts.Caller {
	c, _ := ctx.Value(callerKey).(*accounts.Caller)
	return c
}

func withAccess(ctx context.Context, a *accounts.Access) context.Context {
	return context.WithValue(ctx, accessKey, a)
}

// accessFrom returns the caller's access to the organisation in the path.
// The auth middleware sets it for every route with an {orgName} or a
// registry {publisher}.
func accessFrom(ctx context.Context) *accounts.Access {
	a, _ := ctx.Value(accessKey).(*accounts.Access)
	return a
}

// publicPaths need no token.
var publicPaths = map[string]bool{
	"/healthz":                      true,
	"/readyz":                       true,
	"/openapi.yaml":                 true,
	"/api/openapi/pulumi-spec.json": true,
	"/metrics":                      true,
	"/docs":                         true,
}

// tokenFromHeader reads "Authorization: token <token>" (Pulumi's form;
// "Bearer <token>" is accepted too).
func tokenFromHeader(h string) string {
	scheme, value, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return strings.TrimSpace(value)
	}
	return ""
}

// authenticate checks the token of every request but the public ones, then
// resolves the {orgName} (or registry {publisher}) of the path for the caller: 401 without a valid
// token, 404 "Organization not found" when the caller is not a member. An
// archive upload without a token may present a presigned credential
// instead (authorizeUpload).
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		path := c.Path()
		if publicPaths[path] || path == "" || strings.HasPrefix(path, "/docs/") || consoleRoutes[path] {
			return next(c)
		}
		req := c.Request()
		ctx := req.Context()
		secret := tokenFromHeader(req.Header.Get(echo.HeaderAuthorization))
		if credential, ok := presignedUpload(c); ok && secret == "" {
			uploadCtx, err := s.authorizeUpload(c, credential)
			if err != nil {
				return err
			}
			c.SetRequest(req.WithContext(context.WithValue(uploadCtx, requestBaseKey, c.Scheme()+"://"+req.Host)))
			return next(c)
		}
		if secret == "" {
			return &apiError{status: http.StatusUnauthorized, message: "Unauthorized: no token; send the header 'Authorization: token <token>'"}
		}
		unauthorized := &apiError{status: http.StatusUnauthorized, message: "Unauthorized: the token is invalid, expired or revoked"}
		// The registry's paths name the organisation as the publisher.
		orgName := c.Param("orgName")
		if orgName == "" {
			orgName = c.Param("publisher")
		}
		if orgName != "" {
			access, err := s.repo.Accounts.AuthenticateIn(ctx, secret, orgName)
			switch {
			case errors.Is(err, accounts.ErrUnauthenticated):
				return unauthorized
			case errors.Is(err, repository.ErrNotFound):
				return notFound("Organization not found")
			case err != nil:
				return err
			}
			ctx = withAccess(withCaller(ctx, access.Caller), access)
			c.Set("org", access.Org.Name)
		} else {
			caller, err := s.repo.Accounts.Authenticate(ctx, secret)
			if errors.Is(err, accounts.ErrUnauthenticated) {
				return unauthorized
			}
			if err != nil {
				return err
			}
			ctx = withCaller(ctx, caller)
		}
		ctx = context.WithValue(ctx, requestBaseKey, c.Scheme()+"://"+req.Host)
		c.SetRequest(req.WithContext(ctx))
		return next(c)
	}
}

// requireWrite answers 403 unless the caller may triage and ingest.
func requireWrite(ctx context.Context) (*accounts.Access, error) {
	a := accessFrom(ctx)
	if a == nil {
		return nil, notFound("Organization not found")
	}
	if !a.Role.CanWrite() {
		return nil, forbidden("Forbidden: the " + string(a.Role) + " role is read-only; this needs the member or admin role")
	}
	return a, nil
}

// requireAdmin answers 403 unless the caller is an organisation admin.
func requireAdmin(ctx context.Context) (*accounts.Access, error) {
	a := accessFrom(ctx)
	if a == nil {
		return nil, notFound("Organization not found")
	}
	if a.Role != model.RoleAdmin {
		return nil, forbidden("Forbidden: this needs the admin role")
	}
	return a, nil
}

// externalURL is the server's URL as clients reach it: the configured base
// URL, else the scheme and host of the request.
func (s *Server) externalURL(ctx context.Context) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	base, _ := ctx.Value(requestBaseKey).(string)
	return base
}
