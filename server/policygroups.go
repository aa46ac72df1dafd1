package server

import (
	"context"
	"encoding/json"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/repository/groups"
)

// ListPolicyGroups lists the organisation's policy groups with counts.
func (s *Server) ListPolicyGroups(ctx context.Context, _ api.ListPolicyGroupsRequestObject) (api.ListPolicyGroupsResponseObject, error) {
	a := accessFrom(ctx)
	groups, err := s.repo.Groups.ListPolicyGroups(ctx, a.Org.ID)
	if err != nil {
		return nil, err
	}
	return api.ListPolicyGroups200JSONResponse(groupSummariesToAPI(groups)), nil
}

// groupSummariesToAPI maps group summaries to AppListPolicyGroupsResponse.
func groupSummariesToAPI(groups []groups.Summary) api.AppListPolicyGroupsResponse {
	out := api.AppListPolicyGroupsResponse{PolicyGroups: make([]api.AppPolicyGroupSummary, 0, len(groups))}
	for _, g := range groups {
		out.PolicyGroups = append(out.PolicyGroups, api.AppPolicyGroupSummary{
			Name: g.Name, IsOrgDefault: g.IsOrgDefault, EntityType: api.PolicyGroupEntityType(g.EntityType),
			Mode: api.PolicyGroupMode(g.Mode), NumStacks: g.NumStacks, NumAccounts: ptr(g.NumAccounts),
			NumEnabledPolicyPacks: g.NumEnabledPolicyPacks,
		})
	}
	return out
}

// NewPolicyGroup creates a policy group.
func (s *Server) NewPolicyGroup(ctx context.Context, req api.NewPolicyGroupRequestObject) (api.NewPolicyGroupResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	_, err = s.repo.Groups.CreatePolicyGroup(ctx, a.Org.ID, req.Body.Name, string(deref(req.Body.EntityType)), string(deref(req.Body.Mode)))
	if err != nil {
		return nil, err
	}
	return api.NewPolicyGroup204Response{}, nil
}

// GetPolicyGroup answers a group with its stacks, accounts and packs.
func (s *Server) GetPolicyGroup(ctx context.Context, req api.GetPolicyGroupRequestObject) (api.GetPolicyGroupResponseObject, error) {
	a := accessFrom(ctx)
	g, err := s.repo.Groups.PolicyGroupDetail(ctx, a.Org.ID, req.PolicyGroup)
	if err != nil {
		return nil, err
	}
	out := api.GetPolicyGroup200JSONResponse{
		Name: g.Name, IsOrgDefault: g.IsOrgDefault, EntityType: api.PolicyGroupEntityType(g.EntityType),
		Mode: api.PolicyGroupMode(g.Mode), Accounts: nonNil(g.Accounts),
		Stacks:             make([]api.AppPulumiStackReference, 0, len(g.Stacks)),
		AppliedPolicyPacks: make([]api.AppPolicyPackMetadata, 0, len(g.AppliedPacks)),
	}
	for _, st := range g.Stacks {
		out.Stacks = append(out.Stacks, api.AppPulumiStackReference{Name: st.Name, RoutingProject: st.RoutingProject})
	}
	for _, p := range g.AppliedPacks {
		out.AppliedPolicyPacks = append(out.AppliedPolicyPacks, api.AppPolicyPackMetadata{
			Name: p.Name, DisplayName: ptr(firstNonEmpty(p.DisplayName, p.Name)), Version: ptr(p.Version), VersionTag: ptr(p.VersionTag),
			Config: packConfigToAPI(p.Config),
		})
	}
	return out, nil
}

// groupUpdate maps one UpdatePolicyGroupRequest.
func groupUpdate(u api.UpdatePolicyGroupRequest) groups.Update {
	packRef := func(m *api.AppPolicyPackMetadata) *groups.PackRef {
		if m == nil {
			return nil
		}
		ref := &groups.PackRef{Name: m.Name, Version: deref(m.Version), VersionTag: deref(m.VersionTag)}
		if m.Config != nil {
			ref.Config, _ = json.Marshal(*m.Config)
		}
		return ref
	}
	stack := func(r *api.AppPulumiStackReference) *groups.StackMember {
		if r == nil {
			return nil
		}
		return &groups.StackMember{Name: r.Name, RoutingProject: r.RoutingProject}
	}
	account := func(r *api.AppInsightsAccountReference) string {
		if r == nil {
			return ""
		}
		return r.Name
	}
	return groups.Update{
		NewName: deref(u.NewName), AddStack: stack(u.AddStack), RemoveStack: stack(u.RemoveStack),
		AddPolicyPack: packRef(u.AddPolicyPack), RemovePolicyPack: packRef(u.RemovePolicyPack),
		AddInsightsAccount: account(u.AddInsightsAccount), RemoveInsightsAccount: account(u.RemoveInsightsAccount),
	}
}

// UpdatePolicyGroup applies one change to a group.
func (s *Server) UpdatePolicyGroup(ctx context.Context, req api.UpdatePolicyGroupRequestObject) (api.UpdatePolicyGroupResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Groups.UpdatePolicyGroup(ctx, a.Org.ID, req.PolicyGroup, []groups.Update{groupUpdate(*req.Body)}); err != nil {
		return nil, err
	}
	return api.UpdatePolicyGroup204Response{}, nil
}

// BatchUpdatePolicyGroup applies several changes to a group atomically.
func (s *Server) BatchUpdatePolicyGroup(ctx context.Context, req api.BatchUpdatePolicyGroupRequestObject) (api.BatchUpdatePolicyGroupResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	updates := make([]groups.Update, 0, len(*req.Body))
	for _, u := range *req.Body {
		updates = append(updates, groupUpdate(u))
	}
	if err := s.repo.Groups.UpdatePolicyGroup(ctx, a.Org.ID, req.PolicyGroup, updates); err != nil {
		return nil, err
	}
	return api.BatchUpdatePolicyGroup204Response{}, nil
}

// DeletePolicyGroup deletes a group; the default groups stay.
func (s *Server) DeletePolicyGroup(ctx context.Context, req api.DeletePolicyGroupRequestObject) (api.DeletePolicyGroupResponseObject, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Groups.DeletePolicyGroup(ctx, a.Org.ID, req.PolicyGroup); err != nil {
		return nil, err
	}
	return api.DeletePolicyGroup204Response{}, nil
}

// GetPolicyGroupMetadata answers what the organisation's policy groups
// protect.
func (s *Server) GetPolicyGroupMetadata(ctx context.Context, _ api.GetPolicyGroupMetadataRequestObject) (api.GetPolicyGroupMetadataResponseObject, error) {
	md, err := s.repo.Groups.PolicyGroupMetadata(ctx, accessFrom(ctx).Org.ID)
	if err != nil {
		return nil, err
	}
	return api.GetPolicyGroupMetadata200JSONResponse{
		ProtectedStacks: int(md.ProtectedStacks), ProtectedStackResources: int(md.ProtectedStackResources),
		PreventativeStacks: int(md.PreventativeStacks), PreventativeStackResources: int(md.PreventativeStackResources),
		AuditStacks: int(md.AuditStacks), AuditStackResources: int(md.AuditStackResources),
		TotalStacks: int(md.TotalStacks), TotalStackResources: int(md.TotalStackResources),
		ProtectedAccounts: int(md.ProtectedAccounts), ProtectedAccountResources: int(md.ProtectedAccountResources),
		TotalAccounts: int(md.TotalAccounts), TotalAccountResources: int(md.TotalAccountResources),
	}, nil
}
