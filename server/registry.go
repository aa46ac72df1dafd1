package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/packs"
)

// registrySource is the one registry source policyresults holds: the
// organisations' own packs.
const registrySource = "private"

// packNotFoundMessage answers a pack or version that does not exist, or that
// the caller may not see.
const packNotFoundMessage = "Policy pack not found"

var errPackNotFound = notFound(packNotFoundMessage)

// registryPackOf describes a pack version as the registry lists it.
func registryPackOf(pack *model.PolicyPack, v *model.PolicyPackVersion) packs.RegistryPack {
	return packs.RegistryPack{OrgID: pack.OrgID, ID: v.UUID, Name: pack.Name, Version: v.Version, VersionTag: v.VersionTag,
		DisplayName: firstNonEmpty(v.DisplayName, pack.DisplayName, pack.Name)}
}

// registryPackToAPI maps a pack version to the registry's RegistryPolicyPack:
// source private, publisher its organisation, the access and enforcement
// levels the caller's role there allows.
func registryPackToAPI(a accounts.Access, p packs.RegistryPack) api.RegistryPolicyPack {
	access := api.RegistryPolicyPackAccessLevelViewOnly
	if a.Role == model.RoleAdmin {
		access = api.RegistryPolicyPackAccessLevelFull
	}
	return api.RegistryPolicyPack{
		Id:                uuid.MustParse(p.ID),
		Source:            registrySource,
		Publisher:         a.Org.Name,
		Name:              p.Name,
		Version:           p.VersionTag,
		DisplayName:       p.DisplayName,
		AccessLevel:       access,
		EnforcementLevels: enforcementLevelsFor(a.Role),
	}
}

// publishedPackVersion reads a published version of a pack ("latest", a
// number or a tag) with its policies as the registry answers it; versions
// still being published are not found. field names the version in the
// request, for the message of a version that is none.
func (s *Server) publishedPackVersion(ctx context.Context, a *accounts.Access, name, version, field string) (api.GetRegistryPolicyPackVersionResponse, error) {
	d, err := s.repo.Packs.PolicyPackVersion(ctx, a.Org.ID, name, version)
	var ve *repository.ValidationError
	switch {
	case statusOf(err) == http.StatusNotFound || (err == nil && !d.Version.Published):
		return api.GetRegistryPolicyPackVersionResponse{}, errPackNotFound
	case errors.As(err, &ve):
		return api.GetRegistryPolicyPackVersionResponse{}, badRequest("%s: %s", field, ve.Message)
	case err != nil:
		return api.GetRegistryPolicyPackVersionResponse{}, err
	}
	policies := make([]api.AppPolicy, 0, len(d.Policies))
	for _, p := range d.Policies {
		policies = append(policies, policyInputToAPI(p))
	}
	return api.GetRegistryPolicyPackVersionResponse{
		PolicyPack: registryPackToAPI(*a, registryPackOf(&d.Pack, &d.Version)),
		Policies:   &policies,
	}, nil
}

// GetOrgRegistryPolicyPack answers an organisation's pack as the registry
// describes it, at its latest published version or the one tag names.
func (s *Server) GetOrgRegistryPolicyPack(ctx context.Context, req api.GetOrgRegistryPolicyPackRequestObject) (api.GetOrgRegistryPolicyPackResponseObject, error) {
	version := deref(req.Params.Tag)
	if version == "" {
		version = "latest"
	}
	out, err := s.publishedPackVersion(ctx, accessFrom(ctx), req.PolicyPackName, version, "tag")
	if err != nil {
		return nil, err
	}
	return api.GetOrgRegistryPolicyPack200JSONResponse(out), nil
}

// listRegistryPacks lists the packs of the organisation orgLogin names, or
// of every organisation the caller can use; a caller who may not use
// orgLogin gets the answer of an organisation that does not exist.
func (s *Server) listRegistryPacks(ctx context.Context, orgLogin string, access *api.PolicyPackAccess, ids []string) (api.ListPolicyPacksResponse, error) {
	out := api.ListPolicyPacksResponse{PolicyPacks: []api.RegistryPolicyPack{}}
	accesses, err := s.repo.Accounts.Accesses(ctx, callerFrom(ctx), orgLogin)
	if err != nil {
		return out, err
	}
	if orgLogin != "" && len(accesses) == 0 {
		return out, notFound("Organization not found")
	}
	if access != nil && (*access == api.PolicyPackAccessAdded || *access == api.PolicyPackAccessAvailable) {
		// Public packs: policyresults holds only organisations' own.
		return out, nil
	}
	byOrg := make(map[int64]accounts.Access, len(accesses))
	orgIDs := make([]int64, 0, len(accesses))
	for _, a := range accesses {
		byOrg[a.Org.ID] = a
		orgIDs = append(orgIDs, a.Org.ID)
	}
	if len(ids) == 0 {
		ids = nil
	}
	packs, err := s.repo.Packs.RegistryPacks(ctx, orgIDs, ids)
	if err != nil {
		return out, err
	}
	for _, p := range packs {
		out.PolicyPacks = append(out.PolicyPacks, registryPackToAPI(byOrg[p.OrgID], p))
	}
	return out, nil
}

// ListPolicyPacks is the GET form of the registry list; it needs orgLogin
// (the request validator refuses it absent or empty, as openapi.yaml
// states).
func (s *Server) ListPolicyPacks(ctx context.Context, req api.ListPolicyPacksRequestObject) (api.ListPolicyPacksResponseObject, error) {
	out, err := s.listRegistryPacks(ctx, req.Params.OrgLogin, req.Params.Access, nil)
	if err != nil {
		return nil, err
	}
	return api.ListPolicyPacks200JSONResponse(out), nil
}

