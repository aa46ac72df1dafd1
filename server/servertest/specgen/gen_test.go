package specgen_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/server/servertest/specgen"
)

// features is a document whose schemas use every keyword specgen claims
// to cover.
const features = `
openapi: 3.0.3
info: {title: features, version: "1"}
paths: {}
components:
  schemas:
    Color: {type: string, enum: [red, green, blue]}
    Leaf:
      type: object
      required: [id, when]
      properties:
        id: {type: string, format: uuid}
        when: {type: string, format: date-time}
        day: {type: string, format: date}
        mail: {type: string, format: email}
        blob: {type: string, format: byte}
        code: {type: string, pattern: '^[A-Z]{2}-[0-9]{3}$'}
        short: {type: string, minLength: 2, maxLength: 5}
        count: {type: integer, minimum: 0, maximum: 10}
        tenth: {type: integer, minimum: 0, exclusiveMinimum: true, maximum: 100, multipleOf: 10}
        small: {type: integer, format: int32}
        ratio: {type: number, minimum: 0, maximum: 1, exclusiveMaximum: true}
        flag: {type: boolean}
        color: {$ref: '#/components/schemas/Color'}
        maybe: {type: string, nullable: true}
    Everything:
      type: object
      required: [leaf, tags, choice]
      properties:
        leaf: {$ref: '#/components/schemas/Leaf'}
        wrapped:
          allOf: [{$ref: '#/components/schemas/Color'}]
          description: An enum behind allOf, as oapi-codegen wants it.
        merged:
          allOf:
            - {type: object, required: [a], properties: {a: {type: integer}}}
            - {type: object, required: [b], properties: {b: {type: string}}}
        tags: {type: array, minItems: 1, maxItems: 4, uniqueItems: true, items: {type: string}}
        choice:
          oneOf:
            - {type: object, required: [kind], properties: {kind: {type: string, enum: [one]}}, additionalProperties: false}
            - {type: object, required: [size], properties: {size: {type: integer}}, additionalProperties: false}
        loose:
          anyOf: [{type: string, nullable: true}, {type: number}, {type: boolean}]
        labels: {type: object, additionalProperties: {type: string}}
        free: {type: object, additionalProperties: true}
        tree: {$ref: '#/components/schemas/Tree'}
        anything: {description: Any JSON scalar.}
    Tree:
      type: object
      properties:
        name: {type: string}
        children: {type: array, items: {$ref: '#/components/schemas/Tree'}}
`

// component is a component schema as a $ref names it.
func component(t *testing.T, name string) *openapi3.SchemaRef {
	t.Helper()
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + name, Value: loadFeatures(t).Components.Schemas[name].Value}
}

func loadFeatures(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(features))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// requestSchemas are the JSON request bodies of the real specification.
func requestSchemas(t *testing.T) map[string]*openapi3.SchemaRef {
	t.Helper()
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*openapi3.SchemaRef{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
				out[method+" "+path] = mt.Schema
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d JSON request bodies in the specification", len(out))
	}
	return out
}

func TestDrawIsValidForEverySchema(t *testing.T) {
	doc := loadFeatures(t)
	schemas := requestSchemas(t)
	for name, ref := range doc.Components.Schemas {
		schemas["features "+name] = ref
	}
	g := &specgen.Gen{}
	for name, ref := range schemas {
		t.Run(name, rapid.MakeCheck(func(t *rapid.T) {
			v := g.Draw(t, ref, "v")
			// Through JSON and back, as a server receives it.
			var decoded any
			if err := json.Unmarshal([]byte(specgen.JSON(v)), &decoded); err != nil {
				t.Fatal(err)
			}
			if err := specgen.Validate(ref, decoded); err != nil {
				t.Fatalf("%s: %v", specgen.JSON(v), err)
			}
		}))
	}
}

