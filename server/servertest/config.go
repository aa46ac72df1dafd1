package servertest

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
)

// StartWith serves the API like Start but with cfg: its Repo defaults to
// the backend's and its Logger to a discarding one. Env.Repo is cfg.Repo.
func StartWith(t testing.TB, b *repotest.Backend, cfg server.Config) *Env {
	t.Helper()
	if cfg.Repo == nil {
		cfg.Repo = b.Repo
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	_, e, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return &Env{URL: ts.URL, Repo: cfg.Repo, Backend: b, router: specRouter(t)}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
