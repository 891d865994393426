package suites_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/rpc"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// dialCall makes one call on a fresh connection and reports what the client
// observed and how long it took.
func dialCall(ctx context.Context, addr, method string) (fleet.Reply, time.Duration, error) {
	var reply fleet.Reply
	start := time.Now()
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		return reply, time.Since(start), err
	}
	defer c.Close()
	call := c.Go(method, fleet.Args{Name: "probe"}, &reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		return reply, time.Since(start), call.Error
	case <-ctx.Done():
		return reply, time.Since(start), ctx.Err()
	}
}

// onOneConn makes n calls one after another on one connection and returns
// each call's error.
func onOneConn(ctx context.Context, addr, method string, n int) []error {
	GinkgoHelper()
	c, err := rpc.Dial("tcp", addr)
	Expect(err).NotTo(HaveOccurred())
	defer c.Close()
	errs := make([]error, n)
	for i := range errs {
		call := c.Go(method, fleet.Args{Name: "seq"}, new(fleet.Reply), make(chan *rpc.Call, 1))
		select {
		case <-call.Done:
			errs[i] = call.Error
		case <-ctx.Done():
			Fail("call did not return before the spec's deadline")
		}
	}
	return errs
}

// failed lists, from 1, the numbers of the calls that failed.
func failed(errs []error) []int {
	var out []int
	for i, err := range errs {
		if err != nil {
			out = append(out, i+1)
		}
	}
	return out
}

