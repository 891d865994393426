package inject

import (
	"testing"

	"github.com/rpcfleet/rpcfleet/faults"
)

func TestSelects(t *testing.T) {
	const size = 50
	count := func(s faults.Servers, seed uint64) (n int, picked map[int]bool) {
		picked = map[int]bool{}
		for i := range size {
			if selects(s, seed, i, size) {
				n++
				picked[i] = true
			}
		}
		return n, picked
	}
	if n, _ := count(faults.Servers{}, 1); n != size {
		t.Errorf("the zero Servers selects %d of %d servers, want all", n, size)
	}
	spans := faults.Servers{Spans: []faults.Span{{Lo: 0, Hi: 0}, {Lo: 7, Hi: 9}}}
	if n, p := count(spans, 1); n != 4 || !p[0] || !p[7] || !p[9] {
		t.Errorf("servers=0,7-9 selects %v", p)
	}
	n10, p10 := count(faults.Servers{Percent: 10}, 3)
	n20, p20 := count(faults.Servers{Percent: 20}, 3)
	if n10 != 5 || n20 != 10 {
		t.Errorf("10%% and 20%% of %d select %d and %d, want 5 and 10", size, n10, n20)
	}
	for i := range p10 {
		if !p20[i] {
			t.Errorf("server %d is in 10%% but not in 20%% with the same seed", i)
		}
	}
	if _, other := count(faults.Servers{Percent: 10}, 4); len(other) == len(p10) && func() bool {
		for i := range other {
			if !p10[i] {
				return false
			}
		}
		return true
	}() {
		t.Error("another seed picked the same 10%")
	}
}
