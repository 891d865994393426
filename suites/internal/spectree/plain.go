package spectree

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"
)

// Bubble runs f as a subtest of t in an environment of its own:
// synctest.Test, for virtual time.
type Bubble func(t *testing.T, f func(*testing.T))

// Run runs root's specs as nested subtests of t, one at a time, in the
// order they were written, each under its own timeout, and inside bubble
// if it is not nil; notes are logged first. Labels are ignored: select
// specs with go test -run.
func Run(t *testing.T, root Node, seed int64, bubble Bubble, notes ...string) {
	t.Helper()
	for _, n := range notes {
		t.Log(n)
	}
	for _, c := range root.children {
		run(t, c, seed, bubble)
	}
}

func run(t *testing.T, n Node, seed int64, bubble Bubble) {
	if n.body == nil {
		t.Run(n.text, func(t *testing.T) {
			for _, c := range n.children {
				run(t, c, seed, bubble)
			}
		})
		return
	}
	t.Run(n.text, func(t *testing.T) {
		if bubble != nil {
			bubble(t, func(t *testing.T) { runSpec(t, n, seed) })
			return
		}
		runSpec(t, n, seed)
	})
}

// runSpec runs the spec n as the test t.
func runSpec(t *testing.T, n Node, seed int64) {
	s := &plainT{t: t, seed: seed}
	s.Gomega = gomega.NewGomega(s.fail)
	ctx, cancel := context.WithTimeout(t.Context(), n.timeout)
	defer cancel()
	defer s.Recover()
	n.body(ctx, s)
}

// plainT is T inside a subtest.
type plainT struct {
	gomega.Gomega
	t    *testing.T
	seed int64
}

// failure is the panic that stops a goroutine whose assertion failed,
// after the failure is recorded.
type failure struct{}

// fail records a failure at the first line outside Gomega and the spec's
// helpers, then stops the calling goroutine.
func (s *plainT) fail(message string, callerSkip ...int) {
	skip := 0
	if len(callerSkip) > 0 {
		skip = callerSkip[0]
	}
	s.t.Errorf("%s\n%s", types.NewCodeLocation(skip+1), message)
	panic(failure{})
}

func (s *plainT) Cleanup(fn func(ctx context.Context), timeout time.Duration) {
	s.t.Cleanup(func() {
		// t.Context() has ended by now: cleanups get a ctx of their own.
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		defer s.Recover()
		fn(ctx)
	})
}

func (s *plainT) Fail(message string) { s.fail(message, 1) }

func (s *plainT) Recover() {
	r := recover()
	if r == nil {
		return
	}
	if _, ok := r.(failure); !ok {
		s.t.Errorf("panic: %v\n%s", r, debug.Stack())
	}
}

func (s *plainT) Seed() int64 { return s.seed }

// Seed returns a seed for a run: seed if it is set, else one from the
// clock, which the run should log.
func Seed(seed string) (int64, error) {
	if seed == "" {
		return time.Now().UnixNano() % 100000, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(seed), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("seed %q: not an integer", seed)
	}
	return n, nil
}
