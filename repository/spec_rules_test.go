package repository

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/compliance"
	"github.com/policyresults/policyresults/repository/packs"
)

// TestSpecPatternsAreTheServersRules keeps the patterns openapi.yaml states
// for names and version tags identical to the rules the server enforces,
// so that a client generated from the specification refuses exactly what
// the server refuses.
func TestSpecPatternsAreTheServersRules(t *testing.T) {
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	// A version tag may be empty (the version number becomes the tag) and
	// carry a leading v or V (policy.NormalizeTag).
	semver := strings.TrimSuffix(strings.TrimPrefix(policy.SemVer.String(), "^"), "$")
	versionTag := regexp.MustCompile(`^([vV]?` + semver + `)?$`)
	for _, c := range []struct {
		property string
		rule     *regexp.Regexp
	}{
		{"AppCreatePolicyPackRequest.name", policy.PackNamePattern},
		{"AppCreatePolicyPackRequest.versionTag", versionTag},
		{"AppPolicy.name", policy.PackNamePattern},
		{"PolicyEvaluationPack.name", policy.PackNamePattern},
		{"PolicyEvaluationResourcePack.name", policy.PackNamePattern},
		{"PolicyEvaluationResourcePack.passed[]", policy.PackNamePattern},
		{"PolicyEvaluationResourcePack.failed[]", policy.PackNamePattern},
		{"PolicyEvaluationViolation.policyPack", policy.PackNamePattern},
		{"PolicyEvaluationViolation.policyName", policy.PackNamePattern},
		{"InsightsPolicyViolation.policyName", policy.PackNamePattern},
		{"InsightsPolicyViolation.policyPackName", policy.PackNamePattern},
		{"PolicyEvaluationStack.project", policy.StackNamePattern},
		{"PolicyEvaluationStack.name", policy.StackNamePattern},
		{"PolicyEvaluationAccount.name", policy.AccountNamePattern},
		{"AppPulumiStackReference.name", policy.StackNamePattern},
		{"AppPulumiStackReference.routingProject", policy.StackNamePattern},
		{"NewPolicyGroupRequest.name", policy.GroupNamePattern},
	} {
		schema, prop, _ := strings.Cut(c.property, ".")
		prop, items := strings.CutSuffix(prop, "[]")
		s, ok := spec.Components.Schemas[schema]
		if !ok || s.Value.Properties[prop] == nil {
			t.Errorf("openapi.yaml has no %s", c.property)
			continue
		}
		p := s.Value.Properties[prop].Value
		if items {
			p = p.Items.Value
		}
		if p.Pattern != c.rule.String() {
			t.Errorf("%s: openapi.yaml's pattern %q is not the server's rule %q", c.property, p.Pattern, c.rule)
		}
	}
	// The version tag rule as the server applies it.
	for tag, ok := range map[string]bool{"": true, "1.2.0": true, "v1.2.0": true, "V1.2.0-rc.1+build.5": true, "v": false, "1.2": false, "01.2.0": false, " 1.2.0": false} {
		if _, err := policy.NewVersionTag(tag); (err == nil) != ok || versionTag.MatchString(tag) != ok {
			t.Errorf("version tag %q: the server says %v, the pattern %v; want %v", tag, err, versionTag.MatchString(tag), ok)
		}
	}
}

// TestSpecBoundsAreTheServersLimits keeps the bounds openapi.yaml states for
// numbers the repository limits identical to its limits.
func TestSpecBoundsAreTheServersLimits(t *testing.T) {
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		schema   *openapi3.Schema
		min, max float64
	}{
		{"GetPolicyComplianceResultsRequest.size", spec.Components.Schemas["GetPolicyComplianceResultsRequest"].Value.Properties["size"].Value, 1, compliance.MaxPageSize},
		{"AppPolicyPackMetadata.version", spec.Components.Schemas["AppPolicyPackMetadata"].Value.Properties["version"].Value, 0, packs.MaxVersion},
		{"parameter PolicyPackVersionNumber", spec.Components.Parameters["PolicyPackVersionNumber"].Value.Schema.Value, 1, packs.MaxVersion},
	} {
		if s := c.schema; s.Min == nil || *s.Min != c.min || s.Max == nil || *s.Max != c.max {
			t.Errorf("%s: openapi.yaml's bounds are %s..%s, the server's %v..%v", c.name, bound(c.schema.Min), bound(c.schema.Max), c.min, c.max)
		}
	}
}

// bound renders a schema's minimum or maximum.
func bound(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}