// ListPolicyPacksPost lists the registry's packs the caller
// can use.
func (s *Server) ListPolicyPacksPost(ctx context.Context, req api.ListPolicyPacksPostRequestObject) (api.ListPolicyPacksPostResponseObject, error) {
	var body api.ListPolicyPacksRequest
	if req.Body != nil {
		body = *req.Body
	}
	out, err := s.listRegistryPacks(ctx, deref(body.OrgLogin), body.Access, deref(body.Ids))
	if err != nil {
		return nil, err
	}
	return api.ListPolicyPacksPost200JSONResponse(out), nil
}

// registryAccess is the caller's access to a registry path's publisher (the
// auth middleware resolved it); packs of other sources are not found.
func registryAccess(ctx context.Context, source string, write bool) (*accounts.Access, error) {
	a := accessFrom(ctx)
	if write {
		var err error
		if a, err = requireAdmin(ctx); err != nil {
			return nil, err
		}
	}
	if source != registrySource {
		return nil, errPackNotFound
	}
	return a, nil
}

// packNotFound answers a missing pack or version with the registry's
// message; other errors keep their status.
func packNotFound(err error) error {
	return notFoundAs(err, packNotFoundMessage)
}

// ListPolicyPackVersionsForRegistry lists a pack's published versions, newest first.
func (s *Server) ListPolicyPackVersionsForRegistry(ctx context.Context, req api.ListPolicyPackVersionsForRegistryRequestObject) (api.ListPolicyPackVersionsForRegistryResponseObject, error) {
	a, err := registryAccess(ctx, req.Source, false)
	if err != nil {
		return nil, err
	}
	versions, err := s.repo.Packs.RegistryPackVersions(ctx, a.Org.ID, req.Name)
	if err != nil {
		return nil, packNotFound(err)
	}
	out := api.ListPolicyPackVersionsForRegistry200JSONResponse{PolicyPacks: make([]api.RegistryPolicyPack, 0, len(versions))}
	for _, v := range versions {
		out.PolicyPacks = append(out.PolicyPacks, registryPackToAPI(*a, v))
	}
	return out, nil
}

// GetPolicyPackVersionForRegistry answers a published version of a pack with its
// policies.
func (s *Server) GetPolicyPackVersionForRegistry(ctx context.Context, req api.GetPolicyPackVersionForRegistryRequestObject) (api.GetPolicyPackVersionForRegistryResponseObject, error) {
	a, err := registryAccess(ctx, req.Source, false)
	if err != nil {
		return nil, err
	}
	out, err := s.publishedPackVersion(ctx, a, req.Name, req.Version, "version")
	if err != nil {
		return nil, err
	}
	return api.GetPolicyPackVersionForRegistry200JSONResponse(out), nil
}

// PostPublishPolicyPackVersionForRegistry starts publishing a version through the
// registry: the same pack store as CreatePolicyPack, with the version's
// semantic version required.
func (s *Server) PostPublishPolicyPackVersionForRegistry(ctx context.Context, req api.PostPublishPolicyPackVersionForRegistryRequestObject) (api.PostPublishPolicyPackVersionForRegistryResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	switch {
	case req.Source != registrySource:
		return nil, badRequest("source: %q can't be published to; the only source is %q", req.Source, registrySource)
	case b.Name != req.Name:
		return nil, badRequest("name: %q is not the policy pack the path names (%q)", b.Name, req.Name)
	case deref(b.VersionTag) == "":
		return nil, badRequest("versionTag: required; a registry version is a semantic version such as 1.2.0")
	}
	created, err := s.createPackVersion(ctx, a, b)
	if err != nil {
		return nil, err
	}
	return api.PostPublishPolicyPackVersionForRegistry201JSONResponse(created), nil
}

// PostPublishPolicyPackVersionCompleteForRegistry publishes a version whose archive was
// uploaded.
func (s *Server) PostPublishPolicyPackVersionCompleteForRegistry(ctx context.Context, req api.PostPublishPolicyPackVersionCompleteForRegistryRequestObject) (api.PostPublishPolicyPackVersionCompleteForRegistryResponseObject, error) {
	a, err := registryAccess(ctx, req.Source, true)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Packs.CompletePolicyPackVersion(ctx, a.Org.ID, req.Name, req.Version); err != nil {
		return nil, packNotFound(err)
	}
	return api.PostPublishPolicyPackVersionCompleteForRegistry204Response{}, nil
}

// DeletePolicyPack deletes a pack with all its
// versions.
func (s *Server) DeletePolicyPack(ctx context.Context, req api.DeletePolicyPackRequestObject) (api.DeletePolicyPackResponseObject, error) {
	a, err := registryAccess(ctx, req.Source, true)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Packs.DeletePolicyPack(ctx, a.Org.ID, req.Name); err != nil {
		return nil, packNotFound(err)
	}
	return api.DeletePolicyPack204Response{}, nil
}

// DeleteRegistryPolicyPackVersion deletes one version of
// a pack.
func (s *Server) DeleteRegistryPolicyPackVersion(ctx context.Context, req api.DeleteRegistryPolicyPackVersionRequestObject) (api.DeleteRegistryPolicyPackVersionResponseObject, error) {
	a, err := registryAccess(ctx, req.Source, true)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Packs.DeletePolicyPackVersion(ctx, a.Org.ID, req.Name, req.Version); err != nil {
		return nil, packNotFound(err)
	}
	return api.DeleteRegistryPolicyPackVersion204Response{}, nil
}
