package texts

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/grid"
)

// likeMatch evaluates a LIKE pattern with ESCAPE '\' on lower-cased
// operands, as the dictionary queries do.
func likeMatch(value, pattern string) bool {
	re, ok := likeRegexps[pattern]
	if !ok {
		re = likeRegexp(pattern)
		likeRegexps[pattern] = re
	}
	return re.MatchString(strings.ToLower(value))
}

var likeRegexps = map[string]*regexp.Regexp{}

func likeRegexp(pattern string) *regexp.Regexp {
	var re strings.Builder
	re.WriteString("(?s)^")
	rs := []rune(strings.ToLower(pattern))
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			i++
			re.WriteString(regexp.QuoteMeta(string(rs[i])))
		case '%':
			re.WriteString(".*")
		case '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(rs[i])))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String())
}

// TestURNMatch checks that the rewrite of a text match on a URN into
// matches on its prefix and rest selects exactly the URNs the match on the
// whole string does, for URNs and needles made of the pieces that matter
// (the scheme, ":" and "::", LIKE wildcards, mixed case).
func TestURNMatch(t *testing.T) {
	pieces := []string{"urn:pulumi:", "a", "B", ":", "::", "%", "_", "\\"}
	rng := rand.New(rand.NewPCG(5, 17))
	gen := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	urns := []string{
		"urn:pulumi:prod::payments::aws:s3/bucket:Bucket::logs",
		"urn:pulumi:prod::payments::pulumi:pulumi:Stack::payments-prod",
		"urn:pulumi:a::b::c::d::e", "urn:pulumi:::::", "urn:pulumi:a:::b::c", "not-a-urn::x::y", "",
	}
	needles := []string{"", ":", "::", ":::", "prod::pay", "payments::aws", "::aws:s3", "bucket", "s::aws", "::logs", "URN:PULUMI:PROD::", "b::c::d"}
	for range 200 {
		urns = append(urns, "urn:pulumi:"+gen(rng.IntN(6)), gen(rng.IntN(6)))
		needles = append(needles, gen(rng.IntN(4)))
	}
	ops := map[grid.Op]func(urn, needle string) bool{
		grid.OpContains:    strings.Contains,
		grid.OpNotContains: func(u, n string) bool { return !strings.Contains(u, n) },
		grid.OpStartsWith:  strings.HasPrefix,
		grid.OpEndsWith:    strings.HasSuffix,
		grid.OpEquals:      func(u, n string) bool { return u == n },
		grid.OpNotEqual:    func(u, n string) bool { return u != n },
	}
	checked := 0
	for _, urn := range urns {
		prefix, rest := splitURN(urn)
		if prefix+rest != urn || (prefix != "" && !strings.HasSuffix(prefix, "::")) {
			t.Fatalf("splitURN(%q) = %q, %q", urn, prefix, rest)
		}
		for _, needle := range needles {
			for op, whole := range ops {
				want := whole(strings.ToLower(urn), strings.ToLower(needle))
				got := false
				for _, alt := range urnMatch(op, needle) {
					all := true
					for _, p := range alt {
						v := prefix
						if p.Field == URNSuffix {
							v = rest
						}
						all = all && likeMatch(v, p.Pattern)
					}
					got = got || all
				}
				if op == grid.OpNotContains || op == grid.OpNotEqual {
					got = !got
				}
				if got != want {
					t.Fatalf("%s %q on %q (prefix %q, rest %q): got %v, want %v; alternatives %q",
						op, needle, urn, prefix, rest, got, want, urnMatch(op, needle))
				}
				checked++
			}
		}
	}
	t.Logf("%d matches checked", checked)
}

// TestTextCache checks the cache answers what was added, per
// organisation, and starts over instead of growing past its bound.
func TestTextCache(t *testing.T) {
	var c cache
	logs := Key{ResourceName, "logs"}
	c.add(1, map[Key]int64{logs: 7})
	got := map[Key]int64{logs: 0}
	c.lookup(1, got)
	if got[logs] != 7 {
		t.Errorf("organisation 1: id %d, want 7", got[logs])
	}
	got[logs] = 0
	c.lookup(2, got)
	if got[logs] != 0 {
		t.Errorf("organisation 2 sees organisation 1's id %d", got[logs])
	}
	many := map[Key]int64{}
	for i := range cacheSize {
		many[Key{Message, strconv.Itoa(i)}] = int64(i + 1)
	}
	c.add(1, many)
	if len(c.ids) > cacheSize {
		t.Errorf("cache holds %d ids, bound %d", len(c.ids), cacheSize)
	}
}
