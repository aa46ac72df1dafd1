package specgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"
)

// Hint draws a value for a property. It is used only when the value is
// valid for the property's schema.
type Hint func(t *rapid.T, label string) any

// Gen draws values valid for schemas. The zero value works.
type Gen struct {
	// Hints are keyed by "Schema.property" (the component schema that
	// declares the property) or by "property" alone; the first is tried
	// first.
	Hints map[string]Hint
	// HintPercent is how often a hint is used where there is one, in
	// percent (default 50); the other draws come from the schema.
	HintPercent int
	// OneMemberOf names, by component schema, members of which exactly
	// one is drawn seven times in eight (the eighth, each is drawn as any
	// optional member): for a rule a schema states only in words, such as
	// "give exactly one of stack and account".
	OneMemberOf map[string][]string
	// MaxDepth is the nesting depth beyond which objects get only their
	// required members and arrays only minItems items (default 4).
	MaxDepth int
	// MaxItems is the most items an array gets beyond minItems (default 3).
	MaxItems int
	// MaxString is the longest string drawn, in runes (default 24).
	MaxString int
	// Rune draws the runes of strings without a format or pattern
	// (default rapid.Rune(): any rune, control characters included).
	Rune *rapid.Generator[rune]
	// ExamplePercent is how often an object's or an array's example, where
	// the schema gives one and it is valid, is drawn whole, in percent
	// (default 0): examples are coherent values random draws rarely are.
	ExamplePercent int
}

func (g *Gen) rune() *rapid.Generator[rune] {
	if g.Rune != nil {
		return g.Rune
	}
	return rapid.Rune()
}