var _ = Describe("Fault kinds: what the caller observes", func() {
	var f *fleet.Fleet
	var addr string
	BeforeEach(func(ctx SpecContext) {
		f = startFleet(ctx, 2)
		addr = f.Addrs()[0]
	})
	plan := func(ctx context.Context, spec string) {
		GinkgoHelper()
		Expect(f.SetServerFaults(ctx, 0, faults.MustParse(spec))).To(Succeed())
	}

	It("delay: a normal reply, no sooner than the delay", func(ctx SpecContext) {
		plan(ctx, "delay=150ms,jitter=50ms")
		reply, took, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).NotTo(HaveOccurred())
		Expect(reply.Message).To(HavePrefix("Hello, probe!"))
		Expect(took).To(BeNumerically(">=", 100*time.Millisecond))
		Expect(took).To(BeNumerically("<", 200*time.Millisecond+3*time.Second))
	}, SpecTimeout(10*time.Second))

	It("delay distributions: every drawn delay lies in its distribution's range, and the cap holds", func(ctx SpecContext) {
		plan(ctx, "delay=uniform,min=20ms,max=40ms")
		for range 5 {
			_, took, err := dialCall(ctx, addr, "Service.Method")
			Expect(err).NotTo(HaveOccurred())
			Expect(took).To(BeNumerically(">=", 20*time.Millisecond))
		}
		plan(ctx, "delay=pareto,scale=5ms,shape=0.5,cap=60ms")
		errs := onOneConn(ctx, addr, "Service.Method", 20)
		Expect(failed(errs)).To(BeEmpty())
		calls, err := f.ServerCalls(ctx, 0)
		Expect(err).NotTo(HaveOccurred())
		for _, c := range calls[5:] {
			took := c.Replied.Sub(c.Received)
			Expect(took).To(BeNumerically(">=", 5*time.Millisecond))
			Expect(took).To(BeNumerically("<", 60*time.Millisecond+time.Second), "the cap bounds a long tail")
		}
	}, SpecTimeout(20*time.Second))

	It("error: an rpc.ServerError with the message; the connection stays usable", func(ctx SpecContext) {
		plan(ctx, `error="disk full",first=1`)
		errs := onOneConn(ctx, addr, "Service.Method", 2)
		Expect(errs[0]).To(Equal(rpc.ServerError("disk full")))
		Expect(errs[1]).NotTo(HaveOccurred())
	}, SpecTimeout(10*time.Second))

	It("delay and an outcome: both apply, the outcome once the delay has passed; the journal records both", func(ctx SpecContext) {
		plan(ctx, "delay=300ms;error=boom")
		_, took, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).To(Equal(rpc.ServerError("boom")))
		Expect(took).To(BeNumerically(">=", 300*time.Millisecond))
		Expect(took).To(BeNumerically("<", 300*time.Millisecond+3*time.Second))
		calls, err := f.ServerCalls(ctx, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(ConsistOf(And(
			HaveField("DelayRule", 0), HaveField("Delay", 300*time.Millisecond),
			HaveField("Rule", 1), HaveField("Fault", "error=boom"),
			HaveField("Outcome", fleet.Failed), HaveField("Err", "boom"))))
		Expect(calls[0].Replied.Sub(calls[0].Received)).To(BeNumerically(">=", 300*time.Millisecond))

		plan(ctx, "delay=300ms;drop")
		_, took, err = dialCall(ctx, addr, "Service.Method")
		Expect(err).To(MatchError(io.ErrUnexpectedEOF))
		Expect(took).To(BeNumerically(">=", 300*time.Millisecond), "dropped only after the delay")
	}, SpecTimeout(20*time.Second))

	It("delay and an error: calls on one connection are delayed side by side, not one after another", func(ctx SpecContext) {
		const n, d = 10, 300 * time.Millisecond
		plan(ctx, "delay=300ms;error=boom")
		c, err := rpc.Dial("tcp", addr)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		start := time.Now()
		calls := make([]*rpc.Call, n)
		for i := range calls {
			calls[i] = c.Go("Service.Method", fleet.Args{Name: "side"}, new(fleet.Reply), make(chan *rpc.Call, 1))
		}
		for _, call := range calls {
			Eventually(call.Done).WithContext(ctx).WithTimeout(n*d + 5*time.Second).
				Should(Receive(HaveField("Error", rpc.ServerError("boom"))))
		}
		elapsed := time.Since(start)
		Expect(elapsed).To(BeNumerically(">=", d))
		Expect(elapsed).To(BeNumerically("<", 4*d), "serialised calls would take %v", n*d)
	}, SpecTimeout(20*time.Second))

	It("hang: no reply; the caller times out and the fleet still stops promptly", func(ctx SpecContext) {
		plan(ctx, "hang")
		c := newCaller(caller.WithTimeout(time.Second)) // server 1 answers within it on a loaded machine
		results, _ := fanOut(ctx, c, f.Addrs())
		Expect(results[0].Err).To(MatchError(context.DeadlineExceeded))
		Expect(results[1].Err).NotTo(HaveOccurred())
		start := time.Now()
		Expect(f.Stop(ctx)).To(Succeed())
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
	}, SpecTimeout(10*time.Second))

	It("drop: the connection ends without a reply (io.ErrUnexpectedEOF)", func(ctx SpecContext) {
		plan(ctx, "drop")
		_, _, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).To(MatchError(io.ErrUnexpectedEOF))
		Expect(f.ServerCalls(ctx, 0)).To(ConsistOf(And(
			HaveField("Outcome", fleet.Aborted), HaveField("Err", "dropped"), HaveField("Fault", "drop"))))
	}, SpecTimeout(10*time.Second))

	It("reset: the connection is reset (ECONNRESET) or cut (io.ErrUnexpectedEOF)", func(ctx SpecContext) {
		plan(ctx, "reset")
		_, _, err := dialCall(ctx, addr, "Service.Method")
		Expect(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)).To(BeTrue(), "got %v", err)
	}, SpecTimeout(10*time.Second))

	It("corrupt: garbage instead of the reply, a decoding error, then the connection closes", func(ctx SpecContext) {
		plan(ctx, "corrupt")
		_, _, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).To(HaveOccurred())
		var se rpc.ServerError
		Expect(errors.As(err, &se)).To(BeFalse(), "not an error reply: %v", err)
		Expect(f.ServerCalls(ctx, 0)).To(ConsistOf(HaveField("Err", "corrupted")))
	}, SpecTimeout(10*time.Second))

	It("truncate: half a reply, then the connection closes (unexpected EOF)", func(ctx SpecContext) {
		plan(ctx, "truncate")
		_, _, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).To(MatchError(ContainSubstring("unexpected EOF")))
	}, SpecTimeout(10*time.Second))

	It("throttle: a correct reply that arrives at the byte rate", func(ctx SpecContext) {
		plan(ctx, "throttle=400")
		reply, took, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).NotTo(HaveOccurred())
		Expect(reply.Message).To(Equal(fleet.Greeting("probe", 0, addr)))
		// The first reply on a connection carries gob type information,
		// well over 40 bytes: at least 100ms at 400 B/s.
		Expect(took).To(BeNumerically(">=", 100*time.Millisecond))
	}, SpecTimeout(10*time.Second))

	It("slice: a correct reply delivered in small chunks with gaps", func(ctx SpecContext) {
		plan(ctx, "slice=16,gap=20ms")
		reply, took, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).NotTo(HaveOccurred())
		Expect(reply.Message).To(Equal(fleet.Greeting("probe", 0, addr)))
		Expect(took).To(BeNumerically(">=", 60*time.Millisecond), "four or more gaps")
	}, SpecTimeout(10*time.Second))

	It("refuse: dials are refused during the window, then accepted again", func(ctx SpecContext) {
		plan(ctx, "refuse,for=1s")
		_, _, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).To(MatchError(syscall.ECONNREFUSED))
		Eventually(func() error {
			_, _, err := dialCall(ctx, addr, "Service.Method")
			return err
		}).WithContext(ctx).WithTimeout(5 * time.Second).Should(Succeed())
	}, SpecTimeout(10*time.Second))

	It("slowaccept: the dial succeeds at once, the first reply comes late", func(ctx SpecContext) {
		plan(ctx, "slowaccept=1s")
		start := time.Now()
		c, err := rpc.Dial("tcp", addr)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		dialled := time.Since(start)
		Expect(dialled).To(BeNumerically("<", time.Second))
		var r fleet.Reply
		Expect(c.Call("Service.Method", fleet.Args{Name: "slow"}, &r)).To(Succeed())
		Expect(time.Since(start)).To(BeNumerically(">=", time.Second))
	}, SpecTimeout(10*time.Second))

	It("crash: the server goes down on the chosen call and stays down until restarted", func(ctx SpecContext) {
		plan(ctx, "crash,after=2")
		errs := onOneConn(ctx, addr, "Service.Method", 2)
		Expect(failed(errs)).To(BeEmpty())
		_, _, err := dialCall(ctx, addr, "Service.Method")
		Expect(err).To(HaveOccurred(), "the third call crashes the server")
		_, _, err = dialCall(ctx, addr, "Service.Method")
		Expect(err).To(MatchError(syscall.ECONNREFUSED))
		Expect(f.Restart(ctx, 0)).To(Succeed())
		Expect(f.SetServerFaults(ctx, 0, faults.Plan{})).To(Succeed())
		_, _, err = dialCall(ctx, addr, "Service.Method")
		Expect(err).NotTo(HaveOccurred())
	}, SpecTimeout(10*time.Second))
})

