package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/policyresults/policyresults/gen/client"
)

// benchKind is one kind of request of the mix.
type benchKind struct {
	name   string
	weight int
	// naive marks the grid and facet kinds, measured against the naive SQL.
	naive bool
}

// benchKinds is the request mix: a kind is picked at random with these
// weights for every request.
var benchKinds = []benchKind{
	{"grid.default", 10, true},      // POST /issues, no filter, default order, one of the first five pages
	{"grid.filter", 20, true},       // a common filter (status, severity, priority, kind, level, pack, policy, entity, group, assignee), default order
	{"grid.sort", 10, true},         // a common filter or none, sorted by observedAt, severity or priority
	{"grid.deep", 3, true},          // default order at startRow 100,000 (the middle of smaller data sets)
	{"grid.deep.filtered", 0, true}, // a broad filter's page at startRow 100,000 (an eighth of smaller data sets); only with --kinds
	{"grid.contains", 4, true},      // contains on resourceName, resourceURN or message
	{"facets", 8, true},             // POST /issues/filters on a low-cardinality field, with a filter
	{"compliance", 3, false},        // POST /compliance, stacks, size 1000
	{"policies", 3, false},          // POST /policies, a page of 100
	{"metadata", 3, false},          // GET /metadata
	{"trends", 0, false},            // POST /trends: a year by day, grouped by a random field or not; only with --kinds
	{"patch", 4, false},             // PATCH /issues/{id}: status, priority or assignee of an active issue
	{"evaluation", 2, false},        // POST /evaluations: a 1,000-resource stack with 50 violations, 5 of them moving
}

// benchRequest is one request of the mix, ready to send.
type benchRequest struct {
	kind string
	// body is the JSON body of grid and facet requests (their naive SQL
	// reads it too).
	body  []byte
	field string // facets: the field
	view  string // grid.filter: the name of the everyday filter (gridViews)
	do    func(ctx context.Context) error
}

// benchEnv is what the requests need: the client and values sampled from
// the organisation's data.
type benchEnv struct {
	c     *client.ClientWithResponses
	raw   *client.Client
	org   string
	packs []string
	pols  []string
	projs []string
	// stackPairs are (project, stack) pairs of stacks with issues.
	stackPairs [][2]string
	groups     []string
	users      []string
	words      []string
	issues     []string
	total      int
	runID      int64
	evalSeq    atomic.Int64
	stackV     sync.Map // stack name → *atomic.Int64 version
}

