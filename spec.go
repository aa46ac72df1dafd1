// Package policyresults holds the service's contract, openapi.yaml, for the
// binary to serve at GET /openapi.yaml.
package policyresults

import _ "embed"

// OpenAPIYAML is openapi.yaml as committed.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte
