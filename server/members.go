package server

import (
	"context"
	"strings"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/accounts"
)

// ListOrganizationMembers answers a page of the organisation's members.
// Emails are for admins only, as Pulumi answers them.
func (s *Server) ListOrganizationMembers(ctx context.Context, req api.ListOrganizationMembersRequestObject) (api.ListOrganizationMembersResponseObject, error) {
	a := accessFrom(ctx)
	out := api.ListOrganizationMembers200JSONResponse{Members: []api.OrganizationMember{}}
	if req.Params.Type != nil && *req.Params.Type == api.OrganizationMemberKindServicePrincipal {
		// There are none: their list is one empty page.
		if err := noContinuation(req.Params.ContinuationToken, "service principal"); err != nil {
			return nil, err
		}
		return out, nil
	}
	members, next, err := s.repo.Accounts.ListMembers(ctx, a.Org.ID, deref(req.Params.ContinuationToken))
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		out.Members = append(out.Members, memberToAPI(m, a.Role == model.RoleAdmin))
	}
	if next != "" {
		out.ContinuationToken = ptr(next)
	}
	return out, nil
}

// memberToAPI maps a membership to Pulumi's OrganizationMember: role is the
// closest built-in role (a viewer is a member), fgaRole the role itself.
func memberToAPI(m accounts.Member, withEmail bool) api.OrganizationMember {
	role := api.OrganizationRoleMember
	if m.Role == model.RoleAdmin {
		role = api.OrganizationRoleAdmin
	}
	user := api.UserInfo{Name: m.Name, GithubLogin: m.Login, AvatarUrl: m.AvatarURL}
	if withEmail {
		user.Email = optional(m.Email)
	}
	name := string(m.Role)
	return api.OrganizationMember{
		Role:          role,
		User:          user,
		Created:       m.JoinedAt.UTC(),
		KnownToPulumi: true,
		FgaRole:       api.FGARole{Id: name, Name: strings.ToUpper(name[:1]) + name[1:], ModifiedAt: m.JoinedAt.UTC()},
	}
}
