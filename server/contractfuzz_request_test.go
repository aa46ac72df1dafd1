package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"

	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest/specgen"
)

// fuzzRequest is one request of the contract fuzz.
type fuzzRequest struct {
	op          specOperation
	path        map[string]string // path parameters, unescaped
	query       url.Values
	header      http.Header
	body        []byte
	contentType string
	bodyValue   any  // the JSON body as drawn; nil when there is none
	archive     bool // the body is a pack archive
	token       string
	// foreign lists the path parameters that name organisation B's
	// objects while the path names organisation A.
	foreign []string
}

func (r *fuzzRequest) url(base string) string {
	p := r.op.path
	for name, v := range r.path {
		p = strings.ReplaceAll(p, "{"+name+"}", url.PathEscape(v))
	}
	if len(r.query) > 0 {
		p += "?" + r.query.Encode()
	}
	return base + p
}

func (r *fuzzRequest) String() string {
	s := r.op.method + " " + r.url("")
	if r.bodyValue != nil {
		s += " " + specgen.JSON(r.bodyValue)
	} else if len(r.body) > 0 {
		s += fmt.Sprintf(" %.300q", r.body)
	}
	return s
}

// fuzzAnswer is what the server answered.
type fuzzAnswer struct {
	status int
	body   []byte
	err    server.ErrorBody
	etag   string
}

// send sends r and checks what every answer owes the contract: a status
// the operation declares, headers and a body that match openapi.yaml, no
// 5xx, and Pulumi's error body on every error.
func (w *contractWorld) send(t *rapid.T, r *fuzzRequest) fuzzAnswer {
	req, err := http.NewRequest(r.op.method, r.url(w.env.URL), bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "token "+r.token)
	}
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the answer: %v", r, err)
	}
	a := fuzzAnswer{status: resp.StatusCode, body: raw, etag: resp.Header.Get("ETag")}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s answered %d: %.600s", r, resp.StatusCode, raw)
	}
	if err := w.env.CheckResponse(req, resp, raw); err != nil {
		t.Fatalf("%s answered %d, off the contract: %v\nbody: %.600s", r, resp.StatusCode, err, raw)
	}
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(raw, &a.err); err != nil || a.err.Code != resp.StatusCode || a.err.Message == "" {
			t.Fatalf("%s answered %d without Pulumi's error body: %.600s", r, resp.StatusCode, raw)
		}
	}
	return a
}

// lookupParams name existing objects: with another organisation's value,
// the request must find nothing.
var lookupParams = []string{"issueId", "policyPackName", "name", "policyGroup", "hookName"}

// orgParams name the organisation of the path (the registry's paths name it
// as the publisher): organisation A, whose admin sends the requests. Their
// validity is membership (TestTenancyWalk), so no invalid request changes
// them.
var orgParams = []string{"orgName", "publisher"}

// packNameParams name a policy pack in a path (the registry's paths call
// it name).
var packNameParams = []string{"policyPackName", "name"}