func TestDrawCoversTheKeywords(t *testing.T) {
	ref := loadFeatures(t).Components.Schemas["Everything"]
	g := &specgen.Gen{}
	seen := map[string]bool{}
	rapid.Check(t, func(t *rapid.T) {
		v := g.Draw(t, ref, "v").(map[string]any)
		leaf := v["leaf"].(map[string]any)
		if _, err := uuid.Parse(leaf["id"].(string)); err != nil {
			t.Fatalf("id %q: %v", leaf["id"], err)
		}
		if _, err := time.Parse(time.RFC3339Nano, leaf["when"].(string)); err != nil {
			t.Fatalf("when %q: %v", leaf["when"], err)
		}
		if c, ok := leaf["count"].(float64); ok && (c < 0 || c > 10 || c != float64(int(c))) {
			t.Fatalf("count %v outside 0..10", c)
		}
		if n, ok := leaf["tenth"].(float64); ok && (n <= 0 || int(n)%10 != 0) {
			t.Fatalf("tenth %v", n)
		}
		if r, ok := leaf["ratio"].(float64); ok && (r < 0 || r >= 1) {
			t.Fatalf("ratio %v", r)
		}
		if s, ok := leaf["short"].(string); ok && (len([]rune(s)) < 2 || len([]rune(s)) > 5) {
			t.Fatalf("short %q", s)
		}
		if c, ok := leaf["color"].(string); ok {
			seen["color "+c] = true
		}
		if m, ok := leaf["maybe"]; ok && m == nil {
			seen["null"] = true
		}
		if _, ok := leaf["day"]; ok {
			seen["optional present"] = true
		} else {
			seen["optional absent"] = true
		}
		choice := v["choice"].(map[string]any)
		if _, ok := choice["kind"]; ok {
			seen["oneOf first"] = true
		} else {
			seen["oneOf second"] = true
		}
		if m, ok := v["merged"].(map[string]any); ok {
			if _, a := m["a"]; a {
				if _, b := m["b"]; b {
					seen["allOf merged"] = true
				}
			}
		}
		switch v["loose"].(type) {
		case string:
			seen["anyOf string"] = true
		case float64:
			seen["anyOf number"] = true
		case bool:
			seen["anyOf boolean"] = true
		}
		if tree, ok := v["tree"].(map[string]any); ok {
			if kids, ok := tree["children"].([]any); ok && len(kids) > 0 {
				seen["recursion"] = true
			}
		}
		tags := v["tags"].([]any)
		if len(tags) < 1 || len(tags) > 4 {
			t.Fatalf("%d tags", len(tags))
		}
	})
	for _, want := range []string{"color red", "color green", "color blue", "null", "optional present", "optional absent",
		"oneOf first", "oneOf second", "allOf merged", "anyOf string", "anyOf number", "anyOf boolean", "recursion"} {
		if !seen[want] {
			t.Errorf("100 draws never gave %s", want)
		}
	}
}

func TestHintsAreUsedOnlyWhenValid(t *testing.T) {
	ref := component(t, "Leaf")
	g := &specgen.Gen{Hints: map[string]specgen.Hint{
		"Leaf.count": func(*rapid.T, string) any { return 7.0 },
		"short":      func(*rapid.T, string) any { return "far too long for five runes" },
	}}
	hinted := 0
	rapid.Check(t, func(t *rapid.T) {
		v := g.Draw(t, ref, "v").(map[string]any)
		if v["count"] == 7.0 {
			hinted++
		}
		if v["short"] == "far too long for five runes" {
			t.Fatal("an invalid hint was used")
		}
	})
	// count is present half of the time, and then hinted half of the time.
	if hinted < 10 {
		t.Errorf("the hint of Leaf.count was used %d times in 100 draws", hinted)
	}
}

func TestOneMemberOf(t *testing.T) {
	ref := component(t, "Leaf")
	g := &specgen.Gen{OneMemberOf: map[string][]string{"Leaf": {"day", "mail", "flag"}}}
	counts := map[int]int{}
	rapid.Check(t, func(t *rapid.T) {
		v := g.Draw(t, ref, "v").(map[string]any)
		n := 0
		for _, k := range []string{"day", "mail", "flag"} {
			if _, ok := v[k]; ok {
				n++
			}
		}
		counts[n]++
	})
	if counts[1] < 60 || counts[0]+counts[2]+counts[3] == 0 {
		t.Errorf("members present per draw: %v; want mostly exactly one, now and then another count", counts)
	}
}

