package server

import (
	"context"
	"encoding/json"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/groups"
)

// GetStackPolicyGroups answers the policy groups a stack belongs to.
func (s *Server) GetStackPolicyGroups(ctx context.Context, req api.GetStackPolicyGroupsRequestObject) (api.GetStackPolicyGroupsResponseObject, error) {
	groups, err := s.repo.Groups.EntityPolicyGroups(ctx, accessFrom(ctx).Org.ID, model.EntityStack, req.ProjectName, req.StackName)
	if err != nil {
		return nil, notFoundAs(err, "Stack not found")
	}
	return api.GetStackPolicyGroups200JSONResponse(groupSummariesToAPI(groups)), nil
}

// GetStackPolicyPacks answers the packs a stack's policy groups apply.
func (s *Server) GetStackPolicyPacks(ctx context.Context, req api.GetStackPolicyPacksRequestObject) (api.GetStackPolicyPacksResponseObject, error) {
	packs, err := s.repo.Groups.EntityPolicyPacks(ctx, accessFrom(ctx).Org.ID, model.EntityStack, req.ProjectName, req.StackName, string(deref(req.Params.Mode)))
	if err != nil {
		return nil, notFoundAs(err, "Stack not found")
	}
	required := requiredPacksToAPI(packs)
	return api.GetStackPolicyPacks200JSONResponse{RequiredPolicies: &required}, nil
}

// ListPolicyPacksForAccount answers the packs an Insights account's policy
// groups apply, all in one page.
func (s *Server) ListPolicyPacksForAccount(ctx context.Context, req api.ListPolicyPacksForAccountRequestObject) (api.ListPolicyPacksForAccountResponseObject, error) {
	if err := noContinuation(req.Params.ContinuationToken, "pack"); err != nil {
		return nil, err
	}
	packs, err := s.repo.Groups.EntityPolicyPacks(ctx, accessFrom(ctx).Org.ID, model.EntityAccount, req.AccountName, "", "")
	if err != nil {
		return nil, notFoundAs(err, "Account not found")
	}
	return api.ListPolicyPacksForAccount200JSONResponse{Packs: requiredPacksToAPI(packs)}, nil
}

// requiredPacksToAPI maps required packs to Pulumi's AppRequiredPolicy.
func requiredPacksToAPI(packs []groups.RequiredPack) []api.AppRequiredPolicy {
	out := make([]api.AppRequiredPolicy, 0, len(packs))
	for _, p := range packs {
		out = append(out, api.AppRequiredPolicy{
			Name: p.Name, DisplayName: firstNonEmpty(p.DisplayName, p.Name), Version: p.Version, VersionTag: p.VersionTag,
			Config: packConfigToAPI(p.Config),
		})
	}
	return out
}

// packConfigToAPI decodes a policy group's configuration of a pack (by
// policy name); nil when there is none.
func packConfigToAPI(raw json.RawMessage) *map[string]any {
	var cfg map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &cfg) != nil || cfg == nil {
		return nil
	}
	return &cfg
}