// validRequest draws a request the specification allows: path parameters
// naming real objects of organisation A (one time in eight, the lookups
// name organisation B's instead), query and header parameters and a body
// drawn from their schemas.
func (w *contractWorld) validRequest(t *rapid.T, o specOperation, mayBeForeign bool) *fuzzRequest {
	r := &fuzzRequest{op: o, path: map[string]string{}, query: url.Values{}, header: http.Header{}, token: w.a.Admin}
	if specgen.OneIn(t, "organisation token?", 4) {
		r.token = w.a.OrgToken
	}
	foreign := false
	// An operation answering 201 creates what its path names: another
	// organisation's name there names a new object of A's.
	creates := o.op.Responses.Status(http.StatusCreated) != nil
	for _, p := range o.params {
		if !mayBeForeign || creates {
			break
		}
		if p.Value.In == openapi3.ParameterInPath && slices.Contains(lookupParams, p.Value.Name) {
			foreign = specgen.OneIn(t, "another organisation's objects?", 8)
			break
		}
	}
	// An invalid request has one thing wrong: its other parameters are
	// real values.
	w.pathValues(t, r, foreign, mayBeForeign)
	w.cur.path = r.path
	w.cur.batch = batchDraw{}
	if o.credentialParam != "" && mayBeForeign && specgen.OneIn(t, "a credential instead of the token?", 3) {
		w.presign(t, r)
	}
	for _, ref := range o.params {
		p := ref.Value
		switch p.In {
		case openapi3.ParameterInQuery:
			if p.Required || rapid.Bool().Draw(t, p.Name+" given?") {
				r.query.Set(p.Name, paramText(w.drawParam(t, p)))
			}
		case openapi3.ParameterInHeader:
			if v, ok := w.headerValue(t, r, p); ok {
				r.header.Set(p.Name, v)
			}
		case openapi3.ParameterInPath:
		default:
			t.Fatalf("%s: no way to send the %s parameter %s", o, p.In, p.Name)
		}
	}
	if o.op.RequestBody != nil {
		content := o.op.RequestBody.Value.Content
		// content.Get would match application/json to an application/* range.
		switch mt := content["application/json"]; {
		case mt != nil:
			r.bodyValue = w.gen.Draw(t, mt.Schema, "body")
			r.body = []byte(specgen.JSON(r.bodyValue))
			r.contentType = "application/json"
		case content.Get("application/gzip") != nil:
			r.body = append([]byte("\x1f\x8b"), rapid.SliceOfN(rapid.Byte(), 1, 256).Draw(t, "archive")...)
			r.archive = true
			r.contentType = rapid.SampledFrom([]string{"application/octet-stream", "application/gzip", "application/x-gzip"}).Draw(t, "content type")
		default:
			t.Fatalf("%s: no way to draw a body of %v", o, content)
		}
	}
	// An orgLogin (query or body) naming organisation B must find nothing.
	body, _ := r.bodyValue.(map[string]any)
	if r.query.Get("orgLogin") == w.b.Name || (body != nil && body["orgLogin"] == w.b.Name) {
		r.foreign = append(r.foreign, "orgLogin")
	}
	return r
}

// presign authorizes r by the credential of a presigned URL instead of a
// token: most of the time the one answered for its path, else one of
// organisation A's answered for another path, one of B's (which must not
// authorize anything of A's), or garbage.
func (w *contractWorld) presign(t *rapid.T, r *fuzzRequest) {
	r.token = ""
	own, ok := w.a.uploads[r.rawPath()]
	credential := own
	switch k := specgen.Uniform(t, "credential", 6); {
	case k == 0:
		credential = rapid.StringMatching(`[A-Za-z0-9_.-]{1,60}`).Draw(t, "credential")
	case k == 1 && len(w.b.uploads) > 0:
		credential = rapid.SampledFrom(slices.Sorted(maps.Values(w.b.uploads))).Draw(t, "B's credential")
		r.foreign = append(r.foreign, r.op.credentialParam)
	case (k == 2 || !ok) && len(w.a.uploads) > 0:
		credential = rapid.SampledFrom(slices.Sorted(maps.Values(w.a.uploads))).Draw(t, "another credential")
	}
	r.query.Set(r.op.credentialParam, credential)
}

// rawPath is r's path with its parameters, unescaped.
func (r *fuzzRequest) rawPath() string {
	p := r.op.path
	for name, v := range r.path {
		p = strings.ReplaceAll(p, "{"+name+"}", v)
	}
	return p
}

// drawParam draws a query or path parameter: from the hint of its name
// (fuzzHints) as often as specgen uses hints, if valid for its schema, else
// from its schema.
func (w *contractWorld) drawParam(t *rapid.T, p *openapi3.Parameter) any {
	if hint, ok := w.gen.Hints[p.Name]; ok && specgen.Percent(t, p.Name+" hinted?", w.gen.HintPercent) {
		if v := hint(t, p.Name); specgen.Validate(p.Schema, v) == nil {
			return v
		}
	}
	return w.gen.Draw(t, p.Schema, p.Name)
}