// checkStatus reads a response to the end and fails unless it is a 2xx.
func checkStatus(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s %s: %d %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, b)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// sample reads values to build requests from: facet values, issue ids and
// the number of issues.
func (e *benchEnv) sample(ctx context.Context) error {
	facet := func(field string, n int) ([]string, error) {
		resp, err := e.c.GetPolicyIssuesFiltersWithBodyWithResponse(ctx, e.org, "application/json",
			strings.NewReader(`{"field":"`+field+`"}`))
		if err != nil {
			return nil, err
		}
		if resp.JSON200 == nil {
			return nil, fmt.Errorf("facets %s: %d %s", field, resp.StatusCode(), resp.Body)
		}
		var out []string
		for _, v := range resp.JSON200.Values {
			if v.Name != "" && len(out) < n {
				out = append(out, v.Name)
			}
		}
		return out, nil
	}
	var err error
	for _, f := range []struct {
		field string
		dst   *[]string
		n     int
	}{{"policyPack", &e.packs, 10}, {"policyName", &e.pols, 40}, {"entityProject", &e.projs, 200},
		{"policyGroupName", &e.groups, 10}, {"assignedTo", &e.users, 10}} {
		if *f.dst, err = facet(f.field, f.n); err != nil {
			return err
		}
	}
	page := func(body string) (*client.ListPolicyIssuesResponse, error) {
		resp, err := e.c.ListPolicyIssuesWithBodyWithResponse(ctx, e.org, "application/json", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		if resp.JSON200 == nil {
			return nil, fmt.Errorf("issues: %d %s", resp.StatusCode(), resp.Body)
		}
		return resp.JSON200, nil
	}
	first, err := page(`{"startRow":0,"endRow":1}`)
	if err != nil {
		return err
	}
	if first.RowCount != nil {
		e.total = *first.RowCount
	}
	active, err := page(`{"startRow":0,"endRow":1,"filterModel":{"status":{"filterType":"set","values":["open","in_progress"]}}}`)
	if err != nil {
		return err
	}
	n := 0
	if active.RowCount != nil {
		n = *active.RowCount
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := map[string]bool{}
	for i := 0; i < 10 && n > 0; i++ {
		start := rng.IntN(max(1, n-1000))
		p, err := page(fmt.Sprintf(`{"startRow":%d,"endRow":%d,"filterModel":{"status":{"filterType":"set","values":["open","in_progress"]}}}`, start, start+200))
		if err != nil {
			return err
		}
		for _, is := range p.PolicyIssues {
			e.issues = append(e.issues, is.Id.String())
			if is.EntityType == "stack" && len(e.stackPairs) < 200 {
				e.stackPairs = append(e.stackPairs, [2]string{is.EntityProject, is.EntityId})
			}
			// Needles for contains: pieces of names and messages.
			if len(words) < 200 {
				msg := ""
				if is.Message != nil {
					msg = *is.Message
				}
				for _, w := range strings.FieldsFunc(is.ResourceName+" "+msg, func(r rune) bool { return r == ' ' || r == ':' || r == '.' }) {
					if len(w) >= 5 {
						words[strings.ToLower(w)] = true
					}
				}
			}
		}
	}
	for w := range words {
		e.words = append(e.words, w)
	}
	slices.Sort(e.words)
	if len(e.issues) == 0 {
		return errors.New("the organisation has no active issues; load data first (policyresults demo)")
	}
	if len(e.words) == 0 {
		e.words = []string{"bucket"}
	}
	return nil
}

func oneOf[T any](rng *rand.Rand, xs []T, fallback T) T {
	if len(xs) == 0 {
		return fallback
	}
	return xs[rng.IntN(len(xs))]
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// gridViews names the everyday filters of benchEnv.view, in its order; the
// per-view table of grid.filter (--view-samples) uses these names.
var gridViews = []string{
	"active", "open critical/high", "a policy pack", "a policy", "an assignee", "active accounts",
	"audit and mandatory", "a group, active", "open p0/p1", "a project", "one stack",
	"ignored or by design", "in-progress low",
}

// commonFilter is a filter model of the grid's everyday views, in the
// shapes clients send (column filter model, Pulumi's join, AG Grid's
// advanced join).
func (e *benchEnv) commonFilter(rng *rand.Rand) string {
	_, body := e.view(rng.IntN(len(gridViews)), rng)
	return body
}

// view is the filter model of gridViews[i], with values drawn from the
// organisation's data.
func (e *benchEnv) view(i int, rng *rand.Rand) (name, filter string) {
	textEq := func(col, v string) string {
		return `{"filterType":"text","colId":"` + col + `","type":"equals","filter":` + jsonString(v) + `}`
	}
	name = gridViews[i]
	switch i {
	case 0:
		return name, `{"status":{"filterType":"set","values":["open","in_progress"]}}`
	case 1:
		return name, `{"type":"AND","conditions":[{"filterType":"set","colId":"status","values":["open"]},{"filterType":"set","colId":"severity","values":["critical","high"]}]}`
	case 2:
		return name, `{"policyPack":{"filterType":"text","type":"equals","filter":` + jsonString(oneOf(rng, e.packs, "x")) + `}}`
	case 3:
		return name, textEq("policyName", oneOf(rng, e.pols, "x"))
	case 4:
		return name, `{"assignedTo":{"filterType":"text","type":"equals","filter":` + jsonString(oneOf(rng, e.users, "alice")) + `}}`
	case 5:
		return name, `{"filterType":"join","type":"AND","conditions":[` + textEq("entityType", "insights-account") +
			`,{"filterType":"set","colId":"status","values":["open","in_progress"]}]}`
	case 6:
		return name, `{"kind":{"filterType":"text","type":"equals","filter":"audit"},"level":{"filterType":"text","type":"equals","filter":"mandatory"}}`
	case 7:
		return name, `{"type":"AND","conditions":[` + textEq("policyGroupName", oneOf(rng, e.groups, "x")) +
			`,{"filterType":"set","colId":"status","values":["open","in_progress"]}]}`
	case 8:
		return name, `{"priority":{"filterType":"set","values":["p0","p1"]},"status":{"filterType":"set","values":["open"]}}`
	case 9:
		return name, `{"entityProject":{"filterType":"text","type":"equals","filter":` + jsonString(oneOf(rng, e.projs, "x")) + `}}`
	case 10:
		st := oneOf(rng, e.stackPairs, [2]string{"x", "x"})
		return name, `{"type":"AND","conditions":[` + textEq("entityProject", st[0]) + `,` + textEq("entityId", st[1]) + `]}`
	case 11:
		return name, `{"status":{"filterType":"set","values":["ignored","by_design"]}}`
	}
	return name, `{"severity":{"filterType":"set","values":["low"]},"status":{"filterType":"set","values":["in_progress"]}}`
}

// filterPage is grid.filter's request body: the first page of a view in
// the default order.
func filterPage(filter string) string {
	return `{"startRow":0,"endRow":100,"filterModel":` + filter + `}`
}

// request builds one request of a kind.
func (e *benchEnv) request(kind string, clientID int, rng *rand.Rand) benchRequest {
	req := benchRequest{kind: kind}
	grid := func(body string) {
		req.body = []byte(body)
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.ListPolicyIssuesWithBody(ctx, e.org, "application/json", bytes.NewReader(req.body)))
		}
	}
	switch kind {
	case "grid.default":
		start := 100 * rng.IntN(5)
		grid(fmt.Sprintf(`{"startRow":%d,"endRow":%d}`, start, start+100))
	case "grid.filter":
		var filter string
		req.view, filter = e.view(rng.IntN(len(gridViews)), rng)
		grid(filterPage(filter))
	case "grid.sort":
		sorts := []string{`[{"colId":"observedAt","sort":"desc"}]`, `[{"colId":"severity","sort":"desc"}]`, `[{"colId":"priority","sort":"asc"}]`}
		filter := "null"
		if rng.IntN(3) > 0 {
			filter = e.commonFilter(rng)
		}
		grid(`{"startRow":0,"endRow":100,"filterModel":` + filter + `,"sortModel":` + oneOf(rng, sorts, "null") + `}`)
	case "grid.deep":
		start := 100000
		if e.total < 200000 {
			start = e.total / 2
		}
		grid(fmt.Sprintf(`{"startRow":%d,"endRow":%d}`, start, start+100))
	case "grid.deep.filtered":
		// The CLI pages a filter by startRow too. Each filter selects a
		// quarter to three quarters of the demo's issues (a pack: 4% to
		// 52%) in the default or observedAt order.
		start := 100000
		if e.total < 800000 {
			start = e.total / 8
		}
		filter := oneOf(rng, []string{
			`{"status":{"filterType":"set","values":["open","in_progress"]}}`,
			`{"type":"AND","conditions":[{"filterType":"set","colId":"status","values":["open"]},{"filterType":"set","colId":"severity","values":["critical","high"]}]}`,
			`{"policyPack":{"filterType":"text","type":"equals","filter":` + jsonString(oneOf(rng, e.packs, "x")) + `}}`,
			`{"priority":{"filterType":"set","values":["p0","p1"]},"status":{"filterType":"set","values":["open"]}}`,
		}, "null")
		sort := oneOf(rng, []string{`null`, `[{"colId":"observedAt","sort":"desc"}]`}, "null")
		grid(fmt.Sprintf(`{"startRow":%d,"endRow":%d,"filterModel":%s,"sortModel":%s}`, start, start+100, filter, sort))
	case "grid.contains":
		col := oneOf(rng, []string{"resourceName", "resourceURN", "message"}, "message")
		grid(`{"startRow":0,"endRow":100,"filterModel":{"` + col + `":{"filterType":"text","type":"contains","filter":` +
			jsonString(oneOf(rng, e.words, "bucket")) + `}}}`)
	case "facets":
		field := oneOf(rng, []string{"status", "severity", "policyPack", "policyName", "kind", "level", "priority", "policyGroupName", "entityType"}, "status")
		req.field = field
		req.body = []byte(`{"field":"` + field + `","filterModel":` + e.commonFilter(rng) + `}`)
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.GetPolicyIssuesFiltersWithBody(ctx, e.org, "application/json", bytes.NewReader(req.body)))
		}
	case "compliance":
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.GetPolicyComplianceResultsWithBody(ctx, e.org, "application/json",
				strings.NewReader(`{"entity":"stack","size":1000}`)))
		}
	case "policies":
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.ListPoliciesComplianceWithBody(ctx, e.org, "application/json",
				strings.NewReader(`{"startRow":0,"endRow":100}`)))
		}
	case "metadata":
		req.do = func(ctx context.Context) error { return checkStatus(e.raw.GetPolicyResultsMetadata(ctx, e.org)) }
	case "trends":
		to := time.Now().UTC()
		body := `{"from":"` + to.AddDate(0, 0, -364).Format(time.DateOnly) + `","to":"` + to.Format(time.DateOnly) + `","interval":"day"`
		if g := oneOf(rng, []string{"", "severity", "policyPack", "entityType", "kind", "policyGroupName"}, ""); g != "" {
			body += `,"groupBy":"` + g + `"`
		}
		body += "}"
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.GetPolicyResultsTrendsWithBody(ctx, e.org, "application/json", strings.NewReader(body)))
		}
	case "patch":
		id := oneOf(rng, e.issues, "")
		var body string
		switch rng.IntN(3) {
		case 0:
			body = `{"status":` + jsonString(oneOf(rng, []string{"open", "in_progress"}, "open")) + `}`
		case 1:
			body = `{"priority":` + jsonString(oneOf(rng, []string{"p1", "p2", "p3"}, "p2")) + `}`
		default:
			body = `{"assignedTo":` + jsonString(oneOf(rng, append([]string{""}, e.users...), "")) + `}`
		}
		req.do = func(ctx context.Context) error {
			return checkStatus(e.raw.UpdatePolicyIssueWithBody(ctx, e.org, id, nil, "application/json", strings.NewReader(body)))
		}
	case "evaluation":
		req.do = func(ctx context.Context) error { return e.evaluation(ctx, clientID, rng) }
	}
	return req
}

