//go:build !noexperiments

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rpcfleet/rpcfleet/experiment"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/serve"
	"github.com/rpcfleet/rpcfleet/internal/cli"
)

// experimentCmds are the commands that a build with the tag noexperiments
// leaves out: `run`, which links the Docker client and the plotting
// library.
func experimentCmds() []*cobra.Command { return []*cobra.Command{runCmd()} }

func runCmd() *cobra.Command {
	var (
		format, plotFile, faultSpec, only, backend string
		attachTo, token                            string
		servers, rounds, inflight                  int
		seed                                       uint64
		duration, timeout                          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a fault-injection experiment from a scenario file",
		Long: `Run starts a fleet per strategy of the scenario file, injects its faults,
drives fan-outs with each strategy and prints, per strategy, rounds, success
rate, latency percentiles, extra calls and errors by kind. Flags override
the file. The seed is always printed, so a run can be replayed.
Ctrl-C stops the run and prints the figures so far.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("run takes one scenario file, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(experiment.Formats, format) {
				return cli.Usagef("--format %q: want one of %s", format, strings.Join(experiment.Formats, ", "))
			}
			if ext := strings.ToLower(filepath.Ext(plotFile)); plotFile != "" && ext != ".png" && ext != ".svg" {
				return cli.Usagef("--plot %s: want a .png or .svg file", plotFile)
			}
			if plotFile != "" {
				if err := writable(plotFile); err != nil {
					return cli.Usagef("--plot %s: %w", plotFile, err)
				}
			}
			sc, err := experiment.Load(args[0])
			if err != nil {
				return cli.UsageError{Err: err} // a missing or bad scenario file is bad input
			}
			fl := cmd.Flags()
			if fl.Changed("servers") {
				sc.Servers = servers
			}
			if fl.Changed("rounds") {
				sc.Rounds, sc.Duration = rounds, 0
			}
			if fl.Changed("duration") {
				sc.Duration, sc.Rounds = duration, 0
			}
			if fl.Changed("inflight") {
				sc.InFlight = inflight
			}
			if fl.Changed("seed") {
				sc.Seed = seed
			}
			if fl.Changed("timeout") {
				sc.Timeout = timeout
			}
			if fl.Changed("backend") {
				sc.Backend = backend
			}
			if fl.Changed("attach") {
				sc.Attach = attachTo
			}
			if !fl.Changed("control-token") {
				token = os.Getenv(serve.TokenEnv)
			}
			if fl.Changed("faults") {
				p, err := faults.Parse(faultSpec)
				if err != nil {
					return cli.Usagef("--faults: %w", err)
				}
				sc.Faults.Plan = p
			}
			if only != "" {
				var keep []experiment.Strategy
				for _, name := range strings.Split(only, ",") {
					i := slices.IndexFunc(sc.Strategies, func(s experiment.Strategy) bool { return s.Name == name })
					if i < 0 {
						return cli.Usagef("--strategies: no strategy %q in %s", name, args[0])
					}
					keep = append(keep, sc.Strategies[i])
				}
				sc.Strategies = keep
			}
			if err := sc.Check(); err != nil {
				return cli.Usagef("%s (after flags): %v", args[0], err)
			}
			if sc.Backend == "container" && os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
				// No reaper image can be pulled here; the backend removes
				// its own containers and networks.
				os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
			}
			return runExperiment(cmd.Context(), sc, cmd.OutOrStdout(), cmd.ErrOrStderr(), format, plotFile,
				experiment.WithFleet(fleet.WithControlToken(token)))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "table", "output format: table, json or csv")
	fl.StringVar(&plotFile, "plot", "", "write a latency CDF per strategy to this .png or .svg file")
	fl.IntVar(&servers, "servers", 0, "fleet size")
	fl.IntVar(&rounds, "rounds", 0, "fan-outs per strategy")
	fl.DurationVar(&duration, "duration", 0, "run each strategy this long instead of a number of rounds")
	fl.IntVar(&inflight, "inflight", 0, "fan-outs in flight at once")
	fl.Uint64Var(&seed, "seed", 0, "seed of every fault decision")
	fl.DurationVar(&timeout, "timeout", 0, "per-call timeout")
	fl.StringVar(&faultSpec, "faults", "", "fault plan, replacing the file's")
	fl.StringVar(&backend, "backend", "", "inprocess, memory (in process, on the in-memory transport: up to a million servers), container (the image must exist: make image) or attach (with --attach)")
	fl.StringVar(&attachTo, "attach", "", "attach to running servers instead of starting them: control addresses host:port,..., dns:NAME:PORT (A records) or srv:NAME (SRV records)")
	fl.StringVar(&token, "control-token", "", "the attached servers' control token (default: $"+serve.TokenEnv+"); required beyond loopback")
	fl.StringVar(&only, "strategies", "", "comma-separated names of the strategies to run (default: all)")
	return cmd
}

// runExperiment runs sc with progress on stderr and writes the report.
func runExperiment(ctx context.Context, sc *experiment.Scenario, stdout, stderr io.Writer, format, plotFile string, opts ...experiment.Option) (retErr error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "rpcfleet run %s: %d servers, %s, %d in flight, seed %d\n",
		sc.Name, sc.Servers, amount(sc), sc.InFlight, sc.Seed)

	rep, runErr := experiment.Run(ctx, sc, progressTo(stderr), opts...)
	if rep == nil {
		return runErr
	}
	// A fleet that failed to stop (runErr) costs no figure: they are
	// printed first.
	defer func() { retErr = errors.Join(retErr, runErr) }()
	if rep.Interrupted {
		fmt.Fprintln(stderr, "interrupted: printing the figures so far")
	}
	if err := rep.Write(stdout, format); err != nil {
		return err
	}
	if plotFile != "" {
		if err := rep.Plot(plotFile); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", plotFile)
	}
	return nil
}

// writable checks, before a run, that its plot can be written at path:
// the directory exists and takes a new file.
func writable(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("no directory %s", dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("a directory, not a file")
	}
	f, err := os.CreateTemp(dir, ".rpcfleet-plot-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

func amount(sc *experiment.Scenario) string {
	if sc.Duration > 0 {
		return fmt.Sprintf("%v per strategy", sc.Duration)
	}
	return fmt.Sprintf("%d rounds per strategy", sc.Rounds)
}

// progressTo shows a progress bar on a terminal, and otherwise one line
// per strategy, as it starts: a log in a pipe stays short.
func progressTo(w io.Writer) experiment.Progress {
	f, isFile := w.(*os.File)
	if isFile && term.IsTerminal(int(f.Fd())) {
		var (
			bar  *progressbar.ProgressBar
			name string
		)
		return func(strategy string, done, total int) {
			if strategy != name {
				if bar != nil {
					bar.Finish()
					fmt.Fprintln(w)
				}
				name = strategy
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
					progressbar.OptionSetDescription(fmt.Sprintf("%-12s", strategy)),
					progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
			}
			bar.Set(done)
		}
	}
	var name string
	return func(strategy string, _, _ int) {
		if strategy != name {
			name = strategy
			fmt.Fprintf(w, "running %s\n", strategy)
		}
	}
}
