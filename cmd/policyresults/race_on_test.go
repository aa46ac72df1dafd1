//go:build race

package main

// raceEnabled tells whether the test binary was built with -race, so that
// the binary the tests build shares its cached, instrumented packages.
const raceEnabled = true
