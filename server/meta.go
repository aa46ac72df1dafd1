package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/model"
)

// Healthz answers as long as the process serves.
func (s *Server) Healthz(context.Context, api.HealthzRequestObject) (api.HealthzResponseObject, error) {
	return api.Healthz200JSONResponse{Status: "ok"}, nil
}

// Readyz answers ready when the database answers and its schema is current.
func (s *Server) Readyz(ctx context.Context, _ api.ReadyzRequestObject) (api.ReadyzResponseObject, error) {
	checks := map[string]string{"database": "ok", "migrations": "ok"}
	ready := true
	if err := s.repo.Ping(ctx); err != nil {
		checks["database"], checks["migrations"] = "unreachable", "unknown"
		ready = false
	} else if current, err := s.repo.MigrationsCurrent(ctx); err != nil || !current {
		checks["migrations"] = "pending"
		ready = false
	}
	if !ready {
		return api.Readyz503JSONResponse{Status: "not ready", Checks: &checks}, nil
	}
	return api.Readyz200JSONResponse{Status: "ready", Checks: &checks}, nil
}

// GetOpenAPISpec serves openapi.yaml as committed.
func (s *Server) GetOpenAPISpec(context.Context, api.GetOpenAPISpecRequestObject) (api.GetOpenAPISpecResponseObject, error) {
	return api.GetOpenAPISpec200ApplicationyamlResponse{Body: bytes.NewReader(s.specYAML), ContentLength: int64(len(s.specYAML))}, nil
}

// FetchRestSpecification serves the same document as JSON, where `pulumi
// api` looks for a server's spec.
func (s *Server) FetchRestSpecification(context.Context, api.FetchRestSpecificationRequestObject) (api.FetchRestSpecificationResponseObject, error) {
	var doc map[string]any
	if err := json.Unmarshal(s.specJSON, &doc); err != nil {
		return nil, err
	}
	return api.FetchRestSpecification200JSONResponse(doc), nil
}

// GetCurrentUser answers the caller as Pulumi's User: a person with their
// organisations, or an organisation token as its organisation.
func (s *Server) GetCurrentUser(ctx context.Context, _ api.GetCurrentUserRequestObject) (api.GetCurrentUserResponseObject, error) {
	c := callerFrom(ctx)
	if c == nil {
		return nil, &apiError{status: http.StatusUnauthorized, message: "Unauthorized"}
	}
	if c.User == nil {
		org, err := s.repo.Accounts.OrganizationByID(ctx, *c.OrgID)
		if err != nil {
			return nil, err
		}
		return api.GetCurrentUser200JSONResponse{
			GithubLogin:   org.Name,
			Name:          org.Name,
			AvatarUrl:     "",
			Organizations: []api.OrganizationSummary{{GithubLogin: org.Name, Name: org.Name, AvatarUrl: "", Role: apiRole(c.Role)}},
		}, nil
	}
	orgs, err := s.repo.Accounts.OrganizationsOfUser(ctx, c.User.ID)
	if err != nil {
		return nil, err
	}
	summaries := make([]api.OrganizationSummary, 0, len(orgs))
	for _, o := range orgs {
		summaries = append(summaries, api.OrganizationSummary{GithubLogin: o.Name, Name: o.Name, AvatarUrl: "", Role: apiRole(o.Role)})
	}
	email := c.User.Email
	return api.GetCurrentUser200JSONResponse{
		GithubLogin:   c.User.Login,
		Name:          c.User.Name,
		Email:         &email,
		AvatarUrl:     c.User.AvatarURL,
		Organizations: summaries,
	}, nil
}

// apiRole is a role as OrganizationSummary.role names it.
func apiRole(r model.Role) *api.OrganizationSummaryRole {
	role := api.OrganizationSummaryRole(r)
	return &role
}

// GetDefaultOrganization answers the caller's first organisation by name.
func (s *Server) GetDefaultOrganization(ctx context.Context, _ api.GetDefaultOrganizationRequestObject) (api.GetDefaultOrganizationResponseObject, error) {
	c := callerFrom(ctx)
	if c.User == nil {
		org, err := s.repo.Accounts.OrganizationByID(ctx, *c.OrgID)
		if err != nil {
			return nil, err
		}
		return api.GetDefaultOrganization200JSONResponse{GitHubLogin: org.Name, Messages: []api.AppMessage{}}, nil
	}
	orgs, err := s.repo.Accounts.OrganizationsOfUser(ctx, c.User.ID)
	if err != nil {
		return nil, err
	}
	if len(orgs) == 0 {
		return api.GetDefaultOrganization404JSONResponse{NotFoundJSONResponse: api.NotFoundJSONResponse{Code: http.StatusNotFound, Message: "The user belongs to no organisation"}}, nil
	}
	return api.GetDefaultOrganization200JSONResponse{GitHubLogin: orgs[0].Name, Messages: []api.AppMessage{}}, nil
}

// Capabilities answers that this server offers no optional capabilities.
func (s *Server) Capabilities(context.Context, api.CapabilitiesRequestObject) (api.CapabilitiesResponseObject, error) {
	return api.Capabilities200JSONResponse{Capabilities: []api.AppAPICapabilityConfig{}}, nil
}
