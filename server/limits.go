package server

import (
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/policyresults/policyresults/gen/api"
)

// Limits bound what one request may carry beyond its byte size (BodyLimit):
// a list longer than MaxItems, a name longer than MaxNameBytes or any other
// string longer than MaxTextBytes is answered 400 naming the field, before
// the handler runs. They apply to every operation, parameters and body.
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
		if err := s.limits.check(reflect.ValueOf(request), ""); err != nil {
			return nil, err
		}
		return f(c, request)
	}
}

// check walks v; path is the field path so far in the API's JSON names.
func (l Limits) check(v reflect.Value, path string) error {
	if v.IsValid() && v.CanInterface() && v.Type().Implements(readerType) {
		// A streamed body (a pack archive) is bounded by its handler.
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return l.check(v.Elem(), path)
	case reflect.String:
		n, max := v.Len(), l.MaxTextBytes
		if isNameField(path) {
			max = l.MaxNameBytes
		}
		if n > max {
			return tooLarge("field %q is %d bytes long; at most %d", path, n, max)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			// Raw bytes (JSON documents, archives) are bounded by the body limit.
			return nil
		}
		if v.Len() > l.MaxItems {
			return tooLarge("field %q has %d items; at most %d", path, v.Len(), l.MaxItems)
		}
		for i := 0; i < v.Len(); i++ {
			if err := l.check(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Len() > l.MaxItems {
			return tooLarge("field %q has %d entries; at most %d", path, v.Len(), l.MaxItems)
		}
		// nullable.Nullable is a map keyed by bool: its value is the field.
		keyed := v.Type().Key().Kind() == reflect.String
		iter := v.MapRange()
		for iter.Next() {
			p := path
			if keyed {
				k := iter.Key().String()
				if len(k) > l.MaxNameBytes {
					return tooLarge("field %q has a key %d bytes long; at most %d", path, len(k), l.MaxNameBytes)
				}
				p = join(path, k)
			}
			if err := l.check(iter.Value(), p); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
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
			if err := l.check(v.Field(i), join(path, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

var readerType = reflect.TypeFor[io.Reader]()

func join(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "":
		return name
	}
	return path + "." + name
}

// isNameField tells a name (pack, policy, stack, group...) from free text
// by the last element of its path.
func isNameField(path string) bool {
	last := path[strings.LastIndexByte(path, '.')+1:]
	if i := strings.IndexByte(last, '['); i >= 0 {
		last = last[:i]
	}
	return last == "name" || strings.HasSuffix(last, "Name")
}

func tooLarge(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, message: "invalid request: " + fmt.Sprintf(format, args...)}
}
