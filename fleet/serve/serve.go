// Package serve is the `rpcfleet serve` command as a library, for a
// server main of your own: it serves a fleet of net/rpc servers with your
// receivers (fleet.WithService), rpcfleet's faults, journal and control
// plane, on the command line of `rpcfleet serve`.
//
//	func main() { serve.Main(fleet.WithService("KV", kv.New)) }
//
// Flags: --count, --port, --control-port, --control-token, --faults,
// --seed, --host, --index, --fleet-size, --journal-limit, --fleet-id,
// --max-request-size, --clock-skew and --unix, as `rpcfleet serve --help`
// lists them. The control token defaults to $RPCFLEET_CONTROL_TOKEN; a
// control port beyond loopback needs one, and data ports beyond loopback
// are served with a warning on stderr. --index defaults to
// $RPCFLEET_INDEX (a Kubernetes pod's ordinal), or else to
// $RPCFLEET_TASK_SLOT minus one (a Swarm task's slot, which counts from
// 1), so that an orchestrator's replicas number themselves. It prints one
// address per line ("DATA CONTROL" with --control-port) and serves until
// SIGINT or SIGTERM, or until a control call kills a server.
// Exit codes: 0 after a clean stop, 1 on a failure, 2 on a usage error,
// printed as one line naming the flag and a line pointing to --help, and
// ExitKilled after a control call killed a server (Fleet.Kill on a fleet
// attached to this process, package fleet/attach): an orchestrator's
// restart policy then brings the process back.
//
// A binary built on Main takes these flags directly, with no subcommand,
// so container.BuildPackage makes an image of it that container.New runs
// as it runs rpcfleet's own.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/internal/cli"
)

// Main runs the command line os.Args[1:] with opts added to the fleet's
// options (after those the flags set, so they win) and exits with its
// exit code. Call it from main only.
func Main(opts ...fleet.Option) {
	os.Exit(Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, opts...))
}

// ExitKilled is the exit code of a server process that a control call
// killed, told apart from a failure (1) and a usage error (2); its
// orchestrator restarts it (restart policy on-failure or always).
const ExitKilled = 3

// Environment variables that give flags their defaults.
const (
	// TokenEnv gives --control-token its default, as the container
	// backend and the Swarm and Kubernetes manifests pass the token on.
	TokenEnv = "RPCFLEET_CONTROL_TOKEN"
	// IndexEnv gives --index its default: a Kubernetes StatefulSet sets it
	// to the pod's ordinal (deploy/kubernetes).
	IndexEnv = "RPCFLEET_INDEX"
	// SlotEnv gives --index its default, minus one, when IndexEnv is
	// unset: docker/stack.yaml sets it to {{.Task.Slot}}, which Swarm
	// numbers from 1 and cannot put into a command line.
	SlotEnv = "RPCFLEET_TASK_SLOT"
)

// Run serves the command line args (without the program's name) until
// SIGINT, SIGTERM or the end of ctx, and returns the exit code: 0 after a
// clean stop, 1 on a failure, 2 on a usage error. Addresses go to stdout,
// errors to stderr, prefixed with the program's name (os.Args[0]'s base).
// opts are added after the options the flags set.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, opts ...fleet.Option) int {
	return cli.Execute(ctx, command(path(os.Args, args), opts), progName(), args, stdout, stderr)
}

// path names the command in its help: the program and, when args is what
// follows them in osArgs, the words before args (`rpcfleet serve`).
func path(osArgs, args []string) string {
	if len(osArgs) == 0 {
		return "serve"
	}
	words := []string{filepath.Base(osArgs[0])}
	if rest := osArgs[1:]; len(rest) >= len(args) && slices.Equal(rest[len(rest)-len(args):], args) {
		words = append(words, rest[:len(rest)-len(args)]...)
	}
	return strings.Join(words, " ")
}

