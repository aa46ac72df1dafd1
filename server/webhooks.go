package server

import (
	"context"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/webhooks"
)

// Webhooks is the server's webhook store, which serve's delivery worker
// shares.
func (s *Server) Webhooks() *webhooks.Store { return s.hooks }

// hookScope checks that the caller is an admin of the path's organisation
// and answers the scope of an organisation's (project and stack empty) or
// a stack's webhooks.
func hookScope(ctx context.Context, project, stack string) (webhooks.Scope, *accounts.Access, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return webhooks.Scope{}, nil, err
	}
	return webhooks.Scope{OrgID: a.Org.ID, Project: project, Stack: stack}, a, nil
}

func hookToAPI(org string, h *webhooks.Hook) api.Webhook {
	filters := make([]api.WebhookFilter, 0)
	for _, f := range h.FilterList() {
		filters = append(filters, api.WebhookFilter(f))
	}
	groups := make([]api.WebhookGroup, 0)
	for _, g := range h.GroupList() {
		groups = append(groups, api.WebhookGroup(g))
	}
	out := api.Webhook{
		OrganizationName: ptr(org), Name: ptr(h.Name), DisplayName: h.DisplayName, PayloadUrl: h.PayloadURL,
		Active: ptr(h.Active), Format: ptr(api.WebhookFormat(h.Format)), Filters: &filters, Groups: &groups,
		MinimumSeverity: ptr(api.WebhookMinimumSeverity(h.MinSeverity)), HasSecret: ptr(h.HasSecret()),
	}
	if h.Project != "" {
		out.ProjectName, out.StackName = ptr(h.Project), ptr(h.Stack)
	}
	if h.DeactivatedReason != "" {
		out.DeactivatedReason = ptr(h.DeactivatedReason)
	}
	return out
}

func hooksToAPI(org string, hooks []webhooks.Hook) []api.Webhook {
	out := make([]api.Webhook, 0, len(hooks))
	for i := range hooks {
		out = append(out, hookToAPI(org, &hooks[i]))
	}
	return out
}

func attemptToAPI(a *webhooks.Attempt) api.WebhookDelivery {
	out := api.WebhookDelivery{
		Id: a.DeliveryID, Kind: a.Kind, Payload: a.Payload, Timestamp: a.StartedAt.Unix(), Duration: a.DurationMs,
		RequestUrl: a.RequestURL, RequestHeaders: a.RequestHeaders, ResponseCode: a.ResponseCode,
		ResponseHeaders: a.ResponseHeaders, ResponseBody: a.ResponseBody, Attempt: ptr(a.Attempt),
		State: ptr(api.WebhookDeliveryState(a.State)),
	}
	if a.Error != "" {
		out.Error = ptr(a.Error)
	}
	return out
}

func stringsOf[T ~string](in *[]T) *[]string {
	if in == nil {
		return nil
	}
	out := make([]string, 0, len(*in))
	for _, v := range *in {
		out = append(out, string(v))
	}
	return &out
}

func stringOf[T ~string](v *T) *string {
	if v == nil {
		return nil
	}
	s := string(*v)
	return &s
}

// pathNames refuses names in a body that differ from the path's.
func pathNames(org, project, stack string, bodyOrg, bodyProject, bodyStack *string) error {
	for _, f := range []struct{ field, sent, path, what string }{
		{"organizationName", deref(bodyOrg), org, "organization"},
		{"projectName", deref(bodyProject), project, "project"},
		{"stackName", deref(bodyStack), stack, "stack"},
	} {
		if f.sent != "" && f.sent != f.path {
			return badRequest("%s: %q does not match the %s of the path, %q", f.field, f.sent, f.what, f.path)
		}
	}
	return nil
}

// createHook checks the body's names against the path and stores the hook.
func (s *Server) createHook(ctx context.Context, project, stack string, body *api.Webhook) (api.Webhook, error) {
	sc, a, err := hookScope(ctx, project, stack)
	if err != nil {
		return api.Webhook{}, err
	}
	if err := pathNames(a.Org.Name, project, stack, body.OrganizationName, body.ProjectName, body.StackName); err != nil {
		return api.Webhook{}, err
	}
	h, err := s.hooks.Create(ctx, sc, webhooks.Spec{
		Name: body.Name, DisplayName: &body.DisplayName, PayloadURL: &body.PayloadUrl, Secret: body.Secret, Active: body.Active,
		Format: stringOf(body.Format), Filters: stringsOf(body.Filters), Groups: stringsOf(body.Groups),
		MinSeverity: stringOf(body.MinimumSeverity),
	})
	if err != nil {
		return api.Webhook{}, err
	}
	return hookToAPI(a.Org.Name, h), nil
}

