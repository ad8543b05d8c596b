//go:build race

package main

// raceEnabled says the tests run with -race; the resilience tests then
// build the binary with -race too, sharing the build cache of the test.
const raceEnabled = true
