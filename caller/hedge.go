package caller

import (
	"math"
	"slices"
	"sync"
	"time"
)

// group is an address's place in one of WithGroups' groups.
type group struct {
	members []string
	pos     int
}

// indexGroups maps every address of groups to its group; an address in
// several groups belongs to the first.
func indexGroups(groups [][]string) map[string]group {
	if len(groups) == 0 {
		return nil
	}
	m := make(map[string]group)
	for _, g := range groups {
		for pos, addr := range g {
			if _, ok := m[addr]; !ok {
				m[addr] = group{members: g, pos: pos}
			}
		}
	}
	return m
}

// hedgeTargets returns up to n addresses that may stand in for addrs[i],
// in the order hedges go to them: the next members of its group after it,
// wrapping around, never addrs[i] itself.
func (c *Caller) hedgeTargets(addrs []string, i, n int) []string {
	members, pos := addrs, i
	if c.groups != nil {
		g, ok := c.groups[addrs[i]]
		if !ok {
			return nil
		}
		members, pos = g.members, g.pos
	}
	var out []string
	for k := 1; k < len(members) && len(out) < n; k++ {
		if t := members[(pos+k)%len(members)]; t != addrs[i] && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Sizes of the latency window of WithHedgeQuantile.
const (
	windowSize = 1024 // samples kept
	windowMin  = 64   // samples needed before hedging
	windowStep = 32   // new samples before the quantile is computed again
)

// window keeps the latencies of the last calls, for a quantile. A ring
// of the last samples is exact, small (8 KiB) and adapts as soon as the
// servers' latency changes, which a cumulative histogram does not; sorting
// a copy costs microseconds and happens at most once per windowStep
// samples. It is safe for concurrent use.
type window struct {
	mu      sync.Mutex
	samples []time.Duration // a ring, full once len == cap
	next    int
	fresh   int // samples since the last computation
	q       float64
	cached  time.Duration
	sorted  []time.Duration
}

func newWindow(size int) *window {
	return &window{samples: make([]time.Duration, 0, size)}
}

// record adds one latency.
func (w *window) record(d time.Duration) {
	w.mu.Lock()
	if len(w.samples) < cap(w.samples) {
		w.samples = append(w.samples, d)
	} else {
		w.samples[w.next] = d
		w.next = (w.next + 1) % len(w.samples)
	}
	w.fresh++
	w.mu.Unlock()
}

// quantile returns the q-quantile (nearest rank) of the window, and false
// while it holds fewer than windowMin samples.
func (w *window) quantile(q float64) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.samples)
	if n < windowMin {
		return 0, false
	}
	if w.q == q && w.cached > 0 && w.fresh < windowStep {
		return w.cached, true
	}
	w.sorted = append(w.sorted[:0], w.samples...)
	slices.Sort(w.sorted)
	rank := int(math.Ceil(q*float64(n))) - 1
	rank = min(max(rank, 0), n-1)
	w.q, w.cached, w.fresh = q, max(w.sorted[rank], 1), 0
	return w.cached, true
}
