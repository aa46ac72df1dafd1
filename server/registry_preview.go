package server

import (
	"context"
	"net/http"

	"github.com/policyresults/policyresults/gen/api"
)

// The registry's operations under /api/preview/registry/policypacks, which
// Pulumi still serves beside /api/registry/policypacks under operation ids of
// their own. Each answers exactly as its /api/registry operation does: the
// request converts field for field, and the answer is the same response
// written through the preview operation's interface.

// previewAnswer adapts the response of a registry operation to the response
// interface of its preview path.
type previewAnswer struct {
	visit func(http.ResponseWriter) error
}

func (a previewAnswer) VisitListPolicyPacksPreviewRegistryResponse(w http.ResponseWriter) error {
	return a.visit(w)
}

func (a previewAnswer) VisitListPolicyPacksPreviewRegistryPostResponse(w http.ResponseWriter) error {
	return a.visit(w)
}

func (a previewAnswer) VisitDeletePolicyPackPreviewRegistryPolicypacksResponse(w http.ResponseWriter) error {
	return a.visit(w)
}

func (a previewAnswer) VisitListPolicyPackVersionsResponse(w http.ResponseWriter) error {
	return a.visit(w)
}

func (a previewAnswer) VisitPostPublishPolicyPackVersionResponse(w http.ResponseWriter) error {
	return a.visit(w)
}

func (a previewAnswer) VisitGetPolicyPackVersionResponse(w http.ResponseWriter) error {
	return a.visit(w)
}

func (a previewAnswer) VisitDeletePolicyPackPreviewRegistryPolicypacksVersionsResponse(w http.ResponseWriter) error {
	return a.visit(w)
}

func (a previewAnswer) VisitPostPublishPolicyPackVersionCompleteResponse(w http.ResponseWriter) error {
	return a.visit(w)
}

// ListPolicyPacksPreviewRegistry answers as ListPolicyPacks.
func (s *Server) ListPolicyPacksPreviewRegistry(ctx context.Context, req api.ListPolicyPacksPreviewRegistryRequestObject) (api.ListPolicyPacksPreviewRegistryResponseObject, error) {
	r, err := s.ListPolicyPacks(ctx, api.ListPolicyPacksRequestObject{Params: api.ListPolicyPacksParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return previewAnswer{r.VisitListPolicyPacksResponse}, nil
}

// ListPolicyPacksPreviewRegistryPost answers as ListPolicyPacks_post.
func (s *Server) ListPolicyPacksPreviewRegistryPost(ctx context.Context, req api.ListPolicyPacksPreviewRegistryPostRequestObject) (api.ListPolicyPacksPreviewRegistryPostResponseObject, error) {
	r, err := s.ListPolicyPacksPost(ctx, api.ListPolicyPacksPostRequestObject(req))
	if err != nil {
		return nil, err
	}
	return previewAnswer{r.VisitListPolicyPacksPostResponse}, nil
}

// DeletePolicyPackPreviewRegistryPolicypacks answers as DeletePolicyPack.
func (s *Server) DeletePolicyPackPreviewRegistryPolicypacks(ctx context.Context, req api.DeletePolicyPackPreviewRegistryPolicypacksRequestObject) (api.DeletePolicyPackPreviewRegistryPolicypacksResponseObject, error) {
	r, err := s.DeletePolicyPack(ctx, api.DeletePolicyPackRequestObject(req))
	if err != nil {
		return nil, err
	}
	return previewAnswer{r.VisitDeletePolicyPackResponse}, nil
}

// ListPolicyPackVersions answers as ListPolicyPackVersionsForRegistry.
func (s *Server) ListPolicyPackVersions(ctx context.Context, req api.ListPolicyPackVersionsRequestObject) (api.ListPolicyPackVersionsResponseObject, error) {
	r, err := s.ListPolicyPackVersionsForRegistry(ctx, api.ListPolicyPackVersionsForRegistryRequestObject(req))
	if err != nil {
		return nil, err
	}
	return previewAnswer{r.VisitListPolicyPackVersionsForRegistryResponse}, nil
}

// PostPublishPolicyPackVersion answers as PostPublishPolicyPackVersionForRegistry.
func (s *Server) PostPublishPolicyPackVersion(ctx context.Context, req api.PostPublishPolicyPackVersionRequestObject) (api.PostPublishPolicyPackVersionResponseObject, error) {
	r, err := s.PostPublishPolicyPackVersionForRegistry(ctx, api.PostPublishPolicyPackVersionForRegistryRequestObject(req))
	if err != nil {
		return nil, err
	}
	return previewAnswer{r.VisitPostPublishPolicyPackVersionForRegistryResponse}, nil
}

// GetPolicyPackVersion answers as GetPolicyPackVersionForRegistry.
func (s *Server) GetPolicyPackVersion(ctx context.Context, req api.GetPolicyPackVersionRequestObject) (api.GetPolicyPackVersionResponseObject, error) {
	r, err := s.GetPolicyPackVersionForRegistry(ctx, api.GetPolicyPackVersionForRegistryRequestObject(req))
	if err != nil {
		return nil, err
	}
	return previewAnswer{r.VisitGetPolicyPackVersionForRegistryResponse}, nil
}

// DeletePolicyPackPreviewRegistryPolicypacksVersions answers as DeleteRegistryPolicyPackVersion.
func (s *Server) DeletePolicyPackPreviewRegistryPolicypacksVersions(ctx context.Context, req api.DeletePolicyPackPreviewRegistryPolicypacksVersionsRequestObject) (api.DeletePolicyPackPreviewRegistryPolicypacksVersionsResponseObject, error) {
	r, err := s.DeleteRegistryPolicyPackVersion(ctx, api.DeleteRegistryPolicyPackVersionRequestObject(req))
	if err != nil {
		return nil, err
	}
	return previewAnswer{r.VisitDeleteRegistryPolicyPackVersionResponse}, nil
}

// PostPublishPolicyPackVersionComplete answers as PostPublishPolicyPackVersionCompleteForRegistry.
func (s *Server) PostPublishPolicyPackVersionComplete(ctx context.Context, req api.PostPublishPolicyPackVersionCompleteRequestObject) (api.PostPublishPolicyPackVersionCompleteResponseObject, error) {
	r, err := s.PostPublishPolicyPackVersionCompleteForRegistry(ctx, api.PostPublishPolicyPackVersionCompleteForRegistryRequestObject(req))
	if err != nil {
		return nil, err
	}
	return previewAnswer{r.VisitPostPublishPolicyPackVersionCompleteForRegistryResponse}, nil
}