// evaluation posts a complete evaluation of the client's stack: 1,000 S3
// buckets of pack aws-cis-benchmark, 50 of them failing one policy; 45
// always fail and 5 are picked at random, so each evaluation fixes and
// opens a few issues.
func (e *benchEnv) evaluation(ctx context.Context, clientID int, rng *rand.Rand) error {
	stack := fmt.Sprintf("c%d", clientID)
	v, _ := e.stackV.LoadOrStore(stack, new(atomic.Int64))
	version := v.(*atomic.Int64).Add(1)
	project := fmt.Sprintf("loadgen-%d", e.runID)
	const policy, passing = "s3-bucket-server-side-encryption", "s3-bucket-versioning-enabled"
	failing := map[int]bool{}
	for i := 0; i < 45; i++ {
		failing[i*20] = true
	}
	for len(failing) < 50 {
		failing[rng.IntN(1000)] = true
	}
	type pack struct {
		Name   string   `json:"name"`
		Passed []string `json:"passed,omitempty"`
		Failed []string `json:"failed,omitempty"`
	}
	type resource struct {
		URN         string `json:"urn"`
		PolicyPacks []pack `json:"policyPacks"`
	}
	type violation struct {
		PolicyPack  string `json:"policyPack"`
		PolicyName  string `json:"policyName"`
		ResourceURN string `json:"resourceURN"`
		Message     string `json:"message"`
		Severity    string `json:"severity"`
	}
	body := struct {
		Stack       map[string]any      `json:"stack"`
		PolicyPacks []map[string]string `json:"policyPacks"`
		Resources   []resource          `json:"resources"`
		Violations  []violation         `json:"violations"`
	}{
		Stack:       map[string]any{"project": project, "name": stack, "version": version},
		PolicyPacks: []map[string]string{{"name": "aws-cis-benchmark", "versionTag": "1.5.1"}},
	}
	for i := 0; i < 1000; i++ {
		urn := fmt.Sprintf("urn:pulumi:%s::%s::aws:s3/bucket:Bucket::bucket-%04d", stack, project, i)
		p := pack{Name: "aws-cis-benchmark", Passed: []string{passing}}
		if failing[i] {
			p.Failed = []string{policy}
			body.Violations = append(body.Violations, violation{PolicyPack: "aws-cis-benchmark", PolicyName: policy,
				ResourceURN: urn, Message: "S3 buckets must encrypt objects at rest.", Severity: "medium"})
		} else {
			p.Passed = append(p.Passed, policy)
		}
		body.Resources = append(body.Resources, resource{URN: urn, PolicyPacks: []pack{p}})
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	e.evalSeq.Add(1)
	return checkStatus(e.raw.CreatePolicyEvaluationWithBody(ctx, e.org, "application/json", bytes.NewReader(b)))
}