// paramText renders a drawn parameter value as the text of a URL.
func paramText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return specgen.JSON(v)
}

// pathValues fills the path parameters with the names and ids of real
// objects (fromSchema: now and then one drawn from its schema). An
// operation with a path parameter this does not know fails the test: add
// its source here.
func (w *contractWorld) pathValues(t *rapid.T, r *fuzzRequest, foreign, fromSchema bool) {
	src := w.a
	if foreign {
		src = w.b
	}
	has := func(name string) bool {
		return strings.Contains(r.op.path, "{"+name+"}")
	}
	for _, ref := range r.op.params {
		p := ref.Value
		if p.In != openapi3.ParameterInPath {
			continue
		}
		if _, done := r.path[p.Name]; done {
			continue
		}
		switch {
		case slices.Contains(orgParams, p.Name):
			r.path[p.Name] = w.a.Name
		case p.Name == "source":
			// The registry holds one source; another finds nothing.
			r.path[p.Name] = "private"
			if v := paramText(w.gen.Draw(t, p.Schema, p.Name)); fromSchema && v != "" && specgen.OneIn(t, "another source?", 8) {
				r.path[p.Name] = v
			}
		case p.Name == "issueId":
			ids := notIn(issueIDs(src), issueIDs(w.a), foreign)
			r.path[p.Name] = rapid.SampledFrom(ids).Draw(t, "issueId")
		case p.Name == "policyGroup":
			groups := notIn(src.groups, w.a.groups, foreign)
			// The default groups refuse renames and deletion: pick them less.
			if own := slices.DeleteFunc(slices.Clone(groups), isDefaultGroup); len(own) > 0 && !specgen.OneIn(t, "a group of its own?", 4) {
				groups = own
			}
			r.path[p.Name] = rapid.SampledFrom(groups).Draw(t, "policyGroup")
		case slices.Contains(packNameParams, p.Name):
			v := w.packVersion(t, r.op, src, foreign)
			r.path[p.Name] = v.Name
			if has("version") {
				r.path["version"] = strconv.Itoa(v.Version)
				if versionParam(r.op).Schema.Value.Type.Is("string") {
					r.path["version"] = versionText(t, v, "version")
				}
			}
		case p.Name == "projectName" || p.Name == "stackName" || (p.Name == "version" && has("stackName")):
			s := w.entity(t, src.stacks, "stack")
			r.path["projectName"], r.path["stackName"] = s.Project, s.Name
			r.path["version"] = strconv.FormatInt(max(0, s.Latest+int64(rapid.IntRange(-1, 2).Draw(t, "stack version step"))), 10)
		case p.Name == "hookName":
			// A webhook of the path's scope: of the organisation, or of a
			// stack (whose names the path then takes).
			stack := has("stackName")
			hooks := slices.DeleteFunc(slices.Clone(src.hooks), func(h hookRef) bool { return (h.Stack != "") != stack })
			if len(hooks) == 0 {
				t.Fatalf("%s: organisation %s has no webhook of this scope", r.op, src.Name)
			}
			h := rapid.SampledFrom(hooks).Draw(t, "hookName")
			r.path[p.Name] = h.Name
			if stack {
				r.path["projectName"], r.path["stackName"] = h.Project, h.Stack
			}
		case p.Name == "accountName" || p.Name == "resourceTypeAndId" || p.Name == "resourceVersion":
			a := w.entity(t, src.accounts, "account")
			r.path["accountName"], r.path["resourceTypeAndId"] = a.Project, a.Name
			r.path["resourceVersion"] = strconv.FormatInt(max(0, a.Latest+int64(rapid.IntRange(-1, 2).Draw(t, "resource version step"))), 10)
		default:
			t.Fatalf("%s: no source of real values for the path parameter {%s}; add one to pathValues", r.op, p.Name)
		}
		if foreign && slices.Contains(lookupParams, p.Name) {
			r.foreign = append(r.foreign, p.Name)
		}
	}
	// One time in ten a parameter is drawn from its schema instead, as a
	// client may send any value the specification allows: the server must
	// answer it within the contract too (a version number beyond what the
	// database stores was a 500).
	if foreign || !fromSchema || !specgen.OneIn(t, "a path parameter from its schema?", 10) {
		return
	}
	var drawable []*openapi3.Parameter
	for _, ref := range r.op.params {
		if p := ref.Value; p.In == openapi3.ParameterInPath && !slices.Contains(orgParams, p.Name) {
			drawable = append(drawable, p)
		}
	}
	if len(drawable) > 0 {
		p := rapid.SampledFrom(drawable).Draw(t, "parameter from its schema")
		// An empty segment makes a URL that names no operation of the
		// specification: its answer owes the contract nothing.
		if v := paramText(w.gen.Draw(t, p.Schema, p.Name)); v != "" {
			r.path[p.Name] = v
		}
	}
}

