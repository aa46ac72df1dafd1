package specgen

import (
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Path is a location in a JSON value: member names (string) and item
// indexes (int).
type Path []any

// String renders p as the server names fields: members joined by dots,
// indexes in brackets ("violations[0].message").
func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch e := e.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(e) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e)
		}
	}
	return b.String()
}

// Field is the last member name on p: the field a message about p must
// name (a list's name for its items).
func (p Path) Field() string {
	for i := len(p) - 1; i >= 0; i-- {
		if s, ok := p[i].(string); ok {
			return s
		}
	}
	return ""
}

// Site is one location of a value with the schemas that hold there (all
// of them must: allOf parts are listed, and of a oneOf or anyOf the branch
// the value matches).
type Site struct {
	Path    Path
	Schemas []*openapi3.SchemaRef
	Value   any
}

// Sites lists every location of v, valid for ref, with its schemas,
// outermost first.
func Sites(ref *openapi3.SchemaRef, v any) []Site {
	var out []Site
	walk(&out, nil, []*openapi3.SchemaRef{ref}, v)
	return out
}

func walk(out *[]Site, path Path, refs []*openapi3.SchemaRef, v any) {
	var set []*openapi3.SchemaRef
	for _, r := range refs {
		set = append(set, expand(r, v)...)
	}
	*out = append(*out, Site{Path: slices.Clone(path), Schemas: set, Value: v})
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			var child []*openapi3.SchemaRef
			for _, r := range set {
				if p, ok := r.Value.Properties[k]; ok {
					child = append(child, p)
				} else if r.Value.AdditionalProperties.Schema != nil {
					child = append(child, r.Value.AdditionalProperties.Schema)
				}
			}
			if len(child) > 0 {
				walk(out, append(path, k), child, v[k])
			}
		}
	case []any:
		var child []*openapi3.SchemaRef
		for _, r := range set {
			if r.Value.Items != nil {
				child = append(child, r.Value.Items)
			}
		}
		if len(child) == 0 {
			return
		}
		for i, item := range v {
			walk(out, append(path, i), child, item)
		}
	}
}

// expand lists a schema with its allOf parts and the oneOf/anyOf branch
// v matches.
func expand(ref *openapi3.SchemaRef, v any) []*openapi3.SchemaRef {
	out := []*openapi3.SchemaRef{ref}
	for _, p := range ref.Value.AllOf {
		out = append(out, expand(p, v)...)
	}
	for _, branches := range []openapi3.SchemaRefs{ref.Value.OneOf, ref.Value.AnyOf} {
		for _, b := range branches {
			if Validate(b, v) == nil {
				out = append(out, expand(b, v)...)
				break
			}
		}
	}
	return out
}

// kind is the JSON type a site's schemas require, "" when none does.
func (s Site) kind() string {
	for _, r := range s.Schemas {
		if k := kindOf(r.Value); k != "" {
			return k
		}
	}
	return ""
}

func (s Site) enum() []any {
	for _, r := range s.Schemas {
		if len(r.Value.Enum) > 0 {
			return r.Value.Enum
		}
	}
	return nil
}

func (s Site) required() []string {
	var out []string
	for _, r := range s.Schemas {
		out = append(out, r.Value.Required...)
	}
	return out
}

func (s Site) format() string {
	for _, r := range s.Schemas {
		if r.Value.Format != "" {
			return r.Value.Format
		}
	}
	return ""
}

func (s Site) pattern() string {
	for _, r := range s.Schemas {
		if r.Value.Pattern != "" {
			return r.Value.Pattern
		}
	}
	return ""
}

// itemsSchema is the schema of a list site's items.
func (s Site) itemsSchema() *openapi3.SchemaRef {
	for _, r := range s.Schemas {
		if r.Value.Items != nil {
			return r.Value.Items
		}
	}
	return &openapi3.SchemaRef{Value: &openapi3.Schema{}}
}

// maxLength is the smallest maxLength (or maxItems) the site's schemas
// state, -1 when none does.
func (s Site) maxLength(items bool) int {
	out := -1
	for _, r := range s.Schemas {
		m := r.Value.MaxLength
		if items {
			m = r.Value.MaxItems
		}
		if m != nil && (out < 0 || int(*m) < out) {
			out = int(*m)
		}
	}
	return out
}

// bounds are the site's minimum and maximum, nil when unbounded.
func (s Site) bounds() (lo, hi *float64) {
	for _, r := range s.Schemas {
		if r.Value.Min != nil {
			lo = r.Value.Min
		}
		if r.Value.Max != nil {
			hi = r.Value.Max
		}
	}
	return lo, hi
}
