package pagetoken

import (
	"errors"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/repository/store"
)

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
			var ve *store.ValidationError
			if !errors.As(err, &ve) || ve.Field != "continuationToken" {
				t.Fatalf("error %v (%T) is not a ValidationError on continuationToken", err, err)
			}
		}
		// Arbitrary input: no panic; accepted only with a valid checksum,
		// which re-encoding reproduces.
		if tok, err := Decode(raw, kind); err != nil {
			refused(err)
		} else if tok.Kind != kind {
			t.Fatalf("decoded %q for listing %q as kind %q", raw, kind, tok.Kind)
		}

		want := Token{Kind: kind, After: after, AfterID: afterID}
		enc := Encode(want)
		got, err := Decode(enc, kind)
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
		if _, err := Decode(enc, kind+"x"); err == nil {
			t.Fatalf("token of %q accepted for listing %q", kind, kind+"x")
		}
		// Any single altered byte is refused (or decodes to the same token).
		for i := 0; i < len(enc); i++ {
			alt := []byte(enc)
			alt[i] ^= 0x01
			if tok, err := Decode(string(alt), kind); err == nil && tok != got {
				t.Fatalf("altered token %q decoded to %+v", alt, tok)
			}
		}
	})
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