func isDefaultGroup(name string) bool {
	return name == "default-policy-group" || name == "default-accounts-policy-group"
}

// versionParam is the operation's {version} path parameter.
func versionParam(o specOperation) *openapi3.Parameter {
	for _, p := range o.params {
		if p.Value.In == openapi3.ParameterInPath && p.Value.Name == "version" {
			return p.Value
		}
	}
	return &openapi3.Parameter{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{}}}
}

// packVersion picks a pack version fit for the operation most of the time:
// one waiting for its archive for an upload, one with its archive for a
// completion, a published one otherwise.
func (w *contractWorld) packVersion(t *rapid.T, o specOperation, src *fuzzOrg, foreign bool) packVersion {
	fit := func(v packVersion) bool {
		switch {
		case strings.HasSuffix(o.path, "/archive"):
			return !v.Published && !v.Archived
		case strings.HasSuffix(o.path, "/complete"):
			return !v.Published && v.Archived
		case o.method == http.MethodDelete:
			// A pack a group applies can't be deleted (409).
			return v.Published && !v.Applied
		}
		return v.Published
	}
	var fitting, all []packVersion
	for _, v := range src.versions {
		if foreign && slices.ContainsFunc(w.a.versions, func(a packVersion) bool { return a.Name == v.Name }) {
			continue
		}
		all = append(all, v)
		if fit(v) {
			fitting = append(fitting, v)
		}
	}
	if len(fitting) > 0 && !specgen.OneIn(t, "a fitting pack version?", 5) {
		return rapid.SampledFrom(fitting).Draw(t, "pack version")
	}
	return rapid.SampledFrom(all).Draw(t, "pack version")
}

// entity picks a stack or an account resource, now and then a new one.
func (w *contractWorld) entity(t *rapid.T, known []entityVersion, label string) entityVersion {
	if len(known) == 0 || specgen.OneIn(t, "new "+label+"?", 8) {
		name := rapid.StringMatching(`[a-z][a-z0-9-]{0,15}`)
		return entityVersion{Project: name.Draw(t, label+" project"), Name: name.Draw(t, label+" name")}
	}
	return rapid.SampledFrom(known).Draw(t, label)
}

func issueIDs(o *fuzzOrg) []string {
	out := make([]string, 0, len(o.issues))
	for _, is := range o.issues {
		out = append(out, is.ID)
	}
	return out
}

// notIn leaves out of values those mine also has, when foreign.
func notIn(values, mine []string, foreign bool) []string {
	if !foreign {
		return values
	}
	var out []string
	for _, v := range values {
		if !slices.Contains(mine, v) {
			out = append(out, v)
		}
	}
	return out
}

