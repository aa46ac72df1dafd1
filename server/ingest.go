package server

import (
	"context"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
)

// ingestActor names the caller in the history of issues an evaluation
// changes.
func ingestActor(a *accounts.Access) repository.Actor {
	name, typ := a.Caller.Actor()
	return repository.Actor{Name: name, Type: typ}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// policyInputFromAPI maps an AppPolicy to the repository's policy metadata.
func policyInputFromAPI(p api.AppPolicy) model.PolicyInput {
	in := model.PolicyInput{
		Name:             p.Name,
		DisplayName:      p.DisplayName,
		Description:      p.Description,
		EnforcementLevel: string(p.EnforcementLevel),
		Message:          p.Message,
		Severity:         string(deref(p.Severity)),
		RemediationSteps: deref(p.RemediationSteps),
		URL:              deref(p.Url),
		Tags:             deref(p.Tags),
	}
	if p.ConfigSchema.IsSpecified() && !p.ConfigSchema.IsNull() {
		in.ConfigSchema, _ = jsonRaw(p.ConfigSchema.MustGet())
	}
	if p.Framework.IsSpecified() && !p.Framework.IsNull() {
		fw := p.Framework.MustGet()
		in.Framework = &model.Framework{
			Name: deref(fw.Name), Version: deref(fw.Version), Reference: deref(fw.Reference), Specification: deref(fw.Specification),
		}
	}
	return in
}

// CreatePolicyEvaluation ingests policyresults' complete evaluation form.
func (s *Server) CreatePolicyEvaluation(ctx context.Context, req api.CreatePolicyEvaluationRequestObject) (api.CreatePolicyEvaluationResponseObject, error) {
	a, err := requireWrite(ctx)
	if err != nil {
		return api.CreatePolicyEvaluation403JSONResponse{ForbiddenJSONResponse: api.ForbiddenJSONResponse(errorBody(err))}, nil
	}
	b := req.Body
	ev := ingest.Evaluation{Complete: true, PolicyGroup: deref(b.PolicyGroup), ObservedAt: deref(b.ObservedAt)}
	if b.Kind != nil {
		ev.Kind = string(*b.Kind)
	}
	if b.Stack != nil {
		ev.Stack = &ingest.StackRef{Project: b.Stack.Project, Name: b.Stack.Name, Version: int64(b.Stack.Version)}
	}
	if b.Account != nil {
		ev.Account = &ingest.AccountRef{Name: b.Account.Name, Provider: deref(b.Account.Provider), Version: int64(b.Account.Version)}
	}
	for _, p := range b.PolicyPacks {
		pack := ingest.EvaluatedPack{Name: p.Name, VersionTag: p.VersionTag, Error: deref(p.Error)}
		for _, pol := range deref(p.Policies) {
			pack.Policies = append(pack.Policies, policyInputFromAPI(pol))
		}
		ev.Packs = append(ev.Packs, pack)
	}
	for _, r := range deref(b.Resources) {
		res := ingest.EvaluatedResource{URN: r.Urn, ID: deref(r.Id), Type: deref(r.Type), Provider: deref(r.Provider), Name: deref(r.Name)}
		if r.Version != nil {
			v := int64(*r.Version)
			res.Version = &v
		}
		for _, o := range deref(r.PolicyPacks) {
			res.Packs = append(res.Packs, ingest.ResourcePackOutcome{Name: o.Name, Passed: deref(o.Passed), Failed: deref(o.Failed)})
		}
		ev.Resources = append(ev.Resources, res)
	}
	for _, v := range deref(b.Violations) {
		viol := ingest.Violation{
			PolicyPack: v.PolicyPack, PolicyName: v.PolicyName, ResourceURN: deref(v.ResourceURN),
			Message: deref(v.Message), EnforcementLevel: string(deref(v.EnforcementLevel)),
		}
		if v.Severity != nil {
			sev := string(*v.Severity)
			viol.Severity = &sev
		}
		ev.Violations = append(ev.Violations, viol)
	}
	sum, err := s.repo.ApplyEvaluation(ctx, a.Org.ID, ingestActor(a), ev)
	if err != nil {
		return nil, err
	}
	id := int(sum.EvaluationID)
	return api.CreatePolicyEvaluation200JSONResponse{
		IssuesOpened: sum.Opened, IssuesReopened: sum.Reopened, IssuesFixed: sum.Fixed,
		IssuesUnchanged: sum.Unchanged, ResourcesGoverned: sum.ResourcesGoverned, EvaluationId: &id,
	}, nil
}

// pulumiEvaluation maps Pulumi's violations-only results to an evaluation.
// succeeded: false without violations means the packs could not run.
// packFrom is, for each of the evaluation's packs, the index of the first
// violation naming it (for messages: pulumiFieldError).
func pulumiEvaluation(results api.InsightsPolicyResults) (ev ingest.Evaluation, packFrom []int) {
	var violations []api.InsightsPolicyViolation
	if results.Violations.IsSpecified() && !results.Violations.IsNull() {
		violations = results.Violations.MustGet()
	}
	if !results.Succeeded && len(violations) == 0 {
		ev.Error = "the policy evaluation did not succeed"
	}
	seen := map[string]bool{}
	for i, v := range violations {
		if !seen[v.PolicyPackName] {
			seen[v.PolicyPackName] = true
			ev.Packs = append(ev.Packs, ingest.EvaluatedPack{Name: v.PolicyPackName, VersionTag: deref(v.PolicyPackVersion)})
			packFrom = append(packFrom, i)
		}
		if v.Kind != nil && ev.Kind == "" {
			ev.Kind = string(*v.Kind)
		}
		ev.Violations = append(ev.Violations, ingest.Violation{
			PolicyPack: v.PolicyPackName, PolicyName: v.PolicyName, ResourceURN: deref(v.ResourceURN),
			Message: deref(v.Message), EnforcementLevel: string(deref(v.EnforcementLevel)),
		})
	}
	return ev, packFrom
}

// UpdateStackPolicyResults ingests Pulumi's results of a stack update.
func (s *Server) UpdateStackPolicyResults(ctx context.Context, req api.UpdateStackPolicyResultsRequestObject) (api.UpdateStackPolicyResultsResponseObject, error) {
	a, err := requireWrite(ctx)
	if err != nil {
		return api.UpdateStackPolicyResults403JSONResponse{ForbiddenJSONResponse: api.ForbiddenJSONResponse(errorBody(err))}, nil
	}
	ev, packFrom := pulumiEvaluation(req.Body.Results)
	ev.Stack = &ingest.StackRef{Project: req.ProjectName, Name: req.StackName, Version: int64(req.Version)}
	if _, err := s.repo.ApplyEvaluation(ctx, a.Org.ID, ingestActor(a), ev); err != nil {
		return nil, pulumiFieldError(err, stackPathFields, packFrom)
	}
	return api.UpdateStackPolicyResults204Response{}, nil
}

// UpdateResourceVersionPolicyResults ingests Pulumi's results of one scanned
// resource of an Insights account.
func (s *Server) UpdateResourceVersionPolicyResults(ctx context.Context, req api.UpdateResourceVersionPolicyResultsRequestObject) (api.UpdateResourceVersionPolicyResultsResponseObject, error) {
	a, err := requireWrite(ctx)
	if err != nil {
		return api.UpdateResourceVersionPolicyResults403JSONResponse{ForbiddenJSONResponse: api.ForbiddenJSONResponse(errorBody(err))}, nil
	}
	ev, packFrom := pulumiEvaluation(req.Body.Results)
	ev.Account = &ingest.AccountRef{Name: req.AccountName, Version: int64(req.ResourceVersion)}
	ev.Scope = req.ResourceTypeAndId
	if _, err := s.repo.ApplyEvaluation(ctx, a.Org.ID, ingestActor(a), ev); err != nil {
		return nil, pulumiFieldError(err, accountPathFields, packFrom)
	}
	return api.UpdateResourceVersionPolicyResults204Response{}, nil
}
