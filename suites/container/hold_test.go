package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// Hold and release on every backend: the test says which server replies
// first, and the journal and the caller see exactly that order.
var _ = Describe("Hold and release", Label("container"), func() {
	DescribeTable("sends held replies in the order the test releases them: server 2, then 0, then the rest",
		func(ctx SpecContext, start starter) {
			f := start(ctx, 4, fleet.WithFaults(faults.MustParse("hold")))
			c := newCaller(caller.WithTimeout(time.Minute))
			type outcome struct {
				results []caller.Result[fleet.Reply]
				err     error
			}
			done := make(chan outcome, 1)
			go func() {
				r, err := fanOut(ctx, c, f.Addrs())
				done <- outcome{r, err}
			}()
			Eventually(func() ([]fleet.Call, error) { return f.Calls(ctx) }).WithContext(ctx).WithTimeout(30*time.Second).Should(
				SatisfyAll(HaveLen(4), HaveEach(HaveField("Outcome", fleet.Held))), "every call held")
			Consistently(done).WithTimeout(100*time.Millisecond).ShouldNot(Receive(), "nothing replies before a release")

			Expect(f.Release(ctx, 2)).To(Succeed())
			Expect(f.Release(ctx, 0)).To(Succeed())
			Expect(f.ReleaseAll(ctx)).To(Succeed())
			var o outcome
			Eventually(done).WithContext(ctx).WithTimeout(30 * time.Second).Should(Receive(&o))
			Expect(o.err).NotTo(HaveOccurred())
			for i, r := range o.results {
				Expect(r.Reply.Message).To(fromServer(i))
			}
			calls, err := f.Calls(ctx)
			Expect(err).NotTo(HaveOccurred())
			order := map[int]uint64{}
			for _, call := range calls {
				Expect(call.Outcome).To(Equal(fleet.OK))
				order[call.Server] = call.RepliedAt
			}
			Expect(order[2]).To(BeNumerically("<", order[0]), "server 2 replied first")
			Expect(order[0]).To(BeNumerically("<", order[1]), "then server 0")
			Expect(order[1]).To(BeNumerically("<", order[3]), "then the rest, in index order")
		},
		Entry("in process", on(fleet.InProcess()), SpecTimeout(time.Minute)),
		Entry("on containers", on(containers()), SpecTimeout(2*time.Minute)),
	)

	DescribeTable("loses a held reply when its server is killed, and releases nothing then",
		func(ctx SpecContext, start starter) {
			f := start(ctx, 1, fleet.WithFaults(faults.MustParse("hold")))
			c := newCaller(caller.WithTimeout(time.Minute))
			done := make(chan error, 1)
			go func() {
				_, err := fanOut(ctx, c, f.Addrs())
				done <- err
			}()
			Eventually(func() ([]fleet.Call, error) { return f.ServerCalls(ctx, 0) }).WithContext(ctx).WithTimeout(30 * time.Second).Should(
				ConsistOf(HaveField("Outcome", fleet.Held)))
			Expect(f.Kill(ctx, 0)).To(Succeed())
			Eventually(done).WithContext(ctx).WithTimeout(30 * time.Second).Should(Receive(HaveOccurred()))
			Expect(f.Release(ctx, 0)).To(Succeed(), "a server that is down holds nothing")
		},
		Entry("in process", on(fleet.InProcess()), SpecTimeout(time.Minute)),
		Entry("on containers", on(containers()), SpecTimeout(2*time.Minute)),
	)
})
