package attach_test

import (
	"context"
	"net"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/experiment"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// attachN attaches a fleet of n of the pool's servers for the current spec.
func attachN(ctx context.Context, n int, opts ...fleet.Option) *fleet.Fleet {
	GinkgoHelper()
	f, err := start(ctx, append([]fleet.Option{fleet.WithServers(n), fleet.WithSeed(uint64(GinkgoRandomSeed()))}, opts...)...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { Expect(f.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	return f
}

// whole waits until every server of the pool answers as itself on its
// control port (one an earlier spec killed is back, on new ports), and
// returns their control addresses as an experiment's attach list: a list
// taken while one is on its way back names its dead process, and the
// experiment's fleet would wait for it to its timeout.
func whole(ctx context.Context) string {
	GinkgoHelper()
	f, err := start(ctx, fleet.WithServers(poolSize))
	Expect(err).NotTo(HaveOccurred())
	Expect(f.Stop(ctx)).To(Succeed())
	return strings.Join(pool.Controls(), ",")
}

// fanOut sends Service.Method to every address with a fresh caller.
func fanOut(ctx context.Context, addrs []string, opts ...caller.Option) ([]caller.Result[fleet.Reply], error) {
	c := caller.New(opts...)
	defer c.Close()
	return caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", fleet.Args{Name: "Alice"})
}

var _ = Describe("Attached lifecycle", Label("attach"), func() {
	It("kills a server's process, which its restart policy brings back on new ports, where Restart finds it", func(ctx SpecContext) {
		f := attachN(ctx, 3)
		before := pool.Restarts(1)
		stale := f.Addrs()[1]
		Expect(f.Kill(ctx, 1)).To(Succeed())
		_, err := net.DialTimeout("tcp", stale, time.Second)
		Expect(err).To(MatchError(syscall.ECONNREFUSED), "the killed process's port")
		Expect(f.Restart(ctx, 1)).To(Succeed())
		Expect(pool.Restarts(1)).To(Equal(before+1), "the supervisor restarted the process, as a restart policy does after exit code 3")
		Expect(f.Addrs()[1]).NotTo(Equal(stale), "Addrs reports the new process's port")
		results, err := fanOut(ctx, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[1].Reply.Message).To(HavePrefix("Hello, Alice! (server 1 at "))
		Expect(f.ServerCalls(ctx, 1)).To(HaveLen(1))
	}, SpecTimeout(time.Minute))

	It("pauses and disconnects a server inside its process, its control port still answering", func(ctx SpecContext) {
		f := attachN(ctx, 3)
		Expect(f.Pause(ctx, 0)).To(Succeed())
		results, _ := fanOut(ctx, f.Addrs(), caller.WithTimeout(300*time.Millisecond))
		Expect(results[0].Err).To(MatchError(context.DeadlineExceeded), "a paused server answers nothing")
		Expect(results[1].Err).NotTo(HaveOccurred())
		Expect(f.Unpause(ctx, 0)).To(Succeed())
		Expect(f.Disconnect(ctx, 2)).To(Succeed())
		results, _ = fanOut(ctx, f.Addrs())
		Expect(results[0].Err).NotTo(HaveOccurred(), "unpaused")
		Expect(results[2].Err).To(MatchError(syscall.ECONNREFUSED), "disconnected")
		Expect(f.Reconnect(ctx, 2)).To(Succeed())
		_, err := fanOut(ctx, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Experiments on an attached fleet", Label("attach"), func() {
	It("runs the tail-at-scale scenario with the same report: hedging cuts the tail", func(ctx SpecContext) {
		sc, err := experiment.Load("../../scenarios/tail-at-scale.yaml")
		Expect(err).NotTo(HaveOccurred())
		sc.Servers, sc.Rounds, sc.Attach = poolSize, 100, whole(ctx)
		// Fifty processes on a busy two-core machine answer a fan-out in
		// tens of milliseconds, not one: a slower tail (300ms on 1% of
		// calls) and a slow mark of 250ms keep the arithmetic of the
		// scenario, 1 - 0.99^50 of wait-all's fan-outs slow.
		sc.Faults.Plan = faults.MustParse("delay=300ms,p=0.01;delay=1ms")
		sc.Slow = 250 * time.Millisecond
		rep, err := experiment.Run(ctx, sc, nil, experiment.WithFleet(fleet.WithControlToken(token), fleet.WithFleetID(fleetID)))
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Interrupted).To(BeFalse())
		Expect(rep.Results).To(HaveLen(2))
		rep.Write(GinkgoWriter, "table")
		all, hedged := rep.Results[0], rep.Results[1]
		Expect(all.Succeeded).To(Equal(100))
		Expect(hedged.Succeeded).To(Equal(100))
		// 1 - 0.99^50: about 40% of wait-all's fan-outs are slow.
		Expect(all.SlowRate()).To(BeNumerically(">", 0.2), "wait-all pays the tail")
		Expect(hedged.SlowRate()).To(BeNumerically("<", all.SlowRate()/2), "hedging cuts it")
	}, SpecTimeout(2*time.Minute))
})
