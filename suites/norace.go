//go:build !race

package suites

// raceEnabled reports whether the suite was built with -race.
const raceEnabled = false

// races returns 0: without -race no data race is ever reported.
func races() int { return 0 }
