// Package failing is a plain test whose specs fail on purpose: the
// spectree package's test runs it with go test and reads its report.
package failing

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/suites/internal/spectree"
)

// check fails unless n is 1: a helper, so failures point at its caller.
func check(t spectree.T, n int) {
	ginkgo.GinkgoHelper()
	t.Expect(n).To(Equal(1), "n is one")
}

func TestTree(t *testing.T) {
	var cleaned []string
	var mu sync.Mutex
	tree := spectree.Describe("root",
		spectree.Describe("group",
			spectree.It("passes", time.Second, func(ctx context.Context, t spectree.T) {
				t.Cleanup(func(context.Context) { mu.Lock(); cleaned = append(cleaned, "passes"); mu.Unlock() }, time.Second)
				t.Expect(t.Seed()).To(Equal(int64(42)))
			}),
			spectree.It("fails in a helper", time.Second, func(ctx context.Context, t spectree.T) {
				t.Cleanup(func(context.Context) { mu.Lock(); cleaned = append(cleaned, "helper"); mu.Unlock() }, time.Second)
				check(t, 2) // FAILS HERE
				t.Fail("not reached")
			}),
			spectree.It("fails in a goroutine", time.Second, func(ctx context.Context, t spectree.T) {
				var wg sync.WaitGroup
				wg.Go(func() {
					defer t.Recover()
					t.Expect("goroutine").To(BeEmpty()) // GOROUTINE FAILS HERE
				})
				wg.Wait()
			}),
			spectree.It("times out", 50*time.Millisecond, func(ctx context.Context, t spectree.T) {
				<-ctx.Done()
				t.Fail("ran out of time: " + context.Cause(ctx).Error())
			}),
			spectree.It("panics", time.Second, func(ctx context.Context, t spectree.T) {
				panic("kaboom")
			}),
		),
		spectree.It("fails in a cleanup", time.Second, func(ctx context.Context, t spectree.T) {
			t.Cleanup(func(ctx context.Context) {
				_, ok := ctx.Deadline()
				t.Expect(ok).To(BeFalse(), "cleanup has a deadline") // CLEANUP FAILS HERE
			}, time.Second)
		}),
	)
	spectree.Run(t, tree, 42, nil, "a note")
	t.Cleanup(func() { t.Logf("cleaned: %v", cleaned) })
}
