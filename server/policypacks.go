package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/packs"
)

// policyToAPI maps a stored policy to the API's AppPolicy.
func policyToAPI(p *model.Policy) api.AppPolicy {
	return policyInputToAPI(p.Metadata())
}

// jsonRaw encodes a decoded JSON value back to raw JSON.
func jsonRaw(v any) (json.RawMessage, error) {
	return json.Marshal(v)
}

// ListPolicyPacksOrgs (ListPolicyPacks_orgs) lists the organisation's packs
// with their versions, or only the one policypack names.
func (s *Server) ListPolicyPacksOrgs(ctx context.Context, req api.ListPolicyPacksOrgsRequestObject) (api.ListPolicyPacksOrgsResponseObject, error) {
	a := accessFrom(ctx)
	packs, err := s.repo.Packs.ListPolicyPacks(ctx, a.Org.ID, deref(req.Params.Policypack))
	if err != nil {
		return nil, err
	}
	out := api.ListPolicyPacksOrgs200JSONResponse{PolicyPacks: make([]api.AppPolicyPackWithVersions, 0, len(packs))}
	for _, p := range packs {
		out.PolicyPacks = append(out.PolicyPacks, api.AppPolicyPackWithVersions{
			Name: p.Name, DisplayName: firstNonEmpty(p.DisplayName, p.Name),
			Versions: nonNil(p.Versions), VersionTags: nonNil(p.VersionTags),
		})
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// CreatePolicyPack registers a new version of a pack and answers where to
// upload its archive.
func (s *Server) CreatePolicyPack(ctx context.Context, req api.CreatePolicyPackRequestObject) (api.CreatePolicyPackResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	created, err := s.createPackVersion(ctx, a, req.Body)
	if err != nil {
		return nil, err
	}
	return api.CreatePolicyPack201JSONResponse(created), nil
}

// createPackVersion registers a new version of a pack and answers where to
// upload its archive, for CreatePolicyPack and the registry's publish.
func (s *Server) createPackVersion(ctx context.Context, a *accounts.Access, b *api.AppCreatePolicyPackRequest) (api.AppCreatePolicyPackResponse, error) {
	in := packs.Input{Name: b.Name, DisplayName: b.DisplayName, VersionTag: deref(b.VersionTag), Description: deref(b.Description)}
	for _, p := range b.Policies {
		in.Policies = append(in.Policies, policyInputFromAPI(p))
	}
	in.UploadExpiresAt = s.now().Add(uploadURLLifetime)
	created, err := s.repo.Packs.CreatePolicyPackVersion(ctx, a.Org.ID, in)
	if err != nil {
		return api.AppCreatePolicyPackResponse{}, err
	}
	headers := map[string]string{"Content-Type": "application/octet-stream"}
	return api.AppCreatePolicyPackResponse{
		Version:         created.Version,
		UploadURI:       s.uploadURL(ctx, a.Org.Name, b.Name, created.Version, created.UploadCredential),
		RequiredHeaders: &headers,
	}, nil
}

// UploadPolicyPackArchive stores a pack version's archive, up to the
// configured size, for an admin's token or a presigned upload URL's
// credential.
func (s *Server) UploadPolicyPackArchive(ctx context.Context, req api.UploadPolicyPackArchiveRequestObject) (api.UploadPolicyPackArchiveResponseObject, error) {
	grant := uploadGrantFrom(ctx)
	var orgID int64
	if grant != nil {
		orgID = grant.orgID
	} else {
		a, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		orgID = a.Org.ID
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, s.archiveLimit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > s.archiveLimit {
		return api.UploadPolicyPackArchive413JSONResponse{PayloadTooLargeJSONResponse: api.PayloadTooLargeJSONResponse{
			Code: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("the archive is larger than %d bytes", s.archiveLimit)}}, nil
	}
	if grant != nil {
		err = s.repo.Packs.StorePresignedPolicyPackArchive(ctx, orgID, req.PolicyPackName, req.Version, grant.credential, s.now(), data)
	} else {
		err = s.repo.Packs.StorePolicyPackArchive(ctx, orgID, req.PolicyPackName, req.Version, data)
	}
	if err != nil {
		return nil, err
	}
	return api.UploadPolicyPackArchive204Response{}, nil
}

// CompletePolicyPack publishes an uploaded version.
func (s *Server) CompletePolicyPack(ctx context.Context, req api.CompletePolicyPackRequestObject) (api.CompletePolicyPackResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Packs.CompletePolicyPackVersion(ctx, a.Org.ID, req.PolicyPackName, req.Version); err != nil {
		return nil, err
	}
	return api.CompletePolicyPack204Response{}, nil
}

// GetPolicyPack answers one version of a pack ("latest" or a number).
func (s *Server) GetPolicyPack(ctx context.Context, req api.GetPolicyPackRequestObject) (api.GetPolicyPackResponseObject, error) {
	a := accessFrom(ctx)
	d, err := s.repo.Packs.PolicyPackVersion(ctx, a.Org.ID, req.PolicyPackName, req.Version)
	if err != nil {
		return nil, err
	}
	out := api.GetPolicyPack200JSONResponse{
		Name:        d.Pack.Name,
		DisplayName: firstNonEmpty(d.Version.DisplayName, d.Pack.DisplayName, d.Pack.Name),
		Version:     d.Version.Version,
		VersionTag:  d.Version.VersionTag,
		Applied:     d.Applied,
		Policies:    make([]api.AppPolicy, 0, len(d.Policies)),
	}
	for _, p := range d.Policies {
		out.Policies = append(out.Policies, policyInputToAPI(p))
	}
	return out, nil
}

// DeletePolicyPackOrgsPolicypacks (DeletePolicyPack_orgs_policypacks)
// deletes a pack and all its versions; 409 while a group applies it.
func (s *Server) DeletePolicyPackOrgsPolicypacks(ctx context.Context, req api.DeletePolicyPackOrgsPolicypacksRequestObject) (api.DeletePolicyPackOrgsPolicypacksResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Packs.DeletePolicyPack(ctx, a.Org.ID, req.PolicyPackName); err != nil {
		return nil, err
	}
	return api.DeletePolicyPackOrgsPolicypacks204Response{}, nil
}

// DeletePolicyPackVersion deletes one version; 409 while a group applies it.
func (s *Server) DeletePolicyPackVersion(ctx context.Context, req api.DeletePolicyPackVersionRequestObject) (api.DeletePolicyPackVersionResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Packs.DeletePolicyPackVersion(ctx, a.Org.ID, req.PolicyPackName, req.Version); err != nil {
		return nil, err
	}
	return api.DeletePolicyPackVersion204Response{}, nil
}

// policyInputToAPI maps policy metadata to the API's AppPolicy.
func policyInputToAPI(p model.PolicyInput) api.AppPolicy {
	out := api.AppPolicy{
		Name:             p.Name,
		DisplayName:      firstNonEmpty(p.DisplayName, p.Name),
		Description:      p.Description,
		EnforcementLevel: api.AppEnforcementLevel(firstNonEmpty(p.EnforcementLevel, policy.LevelAdvisory)),
		Message:          p.Message,
	}
	sev := api.PolicySeverity(p.Severity)
	out.Severity = &sev
	if p.RemediationSteps != "" {
		out.RemediationSteps = ptr(p.RemediationSteps)
	}
	if p.URL != "" {
		out.Url = ptr(p.URL)
	}
	if p.Tags != nil {
		out.Tags = ptr(p.Tags)
	}
	if schema, ok := configSchemaToAPI(p.ConfigSchema); ok {
		out.ConfigSchema.Set(schema)
	}
	if p.Framework != nil {
		out.Framework.Set(api.AppPolicyComplianceFramework{
			Name: optional(p.Framework.Name), Version: optional(p.Framework.Version),
			Reference: optional(p.Framework.Reference), Specification: optional(p.Framework.Specification),
		})
	}
	return out
}

// optional is nil for an empty string.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// configSchemaToAPI reads a stored configuration schema as Pulumi's typed
// AppPolicyConfigSchema. A schema stored before schemas were typed that is
// not an object schema is left out (ok false), as is none.
func configSchemaToAPI(raw json.RawMessage) (api.AppPolicyConfigSchema, bool) {
	var schema struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
		Type       string         `json:"type"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &schema) != nil || (schema.Type != "" && schema.Type != string(api.AppJSONSchemaTypeObject)) {
		return api.AppPolicyConfigSchema{}, false
	}
	out := api.AppPolicyConfigSchema{Type: api.AppJSONSchemaTypeObject}
	if schema.Properties != nil {
		out.Properties = &schema.Properties
	}
	if schema.Required != nil {
		out.Required = &schema.Required
	}
	return out, true
}

// GetPolicyPackConfigSchema answers the configuration schemas of a pack
// version's policies, by policy name.
func (s *Server) GetPolicyPackConfigSchema(ctx context.Context, req api.GetPolicyPackConfigSchemaRequestObject) (api.GetPolicyPackConfigSchemaResponseObject, error) {
	a := accessFrom(ctx)
	d, err := s.repo.Packs.PolicyPackVersion(ctx, a.Org.ID, req.PolicyPackName, req.Version)
	if err != nil {
		return nil, notFoundAs(err, packNotFoundMessage)
	}
	schemas := map[string]api.AppPolicyConfigSchema{}
	for _, p := range d.Policies {
		if schema, ok := configSchemaToAPI(p.ConfigSchema); ok {
			schemas[p.Name] = schema
		}
	}
	return api.GetPolicyPackConfigSchema200JSONResponse{ConfigSchema: &schemas}, nil
}