func (s *Server) listHooks(ctx context.Context, project, stack string, token *string) ([]api.Webhook, error) {
	sc, a, err := hookScope(ctx, project, stack)
	if err != nil {
		return nil, err
	}
	if err := noContinuation(token, "webhook"); err != nil {
		return nil, err
	}
	hooks, err := s.hooks.List(ctx, sc)
	if err != nil {
		return nil, err
	}
	return hooksToAPI(a.Org.Name, hooks), nil
}

func (s *Server) getHook(ctx context.Context, project, stack, name string) (*webhooks.Hook, *accounts.Access, error) {
	sc, a, err := hookScope(ctx, project, stack)
	if err != nil {
		return nil, nil, err
	}
	h, err := s.hooks.Get(ctx, sc, name)
	if err != nil {
		return nil, nil, err
	}
	return h, a, nil
}

func (s *Server) updateHook(ctx context.Context, project, stack, name string, body *api.WebhookUpdate) (api.Webhook, error) {
	sc, a, err := hookScope(ctx, project, stack)
	if err != nil {
		return api.Webhook{}, err
	}
	if err := pathNames(a.Org.Name, project, stack, body.OrganizationName, body.ProjectName, body.StackName); err != nil {
		return api.Webhook{}, err
	}
	if n := deref(body.Name); n != "" && n != name {
		return api.Webhook{}, badRequest("name: %q does not match the webhook of the path, %q (a webhook is not renamed)", n, name)
	}
	h, err := s.hooks.Update(ctx, sc, name, webhooks.Spec{
		DisplayName: body.DisplayName, PayloadURL: body.PayloadUrl, Secret: body.Secret, Active: body.Active,
		Format: stringOf(body.Format), Filters: stringsOf(body.Filters), Groups: stringsOf(body.Groups),
		MinSeverity: stringOf(body.MinimumSeverity),
	})
	if err != nil {
		return api.Webhook{}, err
	}
	return hookToAPI(a.Org.Name, h), nil
}

func (s *Server) deleteHook(ctx context.Context, project, stack, name string) error {
	sc, _, err := hookScope(ctx, project, stack)
	if err != nil {
		return err
	}
	return s.hooks.Delete(ctx, sc, name)
}

func (s *Server) pingHook(ctx context.Context, project, stack, name string) (api.WebhookDelivery, error) {
	h, _, err := s.getHook(ctx, project, stack, name)
	if err != nil {
		return api.WebhookDelivery{}, err
	}
	a, err := s.hooks.Ping(ctx, s.hookClient, h, s.now())
	if err != nil {
		return api.WebhookDelivery{}, err
	}
	return attemptToAPI(a), nil
}

func (s *Server) hookDeliveries(ctx context.Context, project, stack, name string) ([]api.WebhookDelivery, error) {
	h, _, err := s.getHook(ctx, project, stack, name)
	if err != nil {
		return nil, err
	}
	attempts, err := s.hooks.Attempts(ctx, h, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]api.WebhookDelivery, 0, len(attempts))
	for i := range attempts {
		out = append(out, attemptToAPI(&attempts[i]))
	}
	return out, nil
}

// ListOrganizationWebhooks lists the organisation's webhooks.
func (s *Server) ListOrganizationWebhooks(ctx context.Context, req api.ListOrganizationWebhooksRequestObject) (api.ListOrganizationWebhooksResponseObject, error) {
	out, err := s.listHooks(ctx, "", "", req.Params.ContinuationToken)
	if err != nil {
		return nil, err
	}
	return api.ListOrganizationWebhooks200JSONResponse(out), nil
}

// CreateOrganizationWebhook creates an organisation webhook.
func (s *Server) CreateOrganizationWebhook(ctx context.Context, req api.CreateOrganizationWebhookRequestObject) (api.CreateOrganizationWebhookResponseObject, error) {
	out, err := s.createHook(ctx, "", "", req.Body)
	if err != nil {
		return nil, err
	}
	return api.CreateOrganizationWebhook201JSONResponse(out), nil
}

// GetOrganizationWebhook answers one organisation webhook.
func (s *Server) GetOrganizationWebhook(ctx context.Context, req api.GetOrganizationWebhookRequestObject) (api.GetOrganizationWebhookResponseObject, error) {
	h, a, err := s.getHook(ctx, "", "", req.HookName)
	if err != nil {
		return nil, err
	}
	return api.GetOrganizationWebhook200JSONResponse(hookToAPI(a.Org.Name, h)), nil
}

// UpdateOrganizationWebhook changes an organisation webhook.
func (s *Server) UpdateOrganizationWebhook(ctx context.Context, req api.UpdateOrganizationWebhookRequestObject) (api.UpdateOrganizationWebhookResponseObject, error) {
	out, err := s.updateHook(ctx, "", "", req.HookName, req.Body)
	if err != nil {
		return nil, err
	}
	return api.UpdateOrganizationWebhook200JSONResponse(out), nil
}

