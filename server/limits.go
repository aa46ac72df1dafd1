package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/grid"
)

// Limits bound what one request may carry beyond its byte size (BodyLimit):
// a list longer than MaxItems, a name longer than MaxNameBytes or any other
// string longer than MaxTextBytes is answered 400 naming the field, before
// the handler runs, and so is a string holding a NUL character (PostgreSQL's
// text can't store one, so SQLite refuses it too). They apply to every
// operation, parameters and body.
type Limits struct {
	// MaxItems bounds every list: resources and violations of an ingest,
	// policies of a pack, values of a filter (default 100,000).
	MaxItems int
	// MaxNameBytes bounds fields named "name" or "...Name" (default 1 KiB).
	MaxNameBytes int
	// MaxTextBytes bounds every other string: messages, descriptions,
	// filter values (default 64 KiB).
	MaxTextBytes int
}

// DefaultLimits are the limits when Config.Limits is zero.
var DefaultLimits = Limits{MaxItems: 100_000, MaxNameBytes: 1 << 10, MaxTextBytes: 64 << 10}

func (l Limits) withDefaults() Limits {
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultLimits.MaxItems
	}
	if l.MaxNameBytes <= 0 {
		l.MaxNameBytes = DefaultLimits.MaxNameBytes
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultLimits.MaxTextBytes
	}
	return l
}

// enforceLimits is a strict middleware that checks the decoded request
// object against the limits.
func (s *Server) enforceLimits(f api.StrictHandlerFunc, _ string) api.StrictHandlerFunc {
	return func(c echo.Context, request any) (any, error) {
		if err := s.limits.check(reflect.ValueOf(request), nil); err != nil {
			return nil, err
		}
		return f(c, request)
	}
}

// fieldPath is a position in a request in the API's JSON names, spelled out
// only for an error message: an ingest of a thousand resources walks tens
// of thousands of values.
type fieldPath struct {
	parent *fieldPath
	name   string // a field or map key; "" for an item of a list
	index  int
}

func (p *fieldPath) String() string {
	if p == nil {
		return ""
	}
	s := p.parent.String()
	switch {
	case p.name == "":
		return s + "[" + strconv.Itoa(p.index) + "]"
	case s == "":
		return p.name
	}
	return s + "." + p.name
}

// field names p in a message: `field "violations[0].message"`, or the
// request body itself when p is empty (a body that is a list).
func (p *fieldPath) field() string {
	if p == nil {
		return "the request body"
	}
	return fmt.Sprintf("field %q", p)
}

// child is the path of a field or key named name ("" stays at p: the
// request body's fields are top level).
func (p *fieldPath) child(name string) *fieldPath {
	if name == "" {
		return p
	}
	return &fieldPath{parent: p, name: name}
}

// isName tells a name (pack, policy, stack, group...) from free text by
// the last field of the path (a list's for its items).
func (p *fieldPath) isName() bool {
	for ; p != nil; p = p.parent {
		if p.name != "" {
			return p.name == "name" || strings.HasSuffix(p.name, "Name")
		}
	}
	return false
}

// structField is an exported field of a request struct and its JSON name.
type structField struct {
	index int
	name  string
}

// structFields caches the fields of each request struct type.
var structFields sync.Map // reflect.Type -> []structField

func fieldsOf(t reflect.Type) []structField {
	if fs, ok := structFields.Load(t); ok {
		return fs.([]structField)
	}
	var fs []structField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case f.Name == "Body" && name == "":
			name = "" // the request body: its fields are top level
		case name == "":
			name = f.Name
		}
		fs = append(fs, structField{index: i, name: name})
	}
	structFields.Store(t, fs)
	return fs
}

// check walks v; path is where v is.
func (l Limits) check(v reflect.Value, path *fieldPath) error {
	if v.IsValid() && v.CanInterface() && v.Type().Implements(readerType) {
		// A streamed body (a pack archive) is bounded by its handler.
		return nil
	}
	if v.IsValid() && v.Type() == filterModelType {
		return l.checkJSON(v.Bytes(), path)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return l.check(v.Elem(), path)
	case reflect.String:
		n, max := v.Len(), l.MaxTextBytes
		if path.isName() {
			max = l.MaxNameBytes
		}
		if n > max {
			return invalidInput("%s is %d bytes long; at most %d", path.field(), n, max)
		}
		if strings.IndexByte(v.String(), 0) >= 0 {
			return invalidInput("%s holds a NUL character, which no string may hold", path.field())
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			// Raw bytes (JSON documents, archives) are bounded by the body limit.
			return nil
		}
		if v.Len() > l.MaxItems {
			return invalidInput("%s has %d items; at most %d", path.field(), v.Len(), l.MaxItems)
		}
		item := &fieldPath{parent: path}
		for i := 0; i < v.Len(); i++ {
			item.index = i
			if err := l.check(v.Index(i), item); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Len() > l.MaxItems {
			return invalidInput("%s has %d entries; at most %d", path.field(), v.Len(), l.MaxItems)
		}
		// nullable.Nullable is a map keyed by bool: its value is the field.
		keyed := v.Type().Key().Kind() == reflect.String
		iter := v.MapRange()
		for iter.Next() {
			p := path
			if keyed {
				k := iter.Key().String()
				if len(k) > l.MaxNameBytes {
					return invalidInput("%s has a key %d bytes long; at most %d", path.field(), len(k), l.MaxNameBytes)
				}
				p = path.child(k)
			}
			if err := l.check(iter.Value(), p); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for _, f := range fieldsOf(v.Type()) {
			if err := l.check(v.Field(f.index), path.child(f.name)); err != nil {
				return err
			}
		}
	}
	return nil
}

var readerType = reflect.TypeFor[io.Reader]()

// filterModelType is a grid filter model, which the handlers receive as the
// JSON the client sent.
var filterModelType = reflect.TypeFor[grid.FilterModel]()

// checkJSON checks the values of a JSON document as those of a decoded
// body: its members are fields, its arrays lists. A document that does not
// decode is left to its parser.
func (l Limits) checkJSON(doc []byte, path *fieldPath) error {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil
	}
	return l.check(reflect.ValueOf(v), path)
}

// invalidInput is a 400 for input beyond the limits.
func invalidInput(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, message: "invalid request: " + fmt.Sprintf(format, args...)}
}
