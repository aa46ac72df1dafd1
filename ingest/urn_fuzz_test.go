package ingest

import (
	"strings"
	"testing"
)

// FuzzParseURN feeds arbitrary strings to ParseURN: it never panics, and a
// URN it accepts has every part, reassembles to the input, and its type and
// package come from the last segment of the qualified type.
func FuzzParseURN(f *testing.F) {
	for _, seed := range []string{
		"urn:pulumi:prod::shop::aws:s3/bucket:Bucket::site",
		"urn:pulumi:prod::shop::my:index:Component$aws:s3/bucket:Bucket::a::b",
		StackURN("shop", "prod"),
		AccountURN("aws-prod"),
		"urn:pulumi:::::::",
		"urn:pulumi:s::p::$::n",
		"urn:pulumi:s::p::aws:x:Y\x00::n",
		"urn:other:s::p::t:m:T::n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURN(s)
		if err != nil {
			if u != (URN{}) {
				t.Fatalf("error %v with a non-zero URN %+v", err, u)
			}
			return
		}
		if u.Stack == "" || u.Project == "" || u.QualifiedType == "" || u.Name == "" || u.Type == "" || u.Package == "" {
			t.Fatalf("accepted %q with an empty part: %+v", s, u)
		}
		if got := urnPrefix + u.Stack + "::" + u.Project + "::" + u.QualifiedType + "::" + u.Name; got != s {
			t.Fatalf("parts of %q reassemble to %q", s, got)
		}
		if strings.Contains(u.Stack, "::") || strings.Contains(u.Project, "::") || strings.Contains(u.QualifiedType, "::") {
			t.Fatalf("a part before the name holds \"::\": %+v", u)
		}
		if !strings.HasSuffix(u.QualifiedType, u.Type) || strings.Contains(u.Type, "$") {
			t.Fatalf("type %q is not the last segment of %q", u.Type, u.QualifiedType)
		}
		if !strings.HasPrefix(u.Type, u.Package+":") {
			t.Fatalf("package %q is not the prefix of type %q", u.Package, u.Type)
		}
		if strings.ContainsAny(s, "\x00\n\r\t") {
			t.Fatalf("accepted control characters in %q", s)
		}
	})
}
