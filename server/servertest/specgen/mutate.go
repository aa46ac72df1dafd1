package specgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"
)

// Kind is a kind of invalid mutation.
type Kind string

// The kinds of mutation Mutate draws from.
const (
	WrongType       Kind = "wrong type"
	UnknownEnum     Kind = "unknown enum value"
	MissingRequired Kind = "missing required member"
	OversizedString Kind = "oversized string"
	OversizedArray  Kind = "oversized array"
	BadFormat       Kind = "bad format"
	OffPattern      Kind = "string off its pattern"
	OutOfRange      Kind = "out of range"
)

// Kinds are all kinds of value mutation.
var Kinds = []Kind{WrongType, UnknownEnum, MissingRequired, OversizedString, OversizedArray, BadFormat, OffPattern, OutOfRange}

// Limits are the sizes a server refuses beyond without the schema saying
// so (a schema's maxLength and maxItems count too, when smaller).
type Limits struct {
	// Items is the longest list accepted.
	Items int
	// StringBytes is the longest string accepted at a path, in bytes.
	StringBytes func(Path) int
}

// Mutation is an invalid value made from a valid one.
type Mutation struct {
	Kind Kind
	// Path is where the value was changed; for MissingRequired, the
	// member removed.
	Path Path
	// Value is the whole mutated value.
	Value any
}

func (m Mutation) String() string {
	return fmt.Sprintf("%s at %q", m.Kind, m.Path.String())
}

// Mutate draws one mutation of v (valid for ref) of one of kinds, and
// reports false when none applies to v. Every mutation but the oversized
// ones (which exceed lim, not the schema) is checked to make the value
// invalid for ref.
func (g *Gen) Mutate(t *rapid.T, ref *openapi3.SchemaRef, v any, lim Limits, kinds []Kind) (Mutation, bool) {
	type candidate struct {
		kind Kind
		site Site
	}
	var candidates []candidate
	for _, site := range Sites(ref, v) {
		for _, k := range kinds {
			if applies(k, site) {
				candidates = append(candidates, candidate{k, site})
			}
		}
	}
	if len(candidates) == 0 {
		return Mutation{}, false
	}
	start := rapid.IntRange(0, len(candidates)-1).Draw(t, "mutation site")
	for i := range candidates {
		c := candidates[(start+i)%len(candidates)]
		if m, ok := g.mutateAt(t, ref, v, c.kind, c.site, lim); ok {
			return m, true
		}
	}
	return Mutation{}, false
}

func applies(k Kind, s Site) bool {
	switch k {
	case WrongType:
		return s.kind() != "" || len(s.enum()) > 0
	case UnknownEnum:
		_, isString := s.Value.(string)
		return isString && len(s.enum()) > 0
	case MissingRequired:
		obj, ok := s.Value.(map[string]any)
		if !ok {
			return false
		}
		for _, r := range s.required() {
			if _, present := obj[r]; present {
				return true
			}
		}
		return false
	case OversizedString:
		_, isString := s.Value.(string)
		return isString && len(s.enum()) == 0 && s.format() == "" && len(s.Path) > 0
	case OversizedArray:
		_, isList := s.Value.([]any)
		return isList
	case BadFormat:
		_, isString := s.Value.(string)
		f := s.format()
		return isString && (f == "date-time" || f == "date")
	case OffPattern:
		_, isString := s.Value.(string)
		return isString && s.pattern() != ""
	case OutOfRange:
		_, isNumber := s.Value.(float64)
		lo, hi := s.bounds()
		return isNumber && (lo != nil || hi != nil)
	}
	return false
}

