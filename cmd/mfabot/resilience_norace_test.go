//go:build !race

package main

// raceEnabled says the tests run with -race; see resilience_race_test.go.
const raceEnabled = false
