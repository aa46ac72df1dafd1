package server

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuerows"
)

// TestIssueToAPICoversIssueFields checks that the API's PolicyIssue, the
// fields issueToAPI fills for an issue with every column set, and the
// repository's column registry (issuerows.Fields) name the same fields: a field
// added to one of them without the others fails here.
func TestIssueToAPICoversIssueFields(t *testing.T) {
	fields := slices.Sorted(slices.Values(issuerows.Fields))

	var spec []string
	typ := reflect.TypeFor[api.PolicyIssue]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		spec = append(spec, name)
	}
	slices.Sort(spec)
	if !slices.Equal(spec, fields) {
		t.Errorf("api.PolicyIssue's fields %v\nregistry's issuerows.Fields %v", spec, fields)
	}

	v, until := int64(3), time.Unix(1700100000, 0)
	is := &model.Issue{
		ID: "0b8f9a70-9c4e-4a55-8a39-1c1d5b1b0c34", EntityType: "stack", EntityProject: "shop", EntityID: "prod",
		StackVersion: &v, ResourceVersion: &v, PolicyPack: "aws-cis", PolicyPackTag: "1.0.0", PolicyName: "no-public-read",
		ResourceURN: "urn:pulumi:prod::shop::aws:s3/bucket:Bucket::site", ResourceProvider: "aws",
		ResourceType: "aws:s3/bucket:Bucket", ResourceName: "site", Message: "Bucket is public",
		ObservedAt: time.Unix(1700000000, 0), LastModified: time.Unix(1700000001, 0), Level: "mandatory",
		Severity: "high", Status: "ignored", Kind: "audit", Priority: "p1", AssigneeLogin: "alice", AssigneeEmail: "alice@example.com",
		PolicyGroupName: "default", PolicyGroupType: "audit", AcceptedUntil: &until, AcceptanceReason: "accepted",
	}
	raw, err := json.Marshal(issueToAPI(is))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if filled := slices.Sorted(maps.Keys(got)); !slices.Equal(filled, fields) {
		t.Errorf("issueToAPI fills %v\nregistry's issuerows.Fields %v", filled, fields)
	}
}