// command is the serve command, shown as name.
func command(name string, extra []fleet.Option) *cobra.Command {
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
		token     string
		maxReq    int
		skew      time.Duration
	)
	cmd := &cobra.Command{
		Use:         "serve",
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: name},
		Short:       "Serve a fleet of net/rpc servers on 127.0.0.1 until SIGINT or SIGTERM",
		Long: `Serve starts --count net/rpc servers on 127.0.0.1, ports --port to
--port+count-1 (--port 0: ephemeral ports), prints one address per line and
runs until SIGINT or SIGTERM. Every server answers Service.Method(Args{Name})
with Reply{Message}, beside the services its program registers. --faults
takes the faults text form, e.g. 'delay=50ms,jitter=10ms;error=boom,p=0.25'.

With --control-port, server i also serves the Control service (set and
clear faults, read the journal, reset, health) on --control-port+i (0:
ephemeral), and each printed line is "DATA_ADDR CONTROL_ADDR". Its health
reply reports --fleet-id, so that a client can tell the servers of its
fleet from another fleet's.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 {
				return cli.Usagef("--count %d: need at least one server", count)
			}
			if count > fleet.MaxServers {
				return cli.Usagef("--count %d: at most %d servers, one port each", count, fleet.MaxServers)
			}
			if port < 0 || port > 0 && port+count-1 > 65535 {
				return cli.Usagef("--port %d with --count %d: ports must lie in 0..65535", port, count)
			}
			if ctlPort < -1 || ctlPort > 0 && ctlPort+count-1 > 65535 {
				return cli.Usagef("--control-port %d with --count %d: ports must lie in 0..65535", ctlPort, count)
			}
			if port > 0 && ctlPort > 0 && port <= ctlPort+count-1 && ctlPort <= port+count-1 {
				return cli.Usagef("--port %d and --control-port %d with --count %d: the ranges %s and %s overlap",
					port, ctlPort, count, span(port, count), span(ctlPort, count))
			}
			if !cmd.Flags().Changed("index") {
				var err error
				if index, err = indexFromEnv(); err != nil {
					return err
				}
			}
			if index < 0 {
				return cli.Usagef("--index %d: must not be negative", index)
			}
			if index+count > fleet.MaxServers {
				return cli.Usagef("--index %d with --count %d: server indices must stay below fleet.MaxServers (%d)", index, count, fleet.MaxServers)
			}
			if fleetSize < 0 {
				return cli.Usagef("--fleet-size %d: must not be negative", fleetSize)
			}
			if fleetSize > 0 && fleetSize < index+count {
				return cli.Usagef("--fleet-size %d below --index %d + --count %d: the fleet holds at least servers 0..%d", fleetSize, index, count, index+count-1)
			}
			if fleetSize > fleet.MaxServers {
				return cli.Usagef("--fleet-size %d: at most fleet.MaxServers (%d)", fleetSize, fleet.MaxServers)
			}
			if maxReq < 0 {
				return cli.Usagef("--max-request-size %d: must not be negative", maxReq)
			}
			if !cmd.Flags().Changed("control-token") {
				token = os.Getenv(TokenEnv)
			}
			if ctlPort >= 0 && token == "" && !fleet.Loopback(host) {
				return cli.Usagef("--control-port with --host %s needs --control-token (or %s): a control port beyond loopback steers the servers for anyone who reaches it", host, TokenEnv)
			}
			if journal < 0 {
				return cli.Usagef("--journal-limit %d: must not be negative", journal)
			}
			plan, err := faults.Parse(faultSpec)
			if err != nil {
				return cli.Usagef("--faults: %w", err)
			}
			opts := []fleet.Option{fleet.WithServers(count), fleet.WithBasePort(port), fleet.WithHost(host),
				fleet.WithFaults(plan), fleet.WithSeed(seed), fleet.WithFirstIndex(index), fleet.WithFleetSize(fleetSize),
				fleet.WithJournalLimit(journal), fleet.WithFleetID(fleetID), fleet.WithMaxRequestSize(maxReq),
				fleet.WithControlToken(token), fleet.WithClockSkew(skew)}
			if ctlPort >= 0 {
				opts = append(opts, fleet.WithControl(ctlPort))
			}
			if unixDir != "" {
				if port != 0 {
					return cli.Usagef("--unix %s with --port %d: sockets have no ports", unixDir, port)
				}
				if fi, err := os.Stat(unixDir); err != nil || !fi.IsDir() {
					return cli.Usagef("--unix %s: not a directory", unixDir)
				}
				opts = append(opts, fleet.WithUnixSockets(unixDir))
			}
			if unixDir == "" && !fleet.Loopback(host) {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: warning: --host %s: the data ports are reachable beyond this host, and they take no credentials (a test double's calls are not authenticated)\n", progName(), host)
			}
			return serve(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), append(opts, extra...))
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
	fl.StringVar(&token, "control-token", "", "shared secret every control call must carry (default: $"+TokenEnv+"); required with --control-port beyond loopback")
	fl.IntVar(&maxReq, "max-request-size", fleet.DefaultMaxRequestSize, "largest request in bytes; a connection sending a larger one is closed and the call journaled as aborted")
	fl.DurationVar(&skew, "clock-skew", 0, "shift the servers' clock (journal times, control Now) by this much, as a host whose clock is off: a test hook for merging journals across hosts")
	return cmd
}

// indexFromEnv is --index's default: $RPCFLEET_INDEX, or
// $RPCFLEET_TASK_SLOT minus one, or 0.
func indexFromEnv() (int, error) {
	if v, ok := os.LookupEnv(IndexEnv); ok {
		i, err := strconv.Atoi(v)
		if err != nil {
			return 0, cli.Usagef("$%s=%q (the default of --index): not an integer", IndexEnv, v)
		}
		return i, nil
	}
	if v, ok := os.LookupEnv(SlotEnv); ok {
		slot, err := strconv.Atoi(v)
		if err != nil || slot < 1 {
			return 0, cli.Usagef("$%s=%q (a Swarm task's slot, from 1; --index defaults to it minus one): want an integer from 1", SlotEnv, v)
		}
		return slot - 1, nil
	}
	return 0, nil
}

// span is a range of count ports from first, as errors name it.
func span(first, count int) string { return fmt.Sprintf("%d-%d", first, first+count-1) }

// progName is the program's name as errors are prefixed with it.
func progName() string { return filepath.Base(os.Args[0]) }

// serve starts the fleet, prints its addresses to out and serves until
// SIGINT, SIGTERM, the end of parent or a control call's Kill, then stops
// it. After a Kill it returns ExitKilled, having said so on errOut.
func serve(parent context.Context, out, errOut io.Writer, opts []fleet.Option) error {
	sig, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, kill := context.WithCancelCause(sig)
	defer kill(nil)
	killed := make(chan int, 1)
	opts = append(opts, fleet.WithControlKill(func(i int) {
		select {
		case killed <- i:
		default:
		}
		kill(errKilled)
	}))
	f, err := fleet.Start(ctx, opts...)
	if err != nil && ctx.Err() != nil && parent.Err() == nil {
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
		fmt.Fprintln(out, a)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = f.Stop(sctx)
	if context.Cause(ctx) == errKilled {
		fmt.Fprintf(errOut, "%s: server %d killed through its control port: exiting with %d\n", progName(), <-killed, ExitKilled)
		return cli.ExitCode(ExitKilled)
	}
	return err
}

// errKilled ends serve when a control call killed a server.
var errKilled = errors.New("killed through the control port")
