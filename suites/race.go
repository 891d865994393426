//go:build race

package suites

import "runtime"

// raceEnabled reports whether the suite was built with -race.
const raceEnabled = true

// races returns how many data races the race detector has reported in
// this process so far.
func races() int { return runtime.RaceErrors() }
