package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server/servertest"
)

// TestNULCharactersAre400 sends strings holding a NUL character, which
// PostgreSQL's text can't store, in bodies and path parameters of several
// operations: each is a 400 naming the field on both databases, never a
// 500, and nothing is written.
func TestNULCharactersAre400(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.Start(t, b)
		org := env.NewOrg(t)
		seedStacks(t, env, org, 1, 2)
		before := orgSnapshot(t, b.Repo, org.ID)
		base := "/api/orgs/" + org.Name
		for _, c := range []struct {
			name, method, path, body, field string
		}{
			{"policy message", http.MethodPost, base + "/policypacks", `{"name":"p","displayName":"P","policies":[{"name":"a","displayName":"A","description":"","enforcementLevel":"advisory","message":"x\u0000y"}]}`, `policies[0].message`},
			// A name without a pattern in openapi.yaml (those with one fail it
			// first, a 400 naming the field too).
			{"group name", http.MethodPatch, base + "/policygroups/default-policy-group", `{"newName":"g\u0000"}`, `newName`},
			{"filter value", http.MethodPost, base + "/policyresults/issues", `{"filterModel":{"colId":"message","filterType":"text","type":"contains","filter":"\u0000"}}`, `filterModel.filter`},
			{"facet field", http.MethodPost, base + "/policyresults/issues/filters", `{"field":"status\u0000"}`, `field`},
			{"path parameter", http.MethodGet, base + "/policygroups/a%00b", "", `policyGroup`},
			{"stack name in the path", http.MethodPut, "/api/preview/insights/" + org.Name + "/policy/stacks/shop/s%000/updates/2/results", `{"results":{"succeeded":true}}`, `stackName`},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, _, raw := call(t, env, "token "+org.Admin, c.method, c.path, c.body)
				if status != http.StatusBadRequest {
					t.Fatalf("%d %.300s, want 400", status, raw)
				}
				if eb := errorBodyOf(t, status, raw); !strings.Contains(eb.Message, `"`+c.field+`"`) || !strings.Contains(eb.Message, "NUL character") {
					t.Fatalf("message %q does not name %s and the NUL character", eb.Message, c.field)
				}
			})
		}
		if after := orgSnapshot(t, b.Repo, org.ID); after != before {
			t.Fatal("refused requests changed data")
		}
	})
}