// mutateAt applies one kind at one site; false when no value of that kind
// makes the whole invalid there.
func (g *Gen) mutateAt(t *rapid.T, ref *openapi3.SchemaRef, v any, k Kind, s Site, lim Limits) (Mutation, bool) {
	label := string(k) + " " + s.Path.String()
	invalid := func(replacement any) (Mutation, bool) {
		out := Replace(v, s.Path, replacement)
		if Validate(ref, out) == nil {
			return Mutation{}, false
		}
		return Mutation{Kind: k, Path: s.Path, Value: out}, true
	}
	switch k {
	case WrongType:
		others := []any{"not-a-" + s.kind(), 7.0, 2.5, true, map[string]any{"x": 1.0}, []any{"x"}, nil}
		start := rapid.IntRange(0, len(others)-1).Draw(t, label)
		for i := range others {
			o := others[(start+i)%len(others)]
			if jsonKind(o) == jsonKind(s.Value) && !(jsonKind(o) == "number" && s.kind() == "integer") {
				continue
			}
			if m, ok := invalid(o); ok {
				return m, true
			}
		}
		return Mutation{}, false
	case UnknownEnum:
		return invalid("no-such-" + rapid.StringMatching(`[a-z]{1,8}`).Draw(t, label))
	case MissingRequired:
		obj := s.Value.(map[string]any)
		var present []string
		for _, r := range s.required() {
			if _, ok := obj[r]; ok && !slices.Contains(present, r) {
				present = append(present, r)
			}
		}
		member := rapid.SampledFrom(present).Draw(t, label)
		smaller := map[string]any{}
		for key, val := range obj {
			if key != member {
				smaller[key] = val
			}
		}
		m, ok := invalid(smaller)
		m.Path = append(slices.Clone(s.Path), member)
		return m, ok
	case OversizedString:
		limit := lim.StringBytes(s.Path)
		if m := s.maxLength(false); m >= 0 && m < limit {
			limit = m
		}
		n := limit + 1 + rapid.IntRange(0, 16).Draw(t, label)
		return Mutation{Kind: k, Path: s.Path, Value: Replace(v, s.Path, strings.Repeat("x", n))}, true
	case OversizedArray:
		limit := lim.Items
		if m := s.maxLength(true); m >= 0 && m < limit {
			limit = m
		}
		items := slices.Clone(s.Value.([]any))
		if len(items) == 0 {
			items = append(items, g.Draw(t, s.itemsSchema(), label+" item"))
		}
		for i := 0; len(items) <= limit; i++ {
			items = append(items, items[i%len(items)])
		}
		return Mutation{Kind: k, Path: s.Path, Value: Replace(v, s.Path, items)}, true
	case BadFormat:
		return invalid(rapid.SampledFrom([]string{"yesterday", "2024-13-45T25:61:00Z", "2024-02-30", "1700000000", "2024-01-02 03:04:05+0000"}).Draw(t, label))
	case OffPattern:
		// Strings most patterns refuse: a character beyond the usual
		// classes, a space, the empty string; the first the pattern
		// refuses is sent.
		value := s.Value.(string)
		offs := []any{value + "\u00e9", " " + value, value + "/ ?", "", "\x01"}
		start := rapid.IntRange(0, len(offs)-1).Draw(t, label)
		for i := range offs {
			if m, ok := invalid(offs[(start+i)%len(offs)]); ok {
				return m, true
			}
		}
		return Mutation{}, false
	case OutOfRange:
		lo, hi := s.bounds()
		var outside []any
		if lo != nil {
			outside = append(outside, math.Floor(*lo)-1)
		}
		if hi != nil {
			outside = append(outside, math.Ceil(*hi)+1)
		}
		return invalid(rapid.SampledFrom(outside).Draw(t, label))
	}
	return Mutation{}, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// Replace returns a copy of v with the value at path replaced.
func Replace(v any, path Path, with any) any {
	if len(path) == 0 {
		return with
	}
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, val := range c {
			out[k] = val
		}
		key := path[0].(string)
		out[key] = Replace(c[key], path[1:], with)
		return out
	case []any:
		out := slices.Clone(c)
		i := path[0].(int)
		out[i] = Replace(c[i], path[1:], with)
		return out
	}
	panic(fmt.Sprintf("specgen: no %v in %s", path, JSON(v)))
}

// BreakJSON draws a corruption of JSON text that no JSON parser accepts:
// the text cut short, a stray character inserted, or a delimiter dropped.
func BreakJSON(t *rapid.T, raw []byte) []byte {
	broken := [](func() []byte){
		func() []byte { return raw[:rapid.IntRange(0, max(0, len(raw)-1)).Draw(t, "cut at")] },
		func() []byte {
			at := rapid.IntRange(0, len(raw)).Draw(t, "insert at")
			stray := rapid.SampledFrom([]string{",", "}", "]", ":", "\"", "{", "nul", "'"}).Draw(t, "stray")
			return slices.Concat(raw[:at], []byte(stray), raw[at:])
		},
		func() []byte {
			for _, d := range []byte{'}', ']', '"', ':'} {
				if i := bytes.IndexByte(raw, d); i >= 0 {
					return slices.Concat(raw[:i], raw[i+1:])
				}
			}
			return nil
		},
	}
	start := rapid.IntRange(0, len(broken)-1).Draw(t, "corruption")
	for i := range broken {
		if out := broken[(start+i)%len(broken)](); len(out) > 0 && !json.Valid(out) {
			return out
		}
	}
	// Cutting the last byte of an object, list or string always breaks it.
	if len(raw) > 1 {
		return raw[:len(raw)-1]
	}
	return []byte("{")
}
