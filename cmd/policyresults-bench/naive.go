package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/policyresults/policyresults/cmd/policyresults-bench/naive"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/issuequery"
)

// runNaive runs, for each grid and facet kind, naive-samples requests of the
// mix as naive SQL from the same number of clients.
func runNaive(ctx context.Context, o *benchOptions, env *benchEnv, kinds []benchKind, stats map[string]*kindStats) error {
	repo, err := repository.Open(ctx, o.databaseURL, repository.Options{Logger: o.log, MaxOpenConns: o.clients})
	if err != nil {
		return err
	}
	defer repo.Close()
	org, err := repo.Accounts.OrganizationByName(ctx, o.org)
	if err != nil {
		return err
	}
	for _, k := range kinds {
		if !k.naive {
			continue
		}
		s := stats[k.name]
		rng := rand.New(rand.NewPCG(o.seed+2, uint64(len(k.name))))
		// A request with a view counts in its view's figures only, so the
		// kind's figures stay those of the mix's random draw.
		reqs := make(chan benchRequest)
		var wg sync.WaitGroup
		for i := 0; i < o.clients; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for req := range reqs {
					start := time.Now()
					err := naiveRun(ctx, repo, org.ID, req)
					s.mu.Lock()
					switch {
					case err != nil:
						s.naiveE++
						s.lastErr = "naive: " + err.Error()
					case req.view != "":
						v := s.view(req.view)
						v.naive = append(v.naive, time.Since(start))
					default:
						s.naive = append(s.naive, time.Since(start))
					}
					s.mu.Unlock()
				}
			}()
		}
		for n := 0; n < o.naiveSamples; n++ {
			req := env.request(k.name, 0, rng)
			req.view = ""
			reqs <- req
		}
		if k.name == "grid.filter" {
			for i := range gridViews {
				for n := 0; n < o.viewSamples; n++ {
					req := benchRequest{kind: k.name}
					var filter string
					req.view, filter = env.view(i, rng)
					req.body = []byte(filterPage(filter))
					reqs <- req
				}
			}
		}
		close(reqs)
		wg.Wait()
	}
	return nil
}

// naiveRun runs one grid or facet request as naive SQL.
func naiveRun(ctx context.Context, repo *repository.Repository, orgID int64, req benchRequest) error {
	if req.kind == "facets" {
		var body struct {
			Field       string          `json:"field"`
			FilterModel json.RawMessage `json:"filterModel"`
		}
		if err := json.Unmarshal(req.body, &body); err != nil {
			return err
		}
		_, err := naive.Facets(ctx, repo, orgID, body.Field, body.FilterModel)
		return err
	}
	r, err := grid.DecodeRequest(req.body)
	if err != nil {
		return err
	}
	q, err := grid.Parse(r, issuequery.IssueSchema, issuequery.IssueGridOptions)
	if err != nil {
		return err
	}
	_, _, err = naive.Page(ctx, repo, orgID, q)
	return err
}