func TestExamplesAndRunes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(`
openapi: 3.0.3
info: {title: examples, version: "1"}
paths: {}
components:
  schemas:
    Pair:
      type: object
      required: [a, b]
      properties: {a: {type: string}, b: {type: integer}}
      example: {a: "from the example", b: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	ref := doc.Components.Schemas["Pair"]
	g := &specgen.Gen{ExamplePercent: 50, Rune: rapid.RuneFrom([]rune("xyz"))}
	examples := 0
	rapid.Check(t, func(t *rapid.T) {
		v := g.Draw(t, ref, "v").(map[string]any)
		if v["a"] == "from the example" {
			examples++
			return
		}
		if strings.Trim(v["a"].(string), "xyz") != "" {
			t.Fatalf("a = %q: runes outside the alphabet", v["a"])
		}
	})
	if examples < 20 || examples > 80 {
		t.Errorf("the example was drawn %d times in 100", examples)
	}
}

// limits are small, so that oversized values stay small.
var limits = specgen.Limits{Items: 5, StringBytes: func(p specgen.Path) int {
	if strings.HasSuffix(p.Field(), "name") {
		return 8
	}
	return 16
}}

func TestMutationsAreInvalid(t *testing.T) {
	doc := loadFeatures(t)
	schemas := requestSchemas(t)
	schemas["Everything"] = doc.Components.Schemas["Everything"]
	g := &specgen.Gen{}
	for name, ref := range schemas {
		t.Run(name, rapid.MakeCheck(func(t *rapid.T) {
			v := g.Draw(t, ref, "v")
			kind := rapid.SampledFrom(specgen.Kinds).Draw(t, "kind")
			m, ok := g.Mutate(t, ref, v, limits, []specgen.Kind{kind})
			if !ok {
				return
			}
			if m.Kind != kind {
				t.Fatalf("asked for %s, got %s", kind, m.Kind)
			}
			at, found := lookup(m.Value, m.Path)
			switch kind {
			case specgen.OversizedString:
				// Beyond the limit, or beyond the schema's own maxLength.
				if s, _ := at.(string); len(s) <= limits.StringBytes(m.Path) && specgen.Validate(ref, m.Value) == nil {
					t.Fatalf("%s: %d bytes", m, len(s))
				}
			case specgen.OversizedArray:
				if l, _ := at.([]any); len(l) <= limits.Items && specgen.Validate(ref, m.Value) == nil {
					t.Fatalf("%s: %d items", m, len(l))
				}
			case specgen.MissingRequired:
				if found {
					t.Fatalf("%s: still present", m)
				}
				fallthrough
			default:
				if err := specgen.Validate(ref, m.Value); err == nil {
					t.Fatalf("%s left the value valid: %s", m, specgen.JSON(m.Value))
				}
			}
			if kind != specgen.MissingRequired && !found {
				t.Fatalf("%s: nothing at the path in %s", m, specgen.JSON(m.Value))
			}
		}))
	}
}

func TestEveryKindAppliesToTheFeatures(t *testing.T) {
	ref := loadFeatures(t).Components.Schemas["Everything"]
	g := &specgen.Gen{}
	seen := map[specgen.Kind]bool{}
	rapid.Check(t, func(t *rapid.T) {
		v := g.Draw(t, ref, "v")
		for _, k := range specgen.Kinds {
			if _, ok := g.Mutate(t, ref, v, limits, []specgen.Kind{k}); ok {
				seen[k] = true
			}
		}
	})
	for _, k := range specgen.Kinds {
		if !seen[k] {
			t.Errorf("no %s mutation in 100 draws", k)
		}
	}
}

func TestBreakJSON(t *testing.T) {
	ref := requestSchemas(t)["POST /api/orgs/{orgName}/policyresults/evaluations"]
	g := &specgen.Gen{}
	rapid.Check(t, func(t *rapid.T) {
		raw := []byte(specgen.JSON(g.Draw(t, ref, "v")))
		if broken := specgen.BreakJSON(t, raw); json.Valid(broken) {
			t.Fatalf("%q is still JSON", broken)
		}
	})
}

func TestPathNamesFieldsAsTheServerDoes(t *testing.T) {
	p := specgen.Path{"violations", 0, "message"}
	if got := p.String(); got != "violations[0].message" {
		t.Errorf("String() = %q", got)
	}
	if got := p.Field(); got != "message" {
		t.Errorf("Field() = %q", got)
	}
	if got := (specgen.Path{"tags", 3}).Field(); got != "tags" {
		t.Errorf("Field() of an item = %q", got)
	}
	if got := (specgen.Path{}).String(); got != "" {
		t.Errorf("root = %q", got)
	}
}

// lookup finds the value at path.
func lookup(v any, path specgen.Path) (any, bool) {
	for _, e := range path {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[e.(string)]; !ok {
				return nil, false
			}
		case []any:
			i, _ := e.(int)
			if i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// TestChancesAreEven: OneIn and Percent hold as often as they say, within
// a margin four standard deviations wide (rapid.IntRange(0, 99) < 20, which
// they replace, held about half of the time).
func TestChancesAreEven(t *testing.T) {
	const perCheck = 40
	n, oneIn8, percent20 := 0, 0, 0
	counts := make([]int, 3)
	rapid.Check(t, func(rt *rapid.T) {
		for range perCheck {
			n++
			if specgen.OneIn(rt, "one in 8", 8) {
				oneIn8++
			}
			if specgen.Percent(rt, "20%", 20) {
				percent20++
			}
			counts[specgen.Uniform(rt, "0..2", 3)]++
		}
	})
	near := func(got int, p float64) bool {
		sd := math.Sqrt(float64(n) * p * (1 - p))
		return math.Abs(float64(got)-float64(n)*p) <= 4*sd
	}
	if n < 1000 || !near(oneIn8, 1.0/8) || !near(percent20, 0.2) {
		t.Errorf("OneIn(8) held %d times and Percent(20) %d in %d", oneIn8, percent20, n)
	}
	for v, c := range counts {
		if !near(c, 1.0/3) {
			t.Errorf("Uniform(3) drew %d %d times in %d", v, c, n)
		}
	}
}