var _ = Describe("Fault kinds: blackhole", func() {
	It("blackhole: dials hang and open connections go unread; the caller's timeout fails only that server", func(ctx SpecContext) {
		f := startFleet(ctx, 3)
		c := newCaller(caller.WithTimeout(1 * time.Second))
		_, err := fanOut(ctx, c, f.Addrs()) // warm: server 1's connection is open before the blackhole
		Expect(err).NotTo(HaveOccurred())
		Expect(f.SetServerFaults(ctx, 1, faults.MustParse("blackhole"))).To(Succeed())

		// isTimeout: the error says time ran out (a net.Error timeout, or
		// the caller's *TimeoutError).
		isTimeout := func(err error) bool {
			var t interface{ Timeout() bool }
			return errors.As(err, &t) && t.Timeout()
		}
		expectOnlyServer1Fails := func(c *caller.Caller) error {
			GinkgoHelper()
			start := time.Now()
			results, err := fanOut(ctx, c, f.Addrs())
			Expect(time.Since(start)).To(BeNumerically(">=", time.Second))
			Expect(time.Since(start)).To(BeNumerically("<", 4*time.Second), "the caller's timeout ends the hung call")
			Expect(err).To(HaveOccurred())
			Expect(results[0].Err).NotTo(HaveOccurred())
			Expect(results[2].Err).NotTo(HaveOccurred())
			Expect(results[1].Err).To(HaveOccurred())
			Expect(isTimeout(results[1].Err)).To(BeTrue(), "a timeout, not %v", results[1].Err)
			Expect(results[1].Err).NotTo(MatchError(syscall.ECONNREFUSED))
			return results[1].Err
		}
		By("a fan-out on warm connections: server 1 never reads the request")
		Expect(expectOnlyServer1Fails(c)).To(MatchError(context.DeadlineExceeded))
		By("a fan-out that must dial: server 1's dial hangs until the call's timeout")
		Expect(expectOnlyServer1Fails(newCaller(caller.WithTimeout(1 * time.Second)))).To(MatchError(context.DeadlineExceeded))
		dialCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		var d net.Dialer
		_, err = d.DialContext(dialCtx, "tcp", f.Addrs()[1])
		Expect(isTimeout(err)).To(BeTrue(), "a plain dial times out, not %v", err)

		By("once the plan is cleared, server 1 serves again")
		Expect(f.SetServerFaults(ctx, 1, faults.Plan{})).To(Succeed())
		results, err := fanOut(ctx, newCaller(caller.WithTimeout(1*time.Second)), f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[1].Reply.Message).To(Equal(fleet.Greeting("Alice", 1, f.Addrs()[1])))
	}, SpecTimeout(20*time.Second))
})

