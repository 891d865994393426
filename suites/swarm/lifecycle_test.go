package swarm_test

import (
	"net"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/experiment"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
)

var _ = Describe("A swarm-hosted fleet", Serial, Label("swarm"), func() {
	It("kills a server, whose task the restart policy replaces on new ports, where Restart finds it", func(ctx SpecContext) {
		f, err := start(ctx, fleet.WithServers(3))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(f.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		stale := f.Addrs()[2]
		Expect(f.Kill(ctx, 2)).To(Succeed())
		_, err = net.DialTimeout("tcp", stale, time.Second)
		Expect(err).To(MatchError(syscall.ECONNREFUSED), "the exited task's port")
		Expect(f.Restart(ctx, 2)).To(Succeed())
		Expect(f.Addrs()[2]).NotTo(Equal(stale), "a new task, on new ports")
		c := caller.New()
		defer c.Close()
		results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "Alice"})
		Expect(err).NotTo(HaveOccurred())
		Expect(results[2].Reply.Message).To(HavePrefix("Hello, Alice! (server 2 at "))
		Expect(f.ServerCalls(ctx, 2)).To(HaveLen(1))
		clk, err := f.Clock(ctx, 2)
		Expect(err).NotTo(HaveOccurred())
		Expect(clk).To(BeZero(), "a task on this host shares its clock (the same kernel's boot id)")
	}, SpecTimeout(2*time.Minute))

	It("runs the tail-at-scale scenario with the same report: hedging cuts the tail", func(ctx SpecContext) {
		sc, err := experiment.Load("../../scenarios/tail-at-scale.yaml")
		Expect(err).NotTo(HaveOccurred())
		// The backend itself, not the scenario's attach: key: a task's
		// data port is published on a port of its own, which only the
		// stack's Source knows.
		sc.Servers, sc.Rounds = replicas, 100
		// As on serve processes (suites/attach): a 300ms tail and a
		// 250ms slow mark for fifty containers on a busy machine.
		sc.Faults.Plan = faults.MustParse("delay=300ms,p=0.01;delay=1ms")
		sc.Slow = 250 * time.Millisecond
		rep, err := experiment.Run(ctx, sc, nil, experiment.WithFleet(fleet.WithBackend(attach.New(stack.Source())),
			fleet.WithControlToken(token), fleet.WithFleetID(stack.FleetID())))
		Expect(err).NotTo(HaveOccurred())
		rep.Write(GinkgoWriter, "table")
		all, hedged := rep.Results[0], rep.Results[1]
		Expect(all.Succeeded).To(Equal(100))
		Expect(hedged.Succeeded).To(Equal(100))
		Expect(all.SlowRate()).To(BeNumerically(">", 0.2), "wait-all pays the tail")
		Expect(hedged.SlowRate()).To(BeNumerically("<", all.SlowRate()/2), "hedging cuts it")
	}, SpecTimeout(3*time.Minute))
})
