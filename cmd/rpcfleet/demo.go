package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/internal/cli"
)

func demoCmd() *cobra.Command {
	var (
		servers int
		seed    uint64
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Fan one call out to an in-process fleet with a few faults and show what came back",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if servers < 4 {
				return cli.Usagef("--servers %d: the demo needs at least 4 servers", servers)
			}
			if timeout <= 0 {
				return cli.Usagef("--timeout %v: must be positive", timeout)
			}
			return demo(cmd.Context(), cmd.OutOrStdout(), servers, seed, timeout)
		},
	}
	cmd.Flags().IntVar(&servers, "servers", 20, "fleet size")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of every random fault decision")
	cmd.Flags().DurationVar(&timeout, "timeout", 500*time.Millisecond, "per-call timeout of the caller")
	return cmd
}

// demo starts a fleet, gives a few servers a fault each, fans one call out
// with the reference caller and prints a per-server table and a summary.
func demo(ctx context.Context, w io.Writer, n int, seed uint64, timeout time.Duration) error {
	base := faults.MustParse("delay=20ms,jitter=15ms")
	f, err := fleet.Start(ctx, fleet.WithServers(n), fleet.WithSeed(seed), fleet.WithFaults(base))
	if err != nil {
		return err
	}
	defer f.Stop(context.Background())
	// Four servers spread over the fleet, or the first four of a small
	// fleet, where the spread would pick one server twice.
	picked := []int{n / 5, n / 3, n / 2, n * 3 / 4}
	if len(slices.Compact(slices.Clone(picked))) < len(picked) {
		picked = []int{0, 1, 2, 3}
	}
	plans := make(map[int]faults.Plan)
	for i, spec := range []string{"error=disk full", "hang", "delay=150ms,jitter=20ms"} {
		plans[picked[i]] = faults.MustParse(spec)
		if err := f.SetServerFaults(ctx, picked[i], plans[picked[i]]); err != nil {
			return err
		}
	}
	if err := f.Kill(ctx, picked[3]); err != nil {
		return err
	}

	c := caller.New(caller.WithTimeout(timeout))
	defer c.Close()
	fmt.Fprintf(w, "rpcfleet demo: %d in-process servers (seed %d), caller timeout %v\n\n", n, seed, timeout)
	start := time.Now()
	results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "demo"})
	wall := time.Since(start)

	// A call's faults are its delay rule and its outcome rule, each
	// shown as its server's plan wrote it.
	calls, err := f.Calls(ctx)
	if err != nil {
		return err
	}
	faultOf := make(map[int]string)
	for _, call := range calls {
		plan, ok := plans[call.Server]
		if !ok {
			plan = base
		}
		var applied []string
		for _, i := range []int{call.DelayRule, call.Rule} {
			if i >= 0 {
				applied = append(applied, faults.Rule{Fault: plan.Rules[i].Fault}.String())
			}
		}
		faultOf[call.Server] = strings.Join(applied, ";")
	}
	faultOf[n*3/4] = "(killed)"
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tADDRESS\tFAULT\tLATENCY\tRESULT")
	ok := 0
	for i, r := range results {
		res := r.Reply.Message
		if r.Err != nil {
			res = "ERROR " + describe(r.Err)
		} else {
			ok++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\n", i, r.Addr, faultOf[i], r.Latency.Round(100*time.Microsecond), res)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nfan-out returned in %v: %d ok, %d failed\n", wall.Round(time.Millisecond), ok, len(results)-ok)
	var fe *caller.FanOutError
	if errors.As(err, &fe) {
		fmt.Fprintf(w, "failed addresses: %s\n", strings.Join(fe.Addrs(), ", "))
	}
	fmt.Fprintf(w, "the fan-out waits for every call, so the hung server held it for the whole timeout (%v)\n", timeout)
	return nil
}

// describe names the kind of a call error for the demo table.
func describe(err error) string {
	var te *caller.TimeoutError
	switch {
	case errors.As(err, &te):
		return "timeout: " + err.Error()
	default:
		return err.Error()
	}
}
