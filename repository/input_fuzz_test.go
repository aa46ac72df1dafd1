package repository

import (
	"errors"
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

// FuzzPageToken checks the continuation-token decoder: tokens it issued
// decode to what was encoded and only for their own listing; arbitrary and
// altered tokens never panic and are refused with a ValidationError on
// continuationToken.
func FuzzPageToken(f *testing.F) {
	f.Add("compliance/stacks", "shop/prod", "", "x")
	f.Add("violations", "2024-03-05T10:00:00.123456789Z", "0b8f9a70-9c4e-4a55-8a39-1c1d5b1b0c34", "eyJrIjoidiJ9.000000000000")
	f.Add("policies", "100", "", "")
	f.Add("", "", "", ".")
	f.Add("k", "\x00\xff", "\"}", "e30.0000")
	f.Fuzz(func(t *testing.T, kind, after, afterID, raw string) {
		refused := func(err error) {
			t.Helper()
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "continuationToken" {
				t.Fatalf("error %v (%T) is not a ValidationError on continuationToken", err, err)
			}
		}
		// Arbitrary input: no panic; accepted only with a valid checksum,
		// which re-encoding reproduces.
		if tok, err := decodePageToken(raw, kind); err != nil {
			refused(err)
		} else if tok.Kind != kind {
			t.Fatalf("decoded %q for listing %q as kind %q", raw, kind, tok.Kind)
		}
		if _, err := PoliciesContinuation(raw); err != nil {
			refused(err)
		}

		want := pageToken{Kind: kind, After: after, AfterID: afterID}
		enc := encodePageToken(want)
		got, err := decodePageToken(enc, kind)
		if err != nil {
			// Only a kind of invalid UTF-8 does not survive JSON: the token
			// is then refused rather than misread.
			if isUTF8(kind) {
				t.Fatalf("token %+v refused: %v", want, err)
			}
			refused(err)
			return
		}
		// JSON replaces invalid UTF-8 in keys; valid keys round-trip.
		if isUTF8(after) && isUTF8(afterID) && (got.After != after || got.AfterID != afterID) {
			t.Fatalf("round trip of %+v gave %+v", want, got)
		}
		if _, err := decodePageToken(enc, kind+"x"); err == nil {
			t.Fatalf("token of %q accepted for listing %q", kind, kind+"x")
		}
		// Any single altered byte is refused (or decodes to the same token).
		for i := 0; i < len(enc); i++ {
			alt := []byte(enc)
			alt[i] ^= 0x01
			if tok, err := decodePageToken(string(alt), kind); err == nil && tok != got {
				t.Fatalf("altered token %q decoded to %+v", alt, tok)
			}
		}
	})
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
