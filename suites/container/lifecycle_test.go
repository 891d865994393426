package container_test

import (
	"context"
	"net"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// Specs only a fleet of separate processes can run: SIGKILL mid-call,
// frozen processes, stop and start on new ports, network partitions.
var _ = Describe("Container lifecycle", Label("container"), func() {
	start := on(containers())

	It("fails exactly the killed server's address, promptly, when it is killed mid-fan-out", func(ctx SpecContext) {
		f := start(ctx, 4)
		Expect(f.SetFaults(ctx, faults.MustParse("delay=300ms"))).To(Succeed())
		Expect(f.SetServerFaults(ctx, 2, faults.MustParse("delay=1m"))).To(Succeed())
		c := newCaller(caller.WithTimeout(2 * time.Minute))
		addrs := f.Addrs()

		type outcome struct {
			results []caller.Result[fleet.Reply]
			err     error
		}
		done := make(chan outcome, 1)
		go func() {
			r, err := fanOut(ctx, c, addrs)
			done <- outcome{r, err}
		}()
		Eventually(func() ([]fleet.Call, error) { return f.ServerCalls(ctx, 2) }).WithContext(ctx).Should(HaveLen(1))
		killed := time.Now()
		Expect(f.Kill(ctx, 2)).To(Succeed())

		var o outcome
		// Promptly: long before server 2's minute of delay (or the caller's
		// two minutes) would have ended it; the bound leaves room for a
		// loaded machine.
		Eventually(done).WithContext(ctx).WithTimeout(30 * time.Second).Should(Receive(&o))
		Expect(time.Since(killed)).To(BeNumerically("<", 20*time.Second), "the fan-out returned promptly after the kill")
		var fe *caller.FanOutError
		Expect(o.err).To(BeAssignableToTypeOf(fe))
		Expect(o.err.(*caller.FanOutError).Addrs()).To(Equal([]string{addrs[2]}))
		Expect(o.results[2].Err).NotTo(BeAssignableToTypeOf(&caller.TimeoutError{}))
		for _, i := range []int{0, 1, 3} {
			Expect(o.results[i].Reply.Message).To(fromServer(i))
		}
	}, SpecTimeout(2*time.Minute))

	DescribeTable("serves again at a new address after a restart; the stale address is refused",
		func(ctx SpecContext, b driver.Backend) {
			f := on(b)(ctx, 3)
			c := newCaller()
			stale := f.Addrs()[1]
			Expect(f.Kill(ctx, 1)).To(Succeed())
			held := f.Addrs()[1]
			_, err := net.DialTimeout("tcp", held, time.Second)
			Expect(err).To(MatchError(syscall.ECONNREFUSED), "the address of a down server is refused")
			_, err = net.Listen("tcp", held)
			Expect(err).To(MatchError(syscall.EADDRINUSE), "and held, so Docker cannot give it to another container")
			Expect(f.Restart(ctx, 1)).To(Succeed())

			Expect(f.Addrs()[1]).NotTo(Equal(stale), "Addrs reports the new mapped port")
			results, err := fanOut(ctx, c, f.Addrs())
			Expect(err).NotTo(HaveOccurred())
			for i, r := range results {
				Expect(r.Reply.Message).To(fromServer(i))
			}
			_, err = net.DialTimeout("tcp", stale, time.Second)
			Expect(err).To(MatchError(syscall.ECONNREFUSED), "the stale address reaches no server")
		},
		Entry("killed (SIGKILL)", containers(), SpecTimeout(time.Minute)),
		Entry("stopped (SIGTERM)", gracefulPool, SpecTimeout(time.Minute)),
	)

	It("does not stop a running server whose control port does not answer", func(ctx SpecContext) {
		f := start(ctx, 2)
		c := newCaller()
		_, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Disconnect(ctx, 1)).To(Succeed())

		t0 := time.Now()
		Expect(f.Restart(ctx, 1)).To(MatchError(ContainSubstring("left as it is")))
		Expect(time.Since(t0)).To(BeNumerically("<", 15*time.Second), "no 30s health check waited out")

		Expect(f.Reconnect(ctx, 1)).To(Succeed())
		calls, err := f.ServerCalls(ctx, 1)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(HaveLen(1), "the same process: its journal was never read as a past life")
		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[1].Reply.Message).To(fromServer(1))
	}, SpecTimeout(time.Minute))

	It("serialises lifecycle calls on one server: concurrent kills keep its journal once", func(ctx SpecContext) {
		f := start(ctx, 1)
		c := newCaller()
		for range 3 {
			_, err := fanOut(ctx, c, f.Addrs())
			Expect(err).NotTo(HaveOccurred())
		}
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = f.Kill(ctx, 0) })
		}
		wg.Wait()
		for _, err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(f.ServerCalls(ctx, 0)).To(HaveLen(3), "each call once, read by one Kill")
		Expect(f.Restart(ctx, 0)).To(Succeed())
		Expect(f.ServerCalls(ctx, 0)).To(HaveLen(3))
	}, SpecTimeout(time.Minute))

	It("counts a server down only once the kill succeeded", func(ctx SpecContext) {
		f := start(ctx, 1)
		c := newCaller()
		_, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		ended, cancel := context.WithCancel(ctx)
		cancel()
		Expect(f.Kill(ended, 0)).To(MatchError(context.Canceled))

		Expect(f.ServerCalls(ctx, 0)).To(HaveLen(1), "the journal of the process that still runs")
		Expect(f.Restart(ctx, 0)).To(MatchError(ContainSubstring("already up")))
		_, err = fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
	}, SpecTimeout(time.Minute))

	It("keeps faults set while a server is down, and applies them when it restarts, as in process", func(ctx SpecContext) {
		f := on(gracefulPool)(ctx, 2)
		c := newCaller()
		Expect(f.Kill(ctx, 1)).To(Succeed())
		Expect(f.SetServerFaults(ctx, 1, faults.MustParse("error=boom"))).To(Succeed(), "nothing is dialled")
		Expect(f.ServerCalls(ctx, 1)).To(BeEmpty())
		Expect(f.Restart(ctx, 1)).To(Succeed())

		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).To(HaveOccurred())
		Expect(results[0].Err).NotTo(HaveOccurred())
		Expect(results[1].Err).To(MatchError(ContainSubstring("boom")))

		Expect(f.Kill(ctx, 1)).To(Succeed())
		Expect(f.Restart(ctx, 1)).To(Succeed())
		results, _ = fanOut(ctx, c, f.Addrs())
		Expect(results[1].Err).To(MatchError(ContainSubstring("boom")), "set while up, kept across a restart too")
	}, SpecTimeout(time.Minute))

	It("removes every container and network it created when the fleet stops", func(ctx SpecContext) {
		before := owned(ctx) // the pool's
		f, err := fleet.Start(ctx, fleet.WithServers(2), fleet.WithBackend(container.New(image)))
		Expect(err).NotTo(HaveOccurred())
		Expect(container.Owned(ctx)).To(HaveLen(len(before)+3), "two containers and a network")
		Expect(f.Pause(ctx, 0)).To(Succeed()) // a paused container is removed too
		Expect(f.Stop(ctx)).To(Succeed())
		Expect(owned(ctx)).To(Equal(before))
		Expect(f.Stop(ctx)).To(Succeed(), "a second Stop")
	}, SpecTimeout(time.Minute))

	It("refuses options a container fleet cannot honour, leaving nothing behind", func(ctx SpecContext) {
		before := owned(ctx)
		for _, b := range []driver.Backend{container.New(image), pool} {
			_, err := fleet.Start(ctx, fleet.WithBackend(b), fleet.WithBasePort(20000))
			Expect(err).To(MatchError(ContainSubstring("ephemeral ports")))
		}
		Expect(owned(ctx)).To(Equal(before))
	}, SpecTimeout(time.Minute))

	It("fails fast on an image that does not exist locally, and never pulls it", func(ctx SpecContext) {
		before := owned(ctx)
		t0 := time.Now()
		_, err := fleet.Start(ctx, fleet.WithBackend(container.New("rpcfleet:no-such-tag", container.WithStartTimeout(30*time.Second))))
		Expect(err).To(MatchError(ContainSubstring(`image "rpcfleet:no-such-tag" not found locally: build it with make image, container.Build or container.BuildPackage`)))
		Expect(time.Since(t0)).To(BeNumerically("<", 10*time.Second), "no pull, no retries until the start timeout")
		Expect(owned(ctx)).To(Equal(before), "nothing left behind")
	}, SpecTimeout(time.Minute))
})