func (g *Gen) maxDepth() int { return orDefault(g.MaxDepth, 4) }
func (g *Gen) maxItems() int { return orDefault(g.MaxItems, 3) }
func (g *Gen) maxString() int {
	return orDefault(g.MaxString, 24)
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// Validate checks v against ref as a request value, with kin-openapi's
// validator (the one the server runs).
func Validate(ref *openapi3.SchemaRef, v any) error {
	return ref.Value.VisitJSON(v, openapi3.VisitAsRequest())
}

// Draw draws a value valid for ref; label names it in rapid's output. It
// fails t if the value it drew is not valid (a bug of this package).
func (g *Gen) Draw(t *rapid.T, ref *openapi3.SchemaRef, label string) any {
	v := g.draw(t, ref, SchemaName(ref), label, 0)
	if err := Validate(ref, v); err != nil {
		t.Fatalf("specgen: drew %s = %s, which its schema refuses: %v", label, JSON(v), err)
	}
	return v
}

// SchemaName is the component name of a $ref ("" for an inline schema).
func SchemaName(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	_, name, ok := strings.Cut(ref.Ref, "#/components/schemas/")
	if !ok {
		return ""
	}
	return name
}

// JSON renders v for messages.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

func (g *Gen) draw(t *rapid.T, ref *openapi3.SchemaRef, name, label string, depth int) any {
	s := ref.Value
	if s.Not != nil || s.Discriminator != nil {
		t.Fatalf("specgen: %s uses not or a discriminator, which specgen does not draw", label)
	}
	if s.Nullable && OneIn(t, label+" null?", 8) {
		return nil
	}
	switch {
	case len(s.AllOf) > 0:
		return g.drawAllOf(t, ref, name, label, depth)
	case len(s.OneOf) > 0:
		return g.drawBranch(t, ref, s.OneOf, label, depth)
	case len(s.AnyOf) > 0:
		return g.drawBranch(t, ref, s.AnyOf, label, depth)
	case len(s.Enum) > 0:
		return rapid.SampledFrom(s.Enum).Draw(t, label)
	}
	if k := kindOf(s); (k == "object" || k == "array") && s.Example != nil && g.ExamplePercent > 0 &&
		Percent(t, label+" example?", g.ExamplePercent) {
		if v := jsonValue(s.Example); Validate(ref, v) == nil {
			return v
		}
	}
	switch kindOf(s) {
	case "object":
		return g.drawObject(t, objectShape{props: s.Properties, required: s.Required, additional: s.AdditionalProperties, minProps: int(s.MinProps)}, name, label, depth)
	case "array":
		return g.drawArray(t, s, label, depth)
	case "string":
		return g.drawString(t, s, label)
	case "integer":
		return drawInteger(t, s, label)
	case "number":
		return drawNumber(t, s, label)
	case "boolean":
		return rapid.Bool().Draw(t, label)
	}
	return g.drawAny(t, ref, label)
}

// kindOf is the JSON type a schema describes: its type, else what its
// keywords imply, else "" (anything).
func kindOf(s *openapi3.Schema) string {
	for _, k := range []string{"object", "array", "string", "integer", "number", "boolean"} {
		if s.Type.Is(k) {
			return k
		}
	}
	switch {
	case len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil:
		return "object"
	case s.Items != nil:
		return "array"
	}
	return ""
}

// drawAny draws a JSON scalar an untyped schema accepts.
func (g *Gen) drawAny(t *rapid.T, ref *openapi3.SchemaRef, label string) any {
	candidates := []func() any{
		func() any { return rapid.StringOfN(g.rune(), 0, g.maxString(), -1).Draw(t, label) },
		func() any { return float64(rapid.Int64Range(-1<<31, 1<<31).Draw(t, label)) },
		func() any { return rapid.Bool().Draw(t, label) },
	}
	start := rapid.IntRange(0, len(candidates)-1).Draw(t, label+" kind")
	for i := range candidates {
		if v := candidates[(start+i)%len(candidates)](); Validate(ref, v) == nil {
			return v
		}
	}
	t.Fatalf("specgen: no scalar fits the untyped schema of %s", label)
	return nil
}

// drawBranch draws from one branch of a oneOf or anyOf, trying the others
// in turn when the value does not satisfy the whole schema (a oneOf value
// must match exactly one branch).
func (g *Gen) drawBranch(t *rapid.T, ref *openapi3.SchemaRef, branches openapi3.SchemaRefs, label string, depth int) any {
	start := rapid.IntRange(0, len(branches)-1).Draw(t, label+" branch")
	for i := range branches {
		b := branches[(start+i)%len(branches)]
		v := g.draw(t, b, SchemaName(b), label, depth)
		if Validate(ref, v) == nil {
			return v
		}
	}
	t.Fatalf("specgen: no branch of %s drew a valid value", label)
	return nil
}

// objectShape is what an object schema (or the merge of allOf parts)
// says about members.
type objectShape struct {
	props      openapi3.Schemas
	required   []string
	additional openapi3.AdditionalProperties
	minProps   int
}

// drawAllOf merges the members of every part when one is an object, else
// draws from the first part that has a type or an enum and checks the
// value against the whole.
func (g *Gen) drawAllOf(t *rapid.T, ref *openapi3.SchemaRef, name, label string, depth int) any {
	parts := flattenAllOf(ref)
	shape := objectShape{props: openapi3.Schemas{}}
	object := false
	for _, p := range parts {
		if kindOf(p.Value) == "object" {
			object = true
		}
		if name == "" {
			name = SchemaName(p)
		}
		for k, v := range p.Value.Properties {
			if _, ok := shape.props[k]; !ok {
				shape.props[k] = v
			}
		}
		shape.required = append(shape.required, p.Value.Required...)
		if p.Value.AdditionalProperties.Schema != nil || p.Value.AdditionalProperties.Has != nil {
			shape.additional = p.Value.AdditionalProperties
		}
		shape.minProps = max(shape.minProps, int(p.Value.MinProps))
	}
	var v any
	if object {
		v = g.drawObject(t, shape, name, label, depth)
	} else {
		for _, p := range parts {
			if !p.Value.Type.IsEmpty() || len(p.Value.Enum) > 0 || len(p.Value.OneOf) > 0 || len(p.Value.AnyOf) > 0 {
				v = g.draw(t, p, SchemaName(p), label, depth)
				break
			}
		}
	}
	if err := Validate(ref, v); err != nil {
		t.Fatalf("specgen: the allOf parts of %s disagree: %s: %v", label, JSON(v), err)
	}
	return v
}

// flattenAllOf lists a schema without its allOf and, recursively, its
// allOf parts.
func flattenAllOf(ref *openapi3.SchemaRef) []*openapi3.SchemaRef {
	self := *ref.Value
	self.AllOf = nil
	out := []*openapi3.SchemaRef{{Ref: ref.Ref, Value: &self}}
	for _, p := range ref.Value.AllOf {
		out = append(out, flattenAllOf(p)...)
	}
	return out
}

func (g *Gen) drawObject(t *rapid.T, shape objectShape, name, label string, depth int) map[string]any {
	obj := map[string]any{}
	keys := make([]string, 0, len(shape.props))
	for k := range shape.props {
		keys = append(keys, k)
	}
	// Sorted, so that a seed replays the same draws.
	slices.Sort(keys)
	var one []string
	for _, k := range g.OneMemberOf[name] {
		if _, ok := shape.props[k]; ok {
			one = append(one, k)
		}
	}
	chosen := ""
	if len(one) > 0 && !OneIn(t, label+" one member?", 8) {
		chosen = rapid.SampledFrom(one).Draw(t, label+" the member")
	}
	for _, k := range keys {
		required := slices.Contains(shape.required, k)
		switch {
		case chosen != "" && slices.Contains(one, k):
			if k != chosen {
				continue
			}
		case !required && (depth >= g.maxDepth() || !rapid.Bool().Draw(t, label+"."+k+" present?")):
			continue
		}
		obj[k] = g.property(t, name, k, shape.props[k], label+"."+k, depth+1)
	}
	allowsMore := shape.additional.Schema != nil || (shape.additional.Has != nil && *shape.additional.Has)
	extra := 0
	if allowsMore {
		if len(obj) < shape.minProps {
			extra = shape.minProps - len(obj)
		}
		if depth < g.maxDepth() && OneIn(t, label+" extra members?", 4) {
			extra += rapid.IntRange(1, 2).Draw(t, label+" extra members")
		}
	}
	for i := 0; i < extra; i++ {
		k := rapid.StringMatching(`[a-z][a-zA-Z0-9]{0,11}`).Draw(t, label+" extra member")
		if _, taken := shape.props[k]; taken {
			continue
		}
		if shape.additional.Schema != nil {
			obj[k] = g.draw(t, shape.additional.Schema, SchemaName(shape.additional.Schema), label+"."+k, depth+1)
		} else {
			obj[k] = g.drawAny(t, &openapi3.SchemaRef{Value: &openapi3.Schema{}}, label+"."+k)
		}
	}
	return obj
}

// property draws a member: from a hint when there is one (half of the time,
// and only a valid value), else from its schema.
func (g *Gen) property(t *rapid.T, object, member string, ref *openapi3.SchemaRef, label string, depth int) any {
	for _, key := range []string{object + "." + member, member} {
		hint, ok := g.Hints[key]
		if !ok || (object == "" && key != member) {
			continue
		}
		if Percent(t, label+" hinted?", orDefault(g.HintPercent, 50)) {
			if v := hint(t, label); Validate(ref, v) == nil {
				return v
			}
		}
		break
	}
	return g.draw(t, ref, SchemaName(ref), label, depth)
}

func (g *Gen) drawArray(t *rapid.T, s *openapi3.Schema, label string, depth int) []any {
	lo := int(s.MinItems)
	hi := lo + g.maxItems()
	if s.MaxItems != nil {
		hi = min(hi, int(*s.MaxItems))
	}
	if depth >= g.maxDepth() {
		hi = lo
	}
	n := rapid.IntRange(lo, hi).Draw(t, label+" length")
	items := make([]any, 0, n)
	seen := map[string]bool{}
	for i := 0; len(items) < n && i < 4*n+4; i++ {
		itemRef := s.Items
		if itemRef == nil {
			itemRef = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
		}
		v := g.draw(t, itemRef, SchemaName(itemRef), fmt.Sprintf("%s[%d]", label, len(items)), depth+1)
		if s.UniqueItems {
			key := JSON(v)
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		items = append(items, v)
	}
	return items
}

func (g *Gen) drawString(t *rapid.T, s *openapi3.Schema, label string) string {
	lo := int(s.MinLength)
	hi := max(lo, g.maxString())
	if s.MaxLength != nil {
		hi = min(hi, int(*s.MaxLength))
	}
	switch s.Format {
	case "date-time":
		return drawTime(t, label).Format(rapid.SampledFrom([]string{time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05.000-07:00"}).Draw(t, label+" layout"))
	case "date":
		return drawTime(t, label).Format(time.DateOnly)
	case "uuid":
		b := rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label)
		b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	case "email":
		return rapid.StringMatching(`[a-z][a-z0-9.]{0,10}@[a-z]{1,8}\.example`).Draw(t, label)
	case "byte":
		return base64.StdEncoding.EncodeToString(rapid.SliceOfN(rapid.Byte(), 0, hi).Draw(t, label))
	}
	if s.Pattern != "" {
		return rapid.StringMatching(s.Pattern).Filter(func(v string) bool {
			n := len([]rune(v))
			return n >= lo && n <= hi
		}).Draw(t, label)
	}
	return rapid.StringOfN(g.rune(), lo, hi, -1).Draw(t, label)
}

// jsonValue is v as encoding/json decodes it (an example as the YAML
// loader left it may hold other number types).
func jsonValue(v any) any {
	var out any
	if err := json.Unmarshal([]byte(JSON(v)), &out); err != nil {
		return v
	}
	return out
}

// drawTime draws an instant between the years 1 and 9999 (RFC 3339's
// range), in a random zone offset.
func drawTime(t *rapid.T, label string) time.Time {
	lo := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	at := time.Unix(rapid.Int64Range(lo, hi).Draw(t, label+" seconds"), rapid.Int64Range(0, 999_999_999).Draw(t, label+" nanoseconds"))
	offset := rapid.IntRange(-14*4, 14*4).Draw(t, label+" offset") * 15 * 60
	return at.In(time.FixedZone("", offset))
}

// jsonSafe bounds integers drawn for unbounded schemas to those a float64
// (the JSON number of every decoder) holds exactly.
const jsonSafe = 1 << 53

func intBounds(s *openapi3.Schema) (lo, hi int64) {
	lo, hi = -jsonSafe, jsonSafe
	switch s.Format {
	case "int32":
		lo, hi = math.MinInt32, math.MaxInt32
	}
	if s.Min != nil {
		m := int64(math.Ceil(*s.Min))
		if s.ExclusiveMin.IsTrue() && float64(m) == *s.Min {
			m++
		}
		lo = max(lo, m)
	}
	if s.Max != nil {
		m := int64(math.Floor(*s.Max))
		if s.ExclusiveMax.IsTrue() && float64(m) == *s.Max {
			m--
		}
		hi = min(hi, m)
	}
	return lo, hi
}

func drawInteger(t *rapid.T, s *openapi3.Schema, label string) float64 {
	lo, hi := intBounds(s)
	v := rapid.Int64Range(lo, hi).Draw(t, label)
	if s.MultipleOf != nil && *s.MultipleOf >= 1 {
		m := int64(*s.MultipleOf)
		v -= v % m
		if v < lo {
			v += m
		}
	}
	return float64(v)
}

func drawNumber(t *rapid.T, s *openapi3.Schema, label string) float64 {
	lo, hi := -1e9, 1e9
	if s.Min != nil {
		lo = *s.Min
		if s.ExclusiveMin.IsTrue() {
			lo = math.Nextafter(lo, math.Inf(1))
		}
	}
	if s.Max != nil {
		hi = *s.Max
		if s.ExclusiveMax.IsTrue() {
			hi = math.Nextafter(hi, math.Inf(-1))
		}
	}
	v := rapid.Float64Range(lo, hi).Draw(t, label)
	if s.MultipleOf != nil && *s.MultipleOf > 0 {
		v = math.Ceil(lo / *s.MultipleOf) * *s.MultipleOf
	}
	return v
}
