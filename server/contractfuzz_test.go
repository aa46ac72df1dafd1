package server_test

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/repository/repotest"
	"github.com/policyresults/policyresults/server"
	"github.com/policyresults/policyresults/server/servertest"
	"github.com/policyresults/policyresults/server/servertest/specgen"
)

// contractShortChecks is how many valid and how many invalid requests
// the contract fuzz sends per operation and database when neither
// -rapid.checks nor RAPID_CHECKS is given: make test's short run.
// make contract-fuzz runs many more (RELIABILITY.md).
const contractShortChecks = 6

// driveRounds is how many more rounds of valid requests an operation gets
// while it has accepted none.
const driveRounds = 10

// contractWorld is what the contract fuzz drives: the server with
// organisation A, whose admin sends the requests, and organisation B,
// whose objects A's requests name now and then and must never reach.
type contractWorld struct {
	t    *testing.T
	env  *servertest.Env
	http *http.Client
	a, b *fuzzOrg
	gen  *specgen.Gen
	dig  *orgDigester
	cur  fuzzCurrent // what the request being drawn names, for the hints
}

// fuzzCurrent is the operation under test and the path parameters of the
// request being drawn, which hints read (a body naming the pack its path
// names, a tag of the path's pack).
type fuzzCurrent struct {
	op   specOperation
	path map[string]string
	// batch is what the hints of a batch update's body drew so far, so
	// that its members agree.
	batch batchDraw
}

// batchDraw is what the hints of a BatchUpdatePolicyIssues body drew.
type batchDraw struct {
	count     int  // the expectedCount drawn
	accepting bool // a reason was drawn: the acceptance hints agree
}

// pathPack is the pack the current request's path names, "" when none.
func (c *fuzzCurrent) pathPack() string {
	for _, name := range packNameParams {
		if strings.Contains(c.op.path, "{"+name+"}") {
			return c.path[name]
		}
	}
	return ""
}

// TestContractFuzz sends every operation of openapi.yaml (read from the
// embedded spec, so operations added later are sent too) requests drawn
// from their schemas by rapid, on SQLite and PostgreSQL:
//
//   - valid ones, naming real objects of organisation A (and one time in
//     eight organisation B's, which must not be found);
//   - invalid ones, each with one thing wrong (specgen's mutations of the
//     body, a NUL character, broken JSON, an oversized body or archive, a
//     path or query parameter of the wrong type or format or over the
//     limits).
//
// Every answer must be declared by the operation and match its schema, no
// answer may be a 5xx, every invalid request must be answered 400 (413 for
// the body size) with a message naming the field or parameter, a write the
// server refuses must write nothing, and nothing may ever change
// organisation B's data. Every operation must accept at least one valid
// request: an operation the fuzz cannot drive fails. docs/contract-fuzz.md
// tells more.
func TestContractFuzz(t *testing.T) {
	setShortChecks(t)
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		env := servertest.StartWith(t, b, server.Config{Limits: fuzzLimits,
			BodyLimit: strconv.Itoa(fuzzBodyLimit/1024) + "K", ArchiveLimit: fuzzArchiveLimit})
		w := &contractWorld{t: t, env: env, http: &http.Client{Timeout: time.Minute}, dig: newOrgDigester(t, env.Repo)}
		w.a = seedFuzzOrg(t, env, "")
		w.b = seedFuzzOrg(t, env, "-b")
		// NUL is no valid string's rune: every string refuses it (NUL
		// mutations test that).
		w.gen = &specgen.Gen{Hints: fuzzHints(t, w.a, w.b, &w.cur), HintPercent: 75, OneMemberOf: fuzzOneMemberOf, ExamplePercent: 20,
			Rune: rapid.Rune().Filter(func(r rune) bool { return r != 0 })}
		// A token's use is recorded at most once a minute, which would
		// change the data a refused request must leave as it was: the
		// fuzz's tokens are marked used far in the future instead.
		if err := env.Repo.DB().Exec(`UPDATE tokens SET last_used_at = ? WHERE org_id IN (?, ?)
			OR user_id IN (SELECT user_id FROM memberships WHERE org_id IN (?, ?))`,
			time.Now().AddDate(100, 0, 0), w.a.ID, w.b.ID, w.a.ID, w.b.ID).Error; err != nil {
			t.Fatal(err)
		}
		bBefore := w.digestOf(w.b)
		ops := specOperations(t)
		figures := map[string]*opFigures{}
		start := time.Now()
		for _, o := range ops {
			f := &opFigures{validStatus: map[int]int{}, refusals: map[string]int{}, invalidWhat: map[string]int{}}
			figures[o.op.OperationID] = f
			opStart := time.Now()
			w.cur = fuzzCurrent{op: o}
			t.Run(o.op.OperationID+"/valid", rapid.MakeCheck(func(rt *rapid.T) { w.checkValid(rt, o, f) }))
			// An operation few valid requests get through gets more rounds
			// until one does, so that the short run stays deterministic in
			// practice; one that accepts none fails.
			for round := 0; f.accepted == 0 && round < driveRounds; round++ {
				t.Run(o.op.OperationID+"/valid/again", rapid.MakeCheck(func(rt *rapid.T) { w.checkValid(rt, o, f) }))
			}
			t.Run(o.op.OperationID+"/invalid", rapid.MakeCheck(func(rt *rapid.T) { w.checkInvalid(rt, o, f) }))
			f.elapsed = time.Since(opStart)
			// (None sent: -run left the operation out, or its subtest
			// failed already.)
			if f.accepted == 0 && f.valid > 0 {
				t.Errorf("%s: none of %d valid requests was accepted (%v): the fuzz cannot drive this operation; give it hints or fixtures", o, f.valid, f.validStatus)
			}
			if after := w.digestOf(w.b); after != bBefore {
				t.Fatalf("%s changed organisation B's data:\n%s", o, firstDifference(bBefore, after))
			}
		}
		t.Logf("contract fuzz on %s: %d operations in %v\n%s", b.Dialect, len(ops), time.Since(start).Round(time.Millisecond), figureTable(ops, figures))
		t.Logf("the most frequent refusals of valid requests:\n%s", refusalList(ops, figures))
	})
}

