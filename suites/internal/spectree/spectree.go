// Package spectree holds a tree of specs written once and runs it under
// either test framework: registered with Ginkgo (Ginkgo) or run as nested
// subtests of a plain *testing.T (Run). A spec's body sees the framework
// only through T: Gomega assertions that fail the spec, cleanups with a
// timeout, Fail, Recover for the goroutines it starts, and the run's seed.
//
// Helpers that a spec calls mark themselves with ginkgo.GinkgoHelper, under
// either framework: failures are reported at the first line outside them.
package spectree

import (
	"context"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"
)

// T is what a spec's body uses of the framework that runs it. Its methods
// are safe for concurrent use by the goroutines of one spec.
type T interface {
	// Gomega's assertions fail the spec: the failing goroutine stops
	// there (it panics, and Recover or the framework catches it).
	gomega.Gomega
	// Cleanup registers fn to run when the spec ends, the last registered
	// first, with a ctx that ends after timeout. Call it from the spec's
	// own goroutine.
	Cleanup(fn func(ctx context.Context), timeout time.Duration)
	// Fail fails the spec with message and stops the calling goroutine
	// as an assertion does.
	Fail(message string)
	// Recover must be deferred first by every goroutine a spec starts that
	// may fail: it turns the failure's panic into the spec's failure.
	Recover()
	// Seed is the run's random seed.
	Seed() int64
}

// Node is a container of nodes or a spec. Build it with Describe and It.
type Node struct {
	text     string
	labels   []string
	children []Node
	body     func(ctx context.Context, t T)
	timeout  time.Duration
	serial   bool
	at       types.CodeLocation
}

// Describe returns a container of children; zero Nodes among them (a spec
// left out) are dropped, and a container left with none is the zero Node.
func Describe(text string, children ...Node) Node {
	n := Node{text: text, at: types.NewCodeLocation(1)}
	for _, c := range children {
		if c.text != "" {
			n.children = append(n.children, c)
		}
	}
	if len(n.children) == 0 {
		return Node{} // a container of left-out specs is left out too
	}
	return n
}

// Labelled returns n with labels, which Ginkgo filters by
// (--label-filter); plain subtests ignore them.
func (n Node) Labelled(labels ...string) Node {
	n.labels = append(n.labels, labels...)
	return n
}

// It returns a spec whose body runs under a ctx that ends after timeout.
// Its location is the first caller not marked with GinkgoHelper.
func It(text string, timeout time.Duration, body func(ctx context.Context, t T)) Node {
	return Node{text: text, body: body, timeout: timeout, at: types.NewCodeLocation(1)}
}

// Alone returns the spec n to run alone: Ginkgo runs it after the parallel
// specs, on one process (Serial); plain subtests run one at a time anyway.
func (n Node) Alone() Node {
	n.serial = true
	return n
}
