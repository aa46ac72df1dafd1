package specgen

import (
	"math/bits"

	"pgregory.net/rapid"
)

// Uniform draws an integer in [0, n) with every value equally likely.
// rapid's integer generators favour small values (rapid.IntRange(0, 99) is
// below 20 about half the time), which would skew every chance a test
// states as "one time in n"; rapid.Bool is even, so Uniform builds the
// number from its bits, drawing again when it lands at or beyond n. It
// shrinks towards 0.
func Uniform(t *rapid.T, label string, n int) int {
	if n <= 1 {
		return 0
	}
	width := bits.Len(uint(n - 1))
	for {
		v := 0
		for range width {
			v <<= 1
			if rapid.Bool().Draw(t, label) {
				v |= 1
			}
		}
		if v < n {
			return v
		}
	}
}

// OneIn is true one time in n, evenly (see Uniform); it shrinks towards
// true.
func OneIn(t *rapid.T, label string, n int) bool {
	return Uniform(t, label, n) == 0
}

// Percent is true p times in a hundred, evenly (see Uniform); it shrinks
// towards true.
func Percent(t *rapid.T, label string, p int) bool {
	return Uniform(t, label, 100) < p
}
