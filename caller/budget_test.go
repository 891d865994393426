package caller

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	tests := []struct {
		n         int
		base, cap time.Duration
		want      time.Duration // the exclusive upper bound
	}{
		{1, 10 * time.Millisecond, time.Second, 10 * time.Millisecond},
		{2, 10 * time.Millisecond, time.Second, 20 * time.Millisecond},
		{4, 10 * time.Millisecond, time.Second, 80 * time.Millisecond},
		{8, 10 * time.Millisecond, time.Second, time.Second},
		{200, 10 * time.Millisecond, time.Second, time.Second},
		{200, time.Millisecond, 0, time.Duration(1 << 62)}, // no cap: no overflow either
		{3, 0, time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d,base=%v,cap=%v", tt.n, tt.base, tt.cap), func(t *testing.T) {
			if got := backoffCeil(tt.n, tt.base, tt.cap); got != tt.want && !(tt.cap == 0 && got >= tt.want/2 && got > 0) {
				t.Errorf("backoffCeil(%d, %v, %v) = %v, want %v", tt.n, tt.base, tt.cap, got, tt.want)
			}
			ceil := backoffCeil(tt.n, tt.base, tt.cap)
			var lo, hi time.Duration = math.MaxInt64, 0
			for range 2000 {
				d := backoff(tt.n, tt.base, tt.cap)
				if d < 0 || (ceil > 0 && d >= ceil) || (ceil == 0 && d != 0) {
					t.Fatalf("backoff(%d, %v, %v) = %v, want in [0, %v)", tt.n, tt.base, tt.cap, d, ceil)
				}
				lo, hi = min(lo, d), max(hi, d)
			}
			// Full jitter spreads over the whole range, not just near its top.
			if ceil > 0 && (lo > ceil/10 || hi < ceil*9/10) {
				t.Errorf("backoff(%d, %v, %v) spans [%v, %v], want most of [0, %v)", tt.n, tt.base, tt.cap, lo, hi, ceil)
			}
		})
	}
}

func TestBudgetOutage(t *testing.T) {
	// Every call fails and is retried while the budget allows; hedges,
	// which take a token each, are tried too.
	for _, maxTokens := range []float64{1, 2, 5, 10, 11, 100} {
		t.Run(fmt.Sprint(maxTokens), func(t *testing.T) {
			b := NewBudget(maxTokens, 0.1)
			extra := 0
			for k := range 1000 {
				b.failed()
				if b.allowRetry() {
					extra++
				}
				if k%3 == 0 && b.allowHedge() {
					extra++
				}
			}
			if limit := int(math.Ceil(maxTokens / 2)); extra > limit {
				t.Errorf("%d retries and hedges in an outage, want at most ⌈%v/2⌉ = %d", extra, maxTokens, limit)
			}
			if got := b.Tokens(); got < 0 || got > maxTokens/2 {
				t.Errorf("tokens after the outage = %v, want in [0, %v]", got, maxTokens/2)
			}
		})
	}
}

func TestBudgetArithmetic(t *testing.T) {
	b := NewBudget(10, 0.5)
	do := func(f func()) func() bool { return func() bool { f(); return true } }
	steps := []struct {
		name string
		do   func() bool
		ok   bool
		want float64
	}{
		{"failure", do(b.failed), true, 9},
		{"retry: checks, takes nothing", b.allowRetry, true, 9},
		{"hedge: takes one", b.allowHedge, true, 8},
		{"failure", do(b.failed), true, 7},
		{"failure", do(b.failed), true, 6},
		{"hedge", b.allowHedge, true, 5},
		{"retry at half: refused", b.allowRetry, false, 5},
		{"hedge at half: refused, nothing taken", b.allowHedge, false, 5},
		{"success", do(b.succeeded), true, 5.5},
		{"retry above half", b.allowRetry, true, 5.5},
		{"hedge above half", b.allowHedge, true, 4.5},
		{"successes: capped at maxTokens", do(func() {
			for range 100 {
				b.succeeded()
			}
		}), true, 10},
		{"failures: floored at 0", do(func() {
			for range 100 {
				b.failed()
			}
		}), true, 0},
		{"hedge at 0", b.allowHedge, false, 0},
	}
	for _, s := range steps {
		if ok := s.do(); ok != s.ok {
			t.Fatalf("%s: allowed = %v, want %v", s.name, ok, s.ok)
		}
		if got := b.Tokens(); got != s.want {
			t.Fatalf("%s: tokens = %v, want %v", s.name, got, s.want)
		}
	}
}

func TestBudgetNilAllows(t *testing.T) {
	var b *Budget
	b.failed()
	b.succeeded()
	if !b.allowRetry() || !b.allowHedge() {
		t.Error("a nil Budget refused a retry or a hedge")
	}
}

func TestNewBudgetPanics(t *testing.T) {
	for _, args := range [][2]float64{{0, 0.1}, {-1, 0.1}, {10, -0.1}, {math.NaN(), 0.1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewBudget(%v, %v) did not panic", args[0], args[1])
				}
			}()
			NewBudget(args[0], args[1])
		}()
	}
}

func TestWindowQuantile(t *testing.T) {
	w := newWindow(windowSize)
	if _, ok := w.quantile(0.5); ok {
		t.Fatal("an empty window has a quantile")
	}
	for i := 1; i <= 100; i++ {
		w.record(time.Duration(i) * time.Millisecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}}
	for _, tt := range tests {
		if got, ok := w.quantile(tt.q); !ok || got != tt.want {
			t.Errorf("quantile(%v) = %v, %v; want %v", tt.q, got, ok, tt.want)
		}
	}
	// The window forgets: after windowSize samples of 1ms, the quantile is 1ms.
	for range windowSize {
		w.record(time.Millisecond)
	}
	if got, _ := w.quantile(0.99); got != time.Millisecond {
		t.Errorf("quantile(0.99) after the old samples left = %v, want 1ms", got)
	}
}

func TestHedgeTargets(t *testing.T) {
	addrs := []string{"a", "b", "c", "d"}
	tests := []struct {
		name   string
		groups [][]string
		i, max int
		want   []string
	}{
		{"default group: the next ones, wrapping", nil, 2, 2, []string{"d", "a"}},
		{"default group: never itself", nil, 0, 10, []string{"b", "c", "d"}},
		{"own group", [][]string{{"a", "c"}, {"b", "d", "x"}}, 1, 2, []string{"d", "x"}},
		{"in no group", [][]string{{"a", "c"}}, 1, 2, nil},
		{"alone in its group", [][]string{{"d"}}, 3, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(WithGroups(tt.groups))
			defer c.Close()
			got := c.hedgeTargets(addrs, tt.i, tt.max)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("hedgeTargets(%d) = %v, want %v", tt.i, got, tt.want)
			}
		})
	}
}