// Pause and partition, on every backend: in process a paused server stops
// accepting, reading and writing (dials still complete), a disconnected
// one refuses dials and cuts its connections, as frozen and cut-off
// containers do.
var (
	_ = Describe("Pause and partition in process", func() { pauseAndPartition(on(fleet.InProcess())) })
	_ = Describe("Pause and partition on containers", Label("container"), func() { pauseAndPartition(on(containers())) })
)

func pauseAndPartition(start starter) {
	It("times out a paused server only, and recovers after unpause", func(ctx SpecContext) {
		const timeout = 2 * time.Second // the others answer within it on a loaded machine
		f := start(ctx, 3)
		c := newCaller(caller.WithTimeout(timeout))
		Expect(f.Pause(ctx, 1)).To(Succeed())

		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).To(MatchError(context.DeadlineExceeded))
		Expect(results[1].Err).To(BeAssignableToTypeOf(&caller.TimeoutError{}))
		Expect(results[0].Err).NotTo(HaveOccurred())
		Expect(results[2].Err).NotTo(HaveOccurred())

		Expect(f.Unpause(ctx, 1)).To(Succeed())
		results, err = fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[1].Reply.Message).To(fromServer(1))
	}, SpecTimeout(time.Minute))

	It("refuses to restart a paused server, promptly, and leaves it serving", func(ctx SpecContext) {
		f := start(ctx, 2)
		c := newCaller()
		addrs := f.Addrs()
		Expect(f.Pause(ctx, 1)).To(Succeed())

		t0 := time.Now()
		rctx, cancel := context.WithTimeout(ctx, 40*time.Second)
		defer cancel()
		Expect(f.Restart(rctx, 1)).To(MatchError(ContainSubstring("paused")))
		Expect(time.Since(t0)).To(BeNumerically("<", 15*time.Second), "no probe hangs on the frozen process")

		Expect(f.Unpause(ctx, 1)).To(Succeed())
		Expect(f.Addrs()).To(Equal(addrs), "neither stopped nor restarted")
		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[1].Reply.Message).To(fromServer(1))
	}, SpecTimeout(time.Minute))

	It("keeps faults set while a server is paused or cut off, promptly, and applies them when it is back", func(ctx SpecContext) {
		f := start(ctx, 2)
		c := newCaller(caller.WithTimeout(5 * time.Second))
		Expect(f.Pause(ctx, 0)).To(Succeed())
		Expect(f.Disconnect(ctx, 1)).To(Succeed())
		t0 := time.Now()
		Expect(f.SetServerFaults(ctx, 0, faults.MustParse("error=paused"))).To(Succeed())
		Expect(f.SetServerFaults(ctx, 1, faults.MustParse("error=cut"))).To(Succeed())
		Expect(time.Since(t0)).To(BeNumerically("<", 5*time.Second), "SetFaults does not wait on a server that cannot answer")

		Expect(f.Unpause(ctx, 0)).To(Succeed())
		Expect(f.Reconnect(ctx, 1)).To(Succeed())
		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).To(HaveOccurred())
		Expect(results[0].Err).To(MatchError(ContainSubstring("paused")))
		Expect(results[1].Err).To(MatchError(ContainSubstring("cut")))
	}, SpecTimeout(time.Minute))

	It("restarts a server killed while cut off, and refuses at once to reconnect it", func(ctx SpecContext) {
		f := start(ctx, 2)
		c := newCaller(caller.WithTimeout(5 * time.Second))
		Expect(f.Disconnect(ctx, 1)).To(Succeed())
		Expect(f.Kill(ctx, 1)).To(Succeed())
		t0 := time.Now()
		Expect(f.Reconnect(ctx, 1)).To(MatchError(ContainSubstring("it is down")))
		Expect(time.Since(t0)).To(BeNumerically("<", 15*time.Second), "no 30s health check waited out on a stopped container")
		Expect(f.Restart(ctx, 1)).To(Succeed())
		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[1].Reply.Message).To(fromServer(1))
	}, SpecTimeout(time.Minute))

	It("cuts a disconnected server off, for that address only, until it reconnects", func(ctx SpecContext) {
		f := start(ctx, 3)
		c := newCaller(caller.WithTimeout(time.Second))
		Expect(f.Disconnect(ctx, 0)).To(Succeed())
		_, err := net.Listen("tcp", f.Addrs()[0])
		Expect(err).To(MatchError(syscall.EADDRINUSE), "its address is held while it is cut off")

		t0 := time.Now()
		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).To(HaveOccurred())
		Expect(time.Since(t0)).To(BeNumerically("<", 5*time.Second), "the caller's 1s timeout ends the call to the cut-off server")
		Expect(results[0].Err).To(HaveOccurred())
		Expect(results[1].Err).NotTo(HaveOccurred())
		Expect(results[2].Err).NotTo(HaveOccurred())

		Expect(f.Reconnect(ctx, 0)).To(Succeed())
		results, err = fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[0].Reply.Message).To(fromServer(0))
	}, SpecTimeout(time.Minute))
}
