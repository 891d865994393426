package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

func serveCmd() *cobra.Command {
	var (
		count     int
		port      int
		faultSpec string
		seed      uint64
		ctlPort   int
		host      string
		index     int
		fleetSize int
		journal   int
		fleetID   string
		unixDir   string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a fleet of net/rpc servers on 127.0.0.1 until SIGINT or SIGTERM",
		Long: `Serve starts --count net/rpc servers on 127.0.0.1, ports --port to
--port+count-1 (--port 0: ephemeral ports), prints one address per line and
runs until SIGINT or SIGTERM. Every server answers Service.Method(Args{Name})
with Reply{Message}. --faults takes the faults text form, e.g.
'delay=50ms,jitter=10ms;error=boom,p=0.25'.

With --control-port, server i also serves the Control service (set and
clear faults, read the journal, reset, health) on --control-port+i (0:
ephemeral), and each printed line is "DATA_ADDR CONTROL_ADDR". Its health
reply reports --fleet-id, so that a client can tell the servers of its
fleet from another fleet's.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 {
				return usagef("--count %d: need at least one server", count)
			}
			if count > fleet.MaxServers {
				return usagef("--count %d: at most %d servers, one port each", count, fleet.MaxServers)
			}
			if port < 0 || port > 0 && port+count-1 > 65535 {
				return usagef("--port %d with --count %d: ports must lie in 0..65535", port, count)
			}
			if ctlPort < -1 || ctlPort > 0 && ctlPort+count-1 > 65535 {
				return usagef("--control-port %d with --count %d: ports must lie in 0..65535", ctlPort, count)
			}
			if index < 0 {
				return usagef("--index %d: must not be negative", index)
			}
			if fleetSize < 0 {
				return usagef("--fleet-size %d: must not be negative", fleetSize)
			}
			if journal < 0 {
				return usagef("--journal-limit %d: must not be negative", journal)
			}
			plan, err := faults.Parse(faultSpec)
			if err != nil {
				return usagef("--faults: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			opts := []fleet.Option{fleet.WithServers(count), fleet.WithBasePort(port), fleet.WithHost(host),
				fleet.WithFaults(plan), fleet.WithSeed(seed), fleet.WithFirstIndex(index), fleet.WithFleetSize(fleetSize),
				fleet.WithJournalLimit(journal), fleet.WithFleetID(fleetID)}
			if ctlPort >= 0 {
				opts = append(opts, fleet.WithControl(ctlPort))
			}
			if unixDir != "" {
				if port != 0 {
					return usagef("--unix %s with --port %d: sockets have no ports", unixDir, port)
				}
				if fi, err := os.Stat(unixDir); err != nil || !fi.IsDir() {
					return usagef("--unix %s: not a directory", unixDir)
				}
				opts = append(opts, fleet.WithUnixSockets(unixDir))
			}
			f, err := fleet.Start(ctx, opts...)
			if err != nil && ctx.Err() != nil && cmd.Context().Err() == nil {
				return nil // a signal while starting: Start left nothing running
			}
			if err != nil {
				return err
			}
			ctl := f.ControlAddrs()
			for i, a := range f.Addrs() {
				if ctl[i] != "" {
					a += " " + ctl[i]
				}
				fmt.Fprintln(cmd.OutOrStdout(), a)
			}
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return f.Stop(sctx)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&count, "count", "n", 3, "number of servers")
	fl.IntVarP(&port, "port", "p", 0, "port of the first server; the others follow (0: ephemeral)")
	fl.StringVar(&faultSpec, "faults", "", "fault plan for every server, e.g. 'delay=50ms,jitter=10ms'")
	fl.Uint64Var(&seed, "seed", 1, "seed of every random fault decision")
	fl.IntVar(&ctlPort, "control-port", -1, "port of the first server's control endpoint; the others follow (0: ephemeral; default: none)")
	fl.StringVar(&host, "host", "127.0.0.1", "interface to listen on (0.0.0.0 inside a container)")
	fl.IntVar(&index, "index", 0, "index of the first server, for seeding and greetings (a member of a larger fleet)")
	fl.IntVar(&fleetSize, "fleet-size", 0, "size of the whole fleet this process serves part of, for rules such as servers=10% (default: index+count)")
	fl.IntVar(&journal, "journal-limit", 100000, "keep at least this many recent calls in the journal, forgetting older ones (0: keep all)")
	fl.StringVar(&fleetID, "fleet-id", "", "identity of the fleet these servers belong to, reported by the control endpoint's health reply")
	fl.StringVar(&unixDir, "unix", "", "listen on unix sockets DIR/server-i.sock instead of TCP ports, printing one path per line")
	return cmd
}
