package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

var registerJSONOnce sync.Once

// registerStrictJSON makes the request validator refuse a JSON body that is
// not exactly one JSON value. kin-openapi's own decoder reads the first
// value with encoding/json's Decoder and ignores what follows, so "{}}" or
// a body with a trailing comma was accepted as its first value. The
// registry of body decoders is kin-openapi's, one for the process.
func registerStrictJSON() {
	registerJSONOnce.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/json", strictJSON)
	})
}

// strictJSON decodes a JSON request body as kin-openapi does once the whole
// body is known to be one JSON value.
func strictJSON(body io.Reader, h http.Header, schema *openapi3.SchemaRef, enc openapi3filter.EncodingFn) (any, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	if !json.Valid(raw) {
		// Unmarshal says what is wrong and where; Valid is the quicker check.
		var v any
		err := json.Unmarshal(raw, &v)
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: err}
	}
	return openapi3filter.JSONBodyDecoder(bytes.NewReader(raw), h, schema, enc)
}
