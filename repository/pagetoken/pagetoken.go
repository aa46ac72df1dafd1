// Package pagetoken encodes and decodes the continuation tokens of the
// repository's paged listings: opaque to clients, bound to the listing that
// issued them, and refused when edited.
package pagetoken

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/policyresults/policyresults/repository/store"
)

// Token is the content of a continuation token.
type Token struct {
	// Kind binds a token to the listing that issued it.
	Kind string `json:"k"`
	// After is the last key of the previous page.
	After string `json:"a"`
	// AfterID breaks ties on After where keys may repeat.
	AfterID string `json:"i,omitempty"`
}

// salt makes checksums of tokens specific to policyresults, so a token
// edited by hand is refused rather than misread.
const salt = "policyresults/continuation/v1"

// Encode renders t as a continuation token.
func Encode(t Token) string {
	b, _ := json.Marshal(t)
	sum := sha256.Sum256(append(append([]byte(salt), 0), b...))
	return base64.RawURLEncoding.EncodeToString(b) + "." + hex.EncodeToString(sum[:6])
}

// Decode reads a token Encode issued for the listing kind; any other string
// is a *store.ValidationError on continuationToken.
func Decode(s, kind string) (Token, error) {
	payload, check, ok := strings.Cut(s, ".")
	if !ok {
		return Token{}, Refused()
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Token{}, Refused()
	}
	sum := sha256.Sum256(append(append([]byte(salt), 0), b...))
	if hex.EncodeToString(sum[:6]) != check {
		return Token{}, Refused()
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil || t.Kind != kind {
		return Token{}, Refused()
	}
	return t, nil
}

// Refused is the error of a token this server did not issue for the
// listing.
func Refused() error {
	return store.Invalid("continuationToken", "the continuation token is not one this server issued for this listing; start again without it")
}
