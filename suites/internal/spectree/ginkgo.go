package spectree

import (
	"context"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// Ginkgo registers root in the Ginkgo suite's tree, where Describe may be
// called, and returns true (for var _ = …). notes are added to the report
// of the first spec the first parallel process runs.
func Ginkgo(root Node, notes ...string) bool {
	var once sync.Once
	ginkgo.Describe(root.text, root.at, ginkgo.Label(root.labels...), func() {
		if len(notes) > 0 {
			ginkgo.BeforeEach(func() {
				once.Do(func() {
					if ginkgo.GinkgoParallelProcess() != 1 {
						return
					}
					for _, n := range notes {
						ginkgo.AddReportEntry(n, ginkgo.ReportEntryVisibilityAlways)
					}
				})
			})
		}
		for _, c := range root.children {
			register(c)
		}
	})
	return true
}

func register(n Node) {
	if n.body == nil {
		ginkgo.Describe(n.text, n.at, ginkgo.Label(n.labels...), func() {
			for _, c := range n.children {
				register(c)
			}
		})
		return
	}
	args := []any{n.at, ginkgo.Label(n.labels...), ginkgo.SpecTimeout(n.timeout), func(ctx ginkgo.SpecContext) {
		n.body(ctx, ginkgoT{Gomega: gomega.NewGomega(ginkgo.Fail)})
	}}
	if n.serial {
		args = append(args, ginkgo.Serial)
	}
	ginkgo.It(n.text, args...)
}

// ginkgoT is T inside a Ginkgo spec.
type ginkgoT struct{ gomega.Gomega }

func (ginkgoT) Cleanup(fn func(ctx context.Context), timeout time.Duration) {
	ginkgo.DeferCleanup(func(ctx ginkgo.SpecContext) { fn(ctx) }, ginkgo.NodeTimeout(timeout))
}

func (ginkgoT) Fail(message string) { ginkgo.Fail(message, 1) }

func (ginkgoT) Recover() {
	if r := recover(); r != nil {
		defer ginkgo.GinkgoRecover()
		panic(r)
	}
}

func (ginkgoT) Seed() int64 { return ginkgo.GinkgoRandomSeed() }