// headerValue draws a header parameter: If-Match is the issue's current
// ETag, a stale one, "*" or garbage (or absent); another header a
// printable string from its schema.
func (w *contractWorld) headerValue(t *rapid.T, r *fuzzRequest, p *openapi3.Parameter) (string, bool) {
	if !p.Required && specgen.OneIn(t, p.Name+" absent?", 4) {
		return "", false
	}
	if p.Name != "If-Match" {
		return rapid.StringMatching(`[ -~]{0,40}`).Draw(t, p.Name), true
	}
	switch rapid.IntRange(0, 3).Draw(t, "If-Match kind") {
	case 0:
		return "*", true
	case 1:
		return `"0"`, true
	case 2:
		return rapid.StringMatching(`[ -~]{0,20}`).Draw(t, "If-Match"), true
	}
	// The ETag the same path's GET answers now.
	get := specOperation{method: http.MethodGet, path: r.op.path}
	a := w.send(t, &fuzzRequest{op: get, path: r.path, token: w.a.Admin})
	return a.etag, a.etag != ""
}

// expectation is what an invalid request must be answered: its status,
// and words its message must hold in order (the field or parameter).
type expectation struct {
	what   string
	status int
	names  []string
}

// paramFormats are formats the server enforces on parameters beyond their
// schemas, as their descriptions in openapi.yaml state: values that break
// them, by parameter name and schema type.
var paramFormats = map[string][]string{
	"issueId string":           {"42", "not-a-uuid", "00000000-0000-0000-0000-00000000000g", "urn:uuid:00000000-0000-4000-8000-000000000000", "00000000000040008000000000000000"},
	"version string":           {"v1", "one", "1.5", "-1", "99999999999999999999"},
	"continuationToken string": {"not-a-token", "eyJ0YW1wZXJlZCI6dHJ1ZX0"},
}

