package matchers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/gomega/gleak"
	"github.com/onsi/gomega/types"
)

// HaveLeaked is gleak.HaveLeaked (same arguments: a baseline of
// goroutines and filters to ignore) with a failure message that a person
// can read when a fan-out of 1,000 leaks 1,000 goroutines alike: one row
// per kind of leaked goroutine (the function it runs, where it is stuck,
// its state) with its count, then one backtrace per kind (at most five),
// instead of every goroutine's stack. Like gleak's, the matcher is safe
// for use by one spec at a time.
// Use it as gleak's: Eventually(gleak.Goroutines).ShouldNot(HaveLeaked(baseline)).
func HaveLeaked(ignoring ...any) types.GomegaMatcher {
	return &leakMatcher{ignoring: ignoring, m: gleak.HaveLeaked(ignoring...)}
}

type leakMatcher struct {
	ignoring []any
	m        types.GomegaMatcher
}

func (l *leakMatcher) Match(actual any) (bool, error) { return l.m.Match(actual) }

func (l *leakMatcher) FailureMessage(actual any) string {
	return "Expected leaked goroutines, found none"
}

func (l *leakMatcher) NegatedFailureMessage(actual any) string {
	gs, ok := actual.([]gleak.Goroutine)
	if !ok {
		return l.m.NegatedFailureMessage(actual)
	}
	// The goroutines gleak counts as leaked, one by one.
	var leaked []gleak.Goroutine
	for _, g := range gs {
		if one, err := gleak.HaveLeaked(l.ignoring...).Match([]gleak.Goroutine{g}); err == nil && one {
			leaked = append(leaked, g)
		}
	}
	return leakReport(leaked)
}

// leakKind groups leaked goroutines that run the same function and are
// stuck alike.
type leakKind struct {
	entry, top, state string
	n                 int
	example           gleak.Goroutine
}

// leakReport summarises leaked goroutines by kind, most numerous first.
func leakReport(leaked []gleak.Goroutine) string {
	var kinds []*leakKind
	for _, g := range leaked {
		e := entry(g)
		i := slices.IndexFunc(kinds, func(k *leakKind) bool {
			return k.entry == e && k.top == g.TopFunction && k.state == g.State
		})
		if i < 0 {
			kinds = append(kinds, &leakKind{entry: e, top: g.TopFunction, state: g.State, example: g})
			i = len(kinds) - 1
		}
		kinds[i].n++
	}
	slices.SortStableFunc(kinds, func(a, b *leakKind) int { return cmp.Compare(b.n, a.n) })

	t := &table{header: []string{"count", "goroutine", "stuck in", "state"}}
	for _, k := range kinds {
		t.add(false, fmt.Sprint(k.n), k.entry, k.top, k.state)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d goroutines leaked, of %d kinds:\n%s", len(leaked), len(kinds), t)
	if h := leakHint(kinds); h != "" {
		fmt.Fprintf(&b, "\nLikely cause: %s\n", h)
	}
	for i, k := range kinds {
		if i == 5 {
			fmt.Fprintf(&b, "\n(%d more kinds)\n", len(kinds)-i)
			break
		}
		fmt.Fprintf(&b, "\none of the %d running %s: goroutine %d [%s]\n%s", k.n, k.entry, k.example.ID, k.state, indent(k.example.Backtrace))
	}
	return b.String()
}

// entry is the function a goroutine was started to run: the outermost
// frame of its backtrace that is not a wrapper of the runtime or of
// sync.WaitGroup.Go, errgroup and the like. A goroutine that has not run
// yet has only the wrapper, which is then what entry returns.
func entry(g gleak.Goroutine) string {
	var frames []string
	for _, l := range strings.Split(g.Backtrace, "\n") {
		if l == "" || strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "created by ") {
			continue
		}
		if i := strings.LastIndex(l, "("); i > 0 && strings.HasSuffix(l, ")") {
			l = l[:i]
		}
		frames = append(frames, l)
	}
	for _, f := range slices.Backward(frames) {
		if !strings.HasPrefix(f, "runtime.") && !strings.HasPrefix(f, "sync.") && !strings.HasPrefix(f, "golang.org/x/sync/") {
			return f
		}
	}
	if len(frames) > 0 {
		return frames[len(frames)-1]
	}
	return orNone(g.TopFunction)
}

// leakHint names the likely cause of leaks, from where the goroutines
// are stuck: the most numerous kind first.
func leakHint(kinds []*leakKind) string {
	for _, k := range kinds {
		// States carry suffixes: ", 3 minutes", " (durable)", a bubble's.
		state, _, _ := strings.Cut(k.state, ",")
		state, _, _ = strings.Cut(state, " (")
		switch state {
		case "chan send":
			return "goroutines blocked for ever sending on a channel that no one reads any more: the fan-out returned " +
				"(early, at a quorum, a first result, an error or a cancel) without receiving every result. Give the channel " +
				"room for every send (make(chan T, len(addrs))), or select the send against a ctx that is cancelled on return " +
				"(the First of the 2012 Go concurrency talk; the Go blog's \"Pipelines and cancellation\")."
		case "chan receive", "select":
			return "goroutines still waiting (for a reply, a result or a signal) after the fan-out stopped needing them: " +
				"cancel the calls it lets go when it returns (ctx, cancel := context.WithCancel(ctx); defer cancel(), and select " +
				"on ctx.Done() beside every call), and make sure every wait has an end."
		case "semacquire", "sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait", "sync.Cond.Wait":
			return "goroutines blocked on a lock, a WaitGroup or a semaphore that nothing will release: a missed Unlock, Done or release on some path."
		case "sleep":
			return "goroutines asleep in a backoff or a poll loop that does not watch ctx: select on ctx.Done() beside the timer."
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n") + "\n"
}