// DeleteOrganizationWebhook deletes an organisation webhook.
func (s *Server) DeleteOrganizationWebhook(ctx context.Context, req api.DeleteOrganizationWebhookRequestObject) (api.DeleteOrganizationWebhookResponseObject, error) {
	if err := s.deleteHook(ctx, "", "", req.HookName); err != nil {
		return nil, err
	}
	return api.DeleteOrganizationWebhook204Response{}, nil
}

// PingOrganizationWebhook sends a ping to an organisation webhook.
func (s *Server) PingOrganizationWebhook(ctx context.Context, req api.PingOrganizationWebhookRequestObject) (api.PingOrganizationWebhookResponseObject, error) {
	out, err := s.pingHook(ctx, "", "", req.HookName)
	if err != nil {
		return nil, err
	}
	return api.PingOrganizationWebhook200JSONResponse(out), nil
}

// GetOrganizationWebhookDeliveries lists an organisation webhook's attempts.
func (s *Server) GetOrganizationWebhookDeliveries(ctx context.Context, req api.GetOrganizationWebhookDeliveriesRequestObject) (api.GetOrganizationWebhookDeliveriesResponseObject, error) {
	out, err := s.hookDeliveries(ctx, "", "", req.HookName)
	if err != nil {
		return nil, err
	}
	return api.GetOrganizationWebhookDeliveries200JSONResponse(out), nil
}

// ListStackWebhooks lists a stack's webhooks.
func (s *Server) ListStackWebhooks(ctx context.Context, req api.ListStackWebhooksRequestObject) (api.ListStackWebhooksResponseObject, error) {
	out, err := s.listHooks(ctx, req.ProjectName, req.StackName, req.Params.ContinuationToken)
	if err != nil {
		return nil, err
	}
	return api.ListStackWebhooks200JSONResponse(out), nil
}

// CreateStackWebhook creates a stack webhook.
func (s *Server) CreateStackWebhook(ctx context.Context, req api.CreateStackWebhookRequestObject) (api.CreateStackWebhookResponseObject, error) {
	out, err := s.createHook(ctx, req.ProjectName, req.StackName, req.Body)
	if err != nil {
		return nil, err
	}
	return api.CreateStackWebhook201JSONResponse(out), nil
}

// GetStackWebhook answers one stack webhook.
func (s *Server) GetStackWebhook(ctx context.Context, req api.GetStackWebhookRequestObject) (api.GetStackWebhookResponseObject, error) {
	h, a, err := s.getHook(ctx, req.ProjectName, req.StackName, req.HookName)
	if err != nil {
		return nil, err
	}
	return api.GetStackWebhook200JSONResponse(hookToAPI(a.Org.Name, h)), nil
}

// UpdateStackWebhook changes a stack webhook.
func (s *Server) UpdateStackWebhook(ctx context.Context, req api.UpdateStackWebhookRequestObject) (api.UpdateStackWebhookResponseObject, error) {
	out, err := s.updateHook(ctx, req.ProjectName, req.StackName, req.HookName, req.Body)
	if err != nil {
		return nil, err
	}
	return api.UpdateStackWebhook200JSONResponse(out), nil
}

// DeleteStackWebhook deletes a stack webhook.
func (s *Server) DeleteStackWebhook(ctx context.Context, req api.DeleteStackWebhookRequestObject) (api.DeleteStackWebhookResponseObject, error) {
	if err := s.deleteHook(ctx, req.ProjectName, req.StackName, req.HookName); err != nil {
		return nil, err
	}
	return api.DeleteStackWebhook204Response{}, nil
}

// PingStackWebhook sends a ping to a stack webhook.
func (s *Server) PingStackWebhook(ctx context.Context, req api.PingStackWebhookRequestObject) (api.PingStackWebhookResponseObject, error) {
	out, err := s.pingHook(ctx, req.ProjectName, req.StackName, req.HookName)
	if err != nil {
		return nil, err
	}
	return api.PingStackWebhook200JSONResponse(out), nil
}

// GetStackWebhookDeliveries lists a stack webhook's attempts.
func (s *Server) GetStackWebhookDeliveries(ctx context.Context, req api.GetStackWebhookDeliveriesRequestObject) (api.GetStackWebhookDeliveriesResponseObject, error) {
	out, err := s.hookDeliveries(ctx, req.ProjectName, req.StackName, req.HookName)
	if err != nil {
		return nil, err
	}
	return api.GetStackWebhookDeliveries200JSONResponse(out), nil
}