// invalidRequest draws a request with one thing wrong: a body mutation
// (specgen's kinds), broken JSON, a body over the body limit, or a path or
// query parameter of the wrong type or format or over the size limits.
// It returns nil when the operation takes nothing that can be wrong (its
// only input is the organisation, whose validity is its membership: see
// TestTenancyWalk).
func (w *contractWorld) invalidRequest(t *rapid.T, o specOperation) (*fuzzRequest, expectation) {
	// Organisation A's own objects and its admin: only the mutation is
	// wrong.
	r := w.validRequest(t, o, false)
	r.token = w.a.Admin
	var families []string
	if r.bodyValue != nil {
		families = append(families, "body", "broken JSON", "oversized body")
		if len(nulSites(o, r.bodyValue)) > 0 {
			families = append(families, "NUL in the body")
		}
	}
	if r.archive {
		families = append(families, "oversized archive")
	}
	var params []*openapi3.Parameter
	for _, ref := range o.params {
		if p := ref.Value; (p.In == openapi3.ParameterInPath && !slices.Contains(orgParams, p.Name)) || p.In == openapi3.ParameterInQuery {
			params = append(params, p)
		}
	}
	if len(params) > 0 {
		families = append(families, "parameter")
	}
	if len(families) == 0 {
		return nil, expectation{}
	}
	switch rapid.SampledFrom(families).Draw(t, "what is wrong") {
	case "body":
		schema := o.op.RequestBody.Value.Content["application/json"].Schema
		limits := specgen.Limits{Items: fuzzLimits.MaxItems, StringBytes: func(p specgen.Path) int { return stringLimit(p.Field()) }}
		kinds := slices.Clone(specgen.Kinds)
		for len(kinds) > 0 {
			k := rapid.SampledFrom(kinds).Draw(t, "mutation kind")
			m, ok := w.gen.Mutate(t, schema, r.bodyValue, limits, []specgen.Kind{k})
			if !ok {
				kinds = slices.DeleteFunc(kinds, func(x specgen.Kind) bool { return x == k })
				continue
			}
			r.bodyValue = m.Value
			r.body = []byte(specgen.JSON(m.Value))
			names := []string{"body"}
			if len(m.Path) > 0 {
				names = pathWords(m.Path)
			}
			return r, expectation{what: m.String(), status: http.StatusBadRequest, names: names}
		}
		// Nothing in this body can be mutated: break its JSON instead.
		fallthrough
	case "broken JSON":
		r.body = specgen.BreakJSON(t, r.body)
		r.bodyValue = nil
		return r, expectation{what: "broken JSON", status: http.StatusBadRequest, names: []string{"body"}}
	case "NUL in the body":
		at := rapid.SampledFrom(nulSites(o, r.bodyValue)).Draw(t, "NUL at")
		r.bodyValue = specgen.Replace(r.bodyValue, at, "a\x00b")
		r.body = []byte(specgen.JSON(r.bodyValue))
		names := []string{"body"}
		if len(at) > 0 {
			names = pathWords(at)
		}
		return r, expectation{what: "a NUL character at " + at.String(), status: http.StatusBadRequest, names: append(names, "NUL")}
	case "oversized archive":
		r.body = append(r.body, bytes.Repeat([]byte{0}, fuzzArchiveLimit)...)
		return r, expectation{what: "an archive over the limit", status: http.StatusRequestEntityTooLarge}
	case "oversized body":
		r.body = append(r.body, bytes.Repeat([]byte(" "), fuzzBodyLimit)...)
		r.bodyValue = nil
		return r, expectation{what: "a body over the limit", status: http.StatusRequestEntityTooLarge}
	}
	p := rapid.SampledFrom(params).Draw(t, "parameter")
	var bad []string
	schema := p.Schema.Value
	switch {
	case schema.Type.Is("integer"):
		bad = append(bad, "abc", "1.5", "99999999999999999999")
		if schema.Min != nil {
			bad = append(bad, strconv.FormatFloat(*schema.Min-1, 'f', -1, 64))
		}
	case len(schema.Enum) > 0:
		bad = append(bad, "no-such-value")
	}
	bad = append(bad, paramFormats[p.Name+" "+strings.Join(schema.Type.Slice(), "")]...)
	if schema.Type.Is("string") {
		bad = append(bad, strings.Repeat("x", stringLimit(p.Name)+1), "a\x00b")
	}
	if len(bad) == 0 {
		t.Fatalf("%s: no invalid value known for the %s parameter %s", o, p.In, p.Name)
	}
	v := rapid.SampledFrom(bad).Draw(t, "invalid "+p.Name)
	if p.In == openapi3.ParameterInPath {
		r.path[p.Name] = v
	} else {
		r.query.Set(p.Name, v)
	}
	what := fmt.Sprintf("%s parameter %s = %.40q", p.In, p.Name, v)
	return r, expectation{what: what, status: http.StatusBadRequest, names: []string{p.Name}}
}

// nulSites are the strings of a body where a NUL character is the only
// thing wrong (not those of an enum or a format, which the schema refuses
// first).
func nulSites(o specOperation, body any) []specgen.Path {
	schema := o.op.RequestBody.Value.Content["application/json"].Schema
	var out []specgen.Path
	for _, site := range specgen.Sites(schema, body) {
		if _, ok := site.Value.(string); ok && specgen.Validate(schema, specgen.Replace(body, site.Path, "a\x00b")) == nil {
			out = append(out, site.Path)
		}
	}
	return out
}

// stringLimit is the server's size limit of a string field (server.Limits:
// names are fields called "name" or "...Name").
func stringLimit(field string) int {
	if field == "name" || strings.HasSuffix(field, "Name") {
		return fuzzLimits.MaxNameBytes
	}
	return fuzzLimits.MaxTextBytes
}

// pathWords are the member names and indexes of a path, in order.
func pathWords(p specgen.Path) []string {
	out := make([]string, 0, len(p))
	for _, e := range p {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// namesInOrder tells whether message holds every word, in order.
func namesInOrder(message string, words []string) bool {
	rest := message
	for _, w := range words {
		i := strings.Index(rest, w)
		if i < 0 {
			return false
		}
		rest = rest[i+len(w):]
	}
	return true
}
