// Package servertest starts the real policyresults server for component
// tests and gives them generated clients whose every response is validated
// against openapi.yaml.
package servertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/gen/client"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
)

// Env is a running server on one database.
type Env struct {
	URL     string
	Repo    *repository.Repository
	Backend *repotest.Backend
	router  routers.Router
}

// Start serves the API on a random loopback port for the test's duration.
func Start(t testing.TB, b *repotest.Backend) *Env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	_, e, err := server.New(server.Config{Repo: b.Repo, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return &Env{URL: ts.URL, Repo: b.Repo, Backend: b, router: specRouter(t)}
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

var (
	routerOnce sync.Once
	router     routers.Router
	routerErr  error
)

func specRouter(t testing.TB) routers.Router {
	routerOnce.Do(func() {
		openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
		var spec *openapi3.T
		spec, routerErr = api.GetSwagger()
		if routerErr != nil {
			return
		}
		spec.Servers = nil
		router, routerErr = gorillamux.NewRouter(spec)
	})
	if routerErr != nil {
		t.Fatal(routerErr)
	}
	return router
}

// Client returns a generated client that sends token (none when empty) and
// fails t when any response does not match openapi.yaml.
func (e *Env) Client(t testing.TB, token string) *client.ClientWithResponses {
	t.Helper()
	c, err := client.NewClientWithResponses(e.URL,
		client.WithHTTPClient(&http.Client{Transport: e.ValidatingTransport(t), Timeout: time.Minute}),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if token != "" {
				req.Header.Set("Authorization", "token "+token)
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ValidatingTransport checks every response against the spec with
// openapi3filter.ValidateResponse and reports mismatches as test errors.
func (e *Env) ValidatingTransport(t testing.TB) http.RoundTripper {
	return &validatingTransport{t: t, router: e.router, next: http.DefaultTransport}
}

type validatingTransport struct {
	t      testing.TB
	router routers.Router
	next   http.RoundTripper
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if verr := checkResponse(v.router, req, resp, body); verr != nil {
		v.t.Errorf("response to %s %s (status %d) does not match openapi.yaml: %v\nbody: %.600s", req.Method, req.URL.Path, resp.StatusCode, verr, body)
	}
	return resp, nil
}

// CheckResponse tells how a response (its body read into body) departs
// from openapi.yaml: a status the operation does not declare, a header or
// a body that does not match; nil when it matches.
func (e *Env) CheckResponse(req *http.Request, resp *http.Response, body []byte) error {
	return checkResponse(e.router, req, resp, body)
}

func checkResponse(router routers.Router, req *http.Request, resp *http.Response, body []byte) error {
	route, params, err := router.FindRoute(req)
	if err != nil {
		// Only unknown routes may answer outside the spec, and only with 404/405.
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("no route in the spec: %w", err)
	}
	// openapi3filter.ValidateResponse lets through any status of a HEAD
	// request and 301, 304, 307 and 308 unchecked: every status must be
	// declared (or covered by a range or a default response).
	if responses := route.Operation.Responses; responses.Status(resp.StatusCode) == nil && responses.Default() == nil {
		return fmt.Errorf("status %d is not declared by %s", resp.StatusCode, route.Operation.OperationID)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), in)
}

// Org is an organisation with a member of each role and their tokens.
type Org struct {
	ID               int64
	Name             string
	AdminLogin       string
	MemberLogin      string
	ViewerLogin      string
	Admin, Member    string
	Viewer, OrgToken string
	OrgViewerToken   string
	AdminEmail       string
}

var seq atomic.Int64

// NewOrg creates an organisation with an admin, a member, a viewer, an
// organisation token (member role) and an organisation viewer token.
func (e *Env) NewOrg(t testing.TB) *Org {
	t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	suffix := fmt.Sprintf("%d%d", time.Now().UnixNano()%1e7, n)
	o, err := e.Repo.Accounts.CreateOrganization(ctx, "org"+suffix)
	if err != nil {
		t.Fatal(err)
	}
	org := &Org{ID: o.ID, Name: o.Name}
	for _, m := range []struct {
		role  model.Role
		login *string
		token *string
	}{
		{model.RoleAdmin, &org.AdminLogin, &org.Admin},
		{model.RoleMember, &org.MemberLogin, &org.Member},
		{model.RoleViewer, &org.ViewerLogin, &org.Viewer},
	} {
		u := &model.User{Login: string(m.role) + suffix, Email: string(m.role) + suffix + "@example.com", Name: "The " + string(m.role)}
		if err := e.Repo.Accounts.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := e.Repo.Accounts.AddMember(ctx, o.ID, u.ID, m.role); err != nil {
			t.Fatal(err)
		}
		secret, _, err := e.Repo.Accounts.CreateToken(ctx, accounts.TokenSpec{UserID: &u.ID, Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		*m.login, *m.token = u.Login, secret
		if m.role == model.RoleAdmin {
			org.AdminEmail = u.Email
		}
	}
	var err2 error
	org.OrgToken, _, err2 = e.Repo.Accounts.CreateToken(ctx, accounts.TokenSpec{OrgID: &o.ID, Name: "ci", Role: model.RoleMember})
	if err2 != nil {
		t.Fatal(err2)
	}
	org.OrgViewerToken, _, err2 = e.Repo.Accounts.CreateToken(ctx, accounts.TokenSpec{OrgID: &o.ID, Name: "dashboards", Role: model.RoleViewer})
	if err2 != nil {
		t.Fatal(err2)
	}
	return org
}