// setShortChecks sets rapid's number of checks to contractShortChecks
// unless the command line or RAPID_CHECKS chose one.
func setShortChecks(t *testing.T) {
	chosen := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { chosen = chosen || f.Name == "rapid.checks" })
	f := flag.Lookup("rapid.checks")
	if chosen || f == nil {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(contractShortChecks)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}

// specOperations are every operation of openapi.yaml, sorted.
func specOperations(t *testing.T) []specOperation {
	t.Helper()
	var out []specOperation
	spec := loadSpec(t)
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, op.Parameters...)
			out = append(out, specOperation{method: method, path: path, op: op, params: params, credentialParam: credentialParam(spec, op)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// credentialParam is the query parameter of an apiKey security scheme the
// operation accepts, "" when it accepts none.
func credentialParam(spec *openapi3.T, op *openapi3.Operation) string {
	if op.Security == nil {
		return ""
	}
	for _, requirement := range *op.Security {
		for name := range requirement {
			if s := spec.Components.SecuritySchemes[name]; s != nil && s.Value.Type == "apiKey" && s.Value.In == "query" {
				return s.Value.Name
			}
		}
	}
	return ""
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// checkValid sends one valid request.
func (w *contractWorld) checkValid(t *rapid.T, o specOperation, f *opFigures) {
	if err := w.a.replenish(w.env); err != nil {
		t.Fatal(err)
	}
	if inputless(o) && f.valid >= 2 {
		// Every request is the same but for the token: both were sent.
		return
	}
	r := w.validRequest(t, o, true)
	if inputless(o) && f.valid == 1 {
		r.token = w.a.OrgToken
	}
	before := w.digest(o)
	a := w.send(t, r)
	f.valid++
	f.validStatus[a.status]++
	if a.status == http.StatusBadRequest {
		f.refusals[truncate(a.err.Message, 90)]++
		// A message that starts with a field names one the request has.
		if field := leadingField(a.err.Message); field != "" && !slices.Contains(requestFields(o), field) {
			t.Fatalf("%s was refused naming %q, which is neither a parameter nor a member of its body: %s", r, field, a.err.Message)
		}
		// The request validator and the limits refuse only what the
		// specification or the limits do: a request drawn within both
		// must get past them.
		for _, prefix := range []string{"invalid request body: field", "invalid path parameter", "invalid query parameter", "invalid header parameter", "invalid request:"} {
			if strings.HasPrefix(a.err.Message, prefix) {
				t.Fatalf("%s, which the specification allows, was refused: %s", r, a.err.Message)
			}
		}
	}
	if a.status < 300 {
		f.accepted++
		if err := w.a.keepUploadURI(a.body); err != nil {
			t.Fatal(err)
		}
	}
	if r.token == "" && r.op.credentialParam != "" {
		f.presigned++
		if a.status < 300 {
			f.presignedAccepted++
		}
	}
	if len(r.foreign) > 0 {
		f.foreign++
		if a.status < 300 {
			t.Fatalf("%s names organisation B's %v from organisation A, and was answered %d: %.300s", r, r.foreign, a.status, a.body)
		}
	}
	w.checkWrites(t, o, r, a, before)
}

// checkInvalid sends one invalid request.
func (w *contractWorld) checkInvalid(t *rapid.T, o specOperation, f *opFigures) {
	if err := w.a.replenish(w.env); err != nil {
		t.Fatal(err)
	}
	r, want := w.invalidRequest(t, o)
	if r == nil {
		f.invalidWhat["(no input can be wrong)"]++
		return
	}
	before := w.digest(o)
	a := w.send(t, r)
	f.invalid++
	kind, _, _ := strings.Cut(want.what, " at ")
	kind, _, _ = strings.Cut(kind, " = ")
	f.invalidWhat[kind]++
	if a.status != want.status {
		t.Fatalf("%s (%s) answered %d, want %d: %.300s", r, want.what, a.status, want.status, a.body)
	}
	if !namesInOrder(a.err.Message, want.names) {
		t.Fatalf("%s (%s): the message %q does not name %s", r, want.what, a.err.Message, strings.Join(want.names, " "))
	}
	w.checkWrites(t, o, r, a, before)
}

// fieldPrefix matches a message that starts with a field, as the server's
// messages do ("results.violations[1].policyPackVersion: ...", in a list
// body "[0].addStack: ..."); its second group is the field's first name.
var fieldPrefix = regexp.MustCompile(`^(\[\d+\]\.)?([A-Za-z][A-Za-z0-9]*)(\[\d+\]|\.[A-Za-z][A-Za-z0-9]*)*: `)

// leadingField is the first name of the field a message starts with, ""
// when it starts with none.
func leadingField(message string) string {
	if m := fieldPrefix.FindStringSubmatch(message); m != nil {
		return m[2]
	}
	return ""
}

// requestFields are the names a request of the operation has at its top:
// its parameters and the members of its JSON body (of its items, for a
// list).
func requestFields(o specOperation) []string {
	var out []string
	for _, p := range o.params {
		out = append(out, p.Value.Name)
	}
	if o.op.RequestBody == nil {
		return out
	}
	mt := o.op.RequestBody.Value.Content["application/json"]
	if mt == nil {
		return out
	}
	schema := mt.Schema.Value
	if schema.Items != nil {
		schema = schema.Items.Value
	}
	for _, part := range append(openapi3.SchemaRefs{{Value: schema}}, schema.AllOf...) {
		for name := range part.Value.Properties {
			out = append(out, name)
		}
	}
	return out
}

// inputless tells an operation that takes nothing but the organisation
// (and the token).
func inputless(o specOperation) bool {
	for _, p := range o.params {
		if p.Value.Name != "orgName" {
			return false
		}
	}
	return o.op.RequestBody == nil
}

// digest is organisation A's data before a write (cached while nothing
// was written), "" before a read.
func (w *contractWorld) digest(o specOperation) string {
	switch {
	case !o.isWrite():
		return ""
	case w.dig.conn != nil:
		return w.state()
	case w.a.digest == "":
		w.a.digest = w.digestOf(w.a)
	}
	return w.a.digest
}

// state is, on SQLite, the database's data_version, which any commit
// changes (the one check that is both complete and cheap there: digests
// cost a third of a second under the race detector); on PostgreSQL,
// whose server other databases share, organisation A's digest.
func (w *contractWorld) state() string {
	if w.dig.conn == nil {
		return w.digestOf(w.a)
	}
	v, err := w.dig.dataVersion()
	if err != nil {
		w.t.Fatal(err)
	}
	return fmt.Sprintf("data_version %d (a commit changes it)\n", v)
}

func (w *contractWorld) digestOf(o *fuzzOrg) string {
	d, err := w.dig.digest(o.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// checkWrites checks that a refused write left organisation A as it was,
// and notes that an accepted one changed it.
func (w *contractWorld) checkWrites(t *rapid.T, o specOperation, r *fuzzRequest, a fuzzAnswer, before string) {
	if !o.isWrite() {
		return
	}
	if a.status < 300 {
		w.a.changed()
		return
	}
	if after := w.state(); after != before {
		w.a.changed()
		t.Fatalf("%s was refused (%d %q) but wrote:\n%s", r, a.status, a.err.Message, firstDifference(before, after))
	}
}

// firstDifference shows the first line where two snapshots differ.
func firstDifference(before, after string) string {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(b) {
			x = b[i]
		}
		if i < len(a) {
			y = a[i]
		}
		if x != y {
			return fmt.Sprintf("line %d\nbefore: %.500s\nafter:  %.500s", i+1, x, y)
		}
	}
	return "(no line differs)"
}

// opFigures count what the fuzz sent one operation.
type opFigures struct {
	valid, accepted, foreign int
	// presigned of the valid requests carried a credential instead of a
	// token, presignedAccepted of them were answered 2xx.
	presigned, presignedAccepted int
	validStatus                  map[int]int
	refusals                     map[string]int // 400 messages of valid requests
	invalid                      int
	invalidWhat                  map[string]int
	elapsed                      time.Duration
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// refusalList lists the most frequent 400 messages of valid requests.
func refusalList(ops []specOperation, figures map[string]*opFigures) string {
	var sb strings.Builder
	for _, o := range ops {
		f := figures[o.op.OperationID]
		type count struct {
			msg string
			n   int
		}
		var counts []count
		for m, n := range f.refusals {
			counts = append(counts, count{m, n})
		}
		sort.Slice(counts, func(i, j int) bool {
			return counts[i].n > counts[j].n || counts[i].n == counts[j].n && counts[i].msg < counts[j].msg
		})
		for i, c := range counts {
			if i == 3 {
				break
			}
			fmt.Fprintf(&sb, "%s: %d × %s\n", o.op.OperationID, c.n, c.msg)
		}
	}
	return sb.String()
}

// figureTable renders the figures as a Markdown table.
func figureTable(ops []specOperation, figures map[string]*opFigures) string {
	var sb strings.Builder
	sb.WriteString("| operation | valid sent | 2xx | other statuses | B's ids | by credential (2xx) | invalid sent | invalid by kind | time |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, o := range ops {
		f := figures[o.op.OperationID]
		presigned := "—"
		if o.credentialParam != "" {
			presigned = fmt.Sprintf("%d (%d)", f.presigned, f.presignedAccepted)
		}
		fmt.Fprintf(&sb, "| %s | %d | %d | %s | %d | %s | %d | %s | %v |\n", o.op.OperationID, f.valid, f.accepted,
			countList(f.validStatus, func(s int) bool { return s >= 300 }), f.foreign, presigned, f.invalid,
			countList(f.invalidWhat, func(string) bool { return true }), f.elapsed.Round(time.Millisecond))
	}
	return sb.String()
}

func countList[K int | string](m map[K]int, keep func(K) bool) string {
	var keys []K
	for k := range m {
		if keep(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%v: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// TestContractFuzzHintsNameProperties keeps the fuzz's hints in step with
// the specification: a hint whose property or parameter was renamed would
// silently stop applying. A hint keyed "Schema.property" must name a
// property of that schema; one keyed by a bare name, a parameter or a
// property of some schema.
func TestContractFuzzHintsNameProperties(t *testing.T) {
	spec := loadSpec(t)
	names := map[string]bool{}
	for _, o := range specOperations(t) {
		for _, p := range o.params {
			names[p.Value.Name] = true
		}
	}
	for _, s := range spec.Components.Schemas {
		for prop := range s.Value.Properties {
			names[prop] = true
		}
	}
	for key := range fuzzHints(t, &fuzzOrg{}, &fuzzOrg{}, &fuzzCurrent{}) {
		schema, prop, qualified := strings.Cut(key, ".")
		if !qualified {
			if !names[key] {
				t.Errorf("hint %s: no parameter or property %s", key, key)
			}
			continue
		}
		s, ok := spec.Components.Schemas[schema]
		if !ok {
			t.Errorf("hint %s: no schema %s", key, schema)
			continue
		}
		if _, ok := s.Value.Properties[prop]; !ok {
			t.Errorf("hint %s: schema %s has no property %s", key, schema, prop)
		}
	}
}
