package faults

import (
	"math/rand/v2"
	"time"
)

// Delay holds the reply back so that it leaves the server no sooner than
// D ± Jitter after the request arrived (uniformly drawn, never below zero).
//
// The client observes a slower but otherwise normal reply. Replies to other
// calls on the same connection are not held up: the delayed reply is
// written later, not slept on inside WriteResponse.
type Delay struct {
	D      time.Duration
	Jitter time.Duration
}

// Kind returns "delay".
func (Delay) Kind() string { return "delay" }

func (d Delay) String() string {
	s := "delay=" + d.D.String()
	if d.Jitter > 0 {
		s += ",jitter=" + d.Jitter.String()
	}
	return s
}

// draw picks this call's delay.
func (d Delay) draw(rng *rand.Rand) time.Duration {
	if d.Jitter <= 0 {
		return d.D
	}
	v := d.D - d.Jitter + time.Duration(rng.Int64N(int64(2*d.Jitter)+1))
	return max(v, 0)
}