var _ = Describe("Fault targeting", func() {
	DescribeTable("call numbers: which of 9 sequential calls fail",
		func(ctx SpecContext, spec string, want []int) {
			f := startFleet(ctx, 1)
			Expect(f.SetFaults(ctx, faults.MustParse(spec))).To(Succeed())
			Expect(failed(onOneConn(ctx, f.Addrs()[0], "Service.Method", 9))).To(Equal(want))
		},
		Entry("first=2", "error=x,first=2", []int{1, 2}, SpecTimeout(10*time.Second)),
		Entry("after=7", "error=x,after=7", []int{8, 9}, SpecTimeout(10*time.Second)),
		Entry("every=3", "error=x,every=3", []int{3, 6, 9}, SpecTimeout(10*time.Second)),
		Entry("after=2,every=2", "error=x,after=2,every=2", []int{4, 6, 8}, SpecTimeout(10*time.Second)),
		Entry("rules in order: fail the first two, then answer late (the README's example)",
			"error=x,first=2;delay=10ms,after=2", []int{1, 2}, SpecTimeout(10*time.Second)),
	)

	It("servers=0,2-3: only those servers", func(ctx SpecContext) {
		f := startFleet(ctx, 6)
		Expect(f.SetFaults(ctx, faults.MustParse("error=x,servers=0,2-3"))).To(Succeed())
		c := newCaller()
		addrs := f.Addrs()
		_, err := fanOut(ctx, c, addrs)
		var fe *caller.FanOutError
		Expect(errors.As(err, &fe)).To(BeTrue())
		Expect(fe.Addrs()).To(Equal([]string{addrs[0], addrs[2], addrs[3]}))
	}, SpecTimeout(10*time.Second))

	It("servers=30%: that share of the fleet, the same servers for the same seed", func(ctx SpecContext) {
		chosen := func(seed uint64) []string {
			f := startFleet(ctx, 10, fleet.WithSeed(seed), fleet.WithFaults(faults.MustParse("error=x,servers=30%")))
			c := newCaller()
			_, err := fanOut(ctx, c, f.Addrs())
			var fe *caller.FanOutError
			Expect(errors.As(err, &fe)).To(BeTrue())
			var idx []string
			for _, ce := range fe.Errs {
				idx = append(idx, fmt.Sprint(ce.Index))
			}
			return idx
		}
		seed := uint64(GinkgoRandomSeed())
		a := chosen(seed)
		Expect(a).To(HaveLen(3))
		Expect(chosen(seed)).To(Equal(a))
	}, SpecTimeout(10*time.Second))

	It("method=: only calls to that method", func(ctx SpecContext) {
		f := startFleet(ctx, 1)
		Expect(f.SetFaults(ctx, faults.MustParse("error=x,method=Service.Echo"))).To(Succeed())
		Expect(failed(onOneConn(ctx, f.Addrs()[0], "Service.Method", 3))).To(BeEmpty())
		Expect(failed(onOneConn(ctx, f.Addrs()[0], "Service.Echo", 3))).To(Equal([]int{1, 2, 3}))
	}, SpecTimeout(10*time.Second))

	It("p=: rolled per call, not per connection", func(ctx SpecContext) {
		const n, p = 400, 0.3
		f := startFleet(ctx, 1)
		Expect(f.SetFaults(ctx, faults.MustParse("error=x,p=0.3"))).To(Succeed())
		got := float64(len(failed(onOneConn(ctx, f.Addrs()[0], "Service.Method", n))))
		sd := math.Sqrt(n * p * (1 - p))
		Expect(got).To(BeNumerically("~", n*p, 5*sd), "one connection, both outcomes, about p of the calls")
	}, SpecTimeout(20*time.Second))

	It("for= and from=: a time window counted from when the plan was set", func(ctx SpecContext) {
		f := startFleet(ctx, 2)
		// Windows long enough that a loaded machine makes the first two
		// calls inside them.
		Expect(f.SetServerFaults(ctx, 0, faults.MustParse("error=early,for=1500ms"))).To(Succeed())
		Expect(f.SetServerFaults(ctx, 1, faults.MustParse("error=late,from=1500ms"))).To(Succeed())
		a, b := f.Addrs()[0], f.Addrs()[1]
		_, _, err := dialCall(ctx, a, "Service.Method")
		Expect(err).To(MatchError("early"))
		_, _, err = dialCall(ctx, b, "Service.Method")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(1600 * time.Millisecond)
		_, _, err = dialCall(ctx, a, "Service.Method")
		Expect(err).NotTo(HaveOccurred())
		_, _, err = dialCall(ctx, b, "Service.Method")
		Expect(err).To(MatchError("late"))
	}, SpecTimeout(10*time.Second))
})

var _ = Describe("Fault plans at runtime", func() {
	It("replaces a plan atomically while calls are in flight: no call sees half a plan", func(ctx SpecContext) {
		f := startFleet(ctx, 2)
		x := faults.MustParse("error=x0,p=0.5;error=x1")
		y := faults.MustParse("error=y0,p=0.5;error=y1")
		Expect(f.SetFaults(ctx, x)).To(Succeed())
		c := newCaller()

		stop := make(chan struct{})
		var flips sync.WaitGroup
		flips.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := x
				if i%2 == 1 {
					p = y
				}
				_ = f.SetFaults(ctx, p)
			}
		})
		var load sync.WaitGroup
		for range 8 {
			load.Go(func() {
				defer GinkgoRecover()
				for range 25 {
					results, _ := fanOut(ctx, c, f.Addrs())
					for _, r := range results {
						Expect(r.Err).To(HaveOccurred())
					}
				}
			})
		}
		load.Wait()
		close(stop)
		flips.Wait()

		calls, err := f.Calls(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(HaveLen(400))
		want := map[int][]string{0: {"error=x0", "error=y0"}, 1: {"error=x1", "error=y1"}}
		for _, call := range calls {
			Expect(call.Outcome).To(Equal(fleet.Failed))
			Expect(want[call.Rule]).To(ContainElement(call.Fault), "rule %d of one plan, fault of the same rule", call.Rule)
			Expect("error=" + call.Err).To(Equal(call.Fault))
		}
	}, SpecTimeout(30*time.Second))

	It("replays: the same seed and call order give identical fault journals", func(ctx SpecContext) {
		spec := "error=e,p=0.2;delay=1ms,jitter=1ms,p=0.3;drop,p=0.05;delay=exponential,mean=1ms,cap=3ms"
		run := func(seed uint64) []string {
			f := startFleet(ctx, 4, fleet.WithSeed(seed), fleet.WithFaults(faults.MustParse(spec)))
			c := newCaller(caller.WithTimeout(5 * time.Second))
			for _, a := range f.Addrs() {
				for range 30 {
					_, _ = fanOut(ctx, c, []string{a})
				}
			}
			calls, err := f.Calls(ctx)
			Expect(err).NotTo(HaveOccurred())
			var out []string
			for _, call := range calls {
				out = append(out, fmt.Sprintf("server %d call %d: delay rule %d %v, rule %d %s %v",
					call.Server, call.N, call.DelayRule, call.Delay, call.Rule, call.Fault, call.Outcome))
			}
			return out
		}
		seed := uint64(GinkgoRandomSeed())
		first := run(seed)
		Expect(first).To(HaveLen(120))
		Expect(run(seed)).To(Equal(first))
		Expect(run(seed + 1)).NotTo(Equal(first))
	}, SpecTimeout(60*time.Second))
})
