package experiment

import (
	"context"
	"errors"
	"io"
	"net/rpc"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// Progress is told, now and then, how far a strategy has got: done of total
// fan-outs, or, for a duration, elapsed of the duration in milliseconds.
type Progress func(strategy string, done, total int)

// Run runs every strategy of sc in turn, each against a fleet of its own
// started with the scenario's seed and faults, and returns the report.
// When ctx ends, Run stops issuing fan-outs, waits for those in flight and
// returns the figures so far with Interrupted set. progress may be nil.
func Run(ctx context.Context, sc *Scenario, progress Progress) (*Report, error) {
	if err := sc.Check(); err != nil {
		return nil, err
	}
	rep := &Report{Scenario: sc.Name, Servers: sc.Servers, Seed: sc.Seed, InFlight: sc.InFlight, Faults: sc.Faults.String()}
	for _, st := range sc.Strategies {
		if ctx.Err() != nil {
			rep.Interrupted = true
			break
		}
		r, err := runStrategy(ctx, sc, st, progress)
		if err != nil && ctx.Err() != nil {
			rep.Interrupted = true // interrupted while its fleet started
			break
		}
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, r)
		if ctx.Err() != nil {
			rep.Interrupted = true
		}
	}
	return rep, nil
}

// runStrategy drives one strategy: sc.InFlight workers issue fan-outs until
// the rounds are done, the duration is over or ctx ends.
func runStrategy(ctx context.Context, sc *Scenario, st Strategy, progress Progress) (Result, error) {
	// The runner reads no journal: keep the least, so that a long run's
	// memory stays flat.
	opts := []fleet.Option{fleet.WithServers(sc.Servers), fleet.WithSeed(sc.Seed), fleet.WithFaults(sc.Faults.Plan),
		fleet.WithJournalLimit(1)}
	if sc.Backend == "container" {
		opts = append(opts, fleet.WithBackend(container.New(sc.Image)))
	}
	f, err := fleet.Start(ctx, opts...)
	if err != nil {
		return Result{}, err
	}
	defer f.Stop(context.Background())
	c := caller.New(callerOptions(sc, st)...)
	defer c.Close()
	addrs := f.Addrs()

	res := newResult(st.Name)
	var (
		mu       sync.Mutex
		next     atomic.Int64
		deadline time.Time
		wg       sync.WaitGroup
	)
	start := time.Now()
	if sc.Duration > 0 {
		deadline = start.Add(sc.Duration)
	}
	report := func() {
		if progress == nil {
			return
		}
		if sc.Duration > 0 {
			progress(st.Name, int(time.Since(start)/time.Millisecond), int(sc.Duration/time.Millisecond))
			return
		}
		progress(st.Name, res.Rounds, sc.Rounds)
	}
	for range sc.InFlight {
		wg.Go(func() {
			for ctx.Err() == nil {
				if sc.Duration > 0 {
					if !time.Now().Before(deadline) {
						return
					}
				} else if next.Add(1) > int64(sc.Rounds) {
					return
				}
				t0 := time.Now()
				results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", fleet.Args{Name: "experiment"})
				took := time.Since(t0)
				if ctx.Err() != nil {
					return // cut short by the interrupt: not a real fan-out
				}
				mu.Lock()
				res.Rounds++
				res.Calls += len(addrs)
				if err == nil {
					res.Succeeded++
				}
				if sc.Slow > 0 && took >= sc.Slow {
					res.Slow++
				}
				for _, r := range results {
					res.Sent += sent(r)
					// Calls the strategy cancelled (quorum reached, fail-fast)
					// are not failures of their servers.
					if r.Err != nil && !errors.Is(r.Err, caller.ErrCancelled) {
						res.Errors[kind(r.Err)]++
					}
				}
				_ = res.Latency.RecordValue(max(int64(took/time.Microsecond), 1))
				report()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Wall = time.Since(start)
	res.summarise()
	return res, nil
}

// kind names the kind of a call error for the report.
func kind(err error) string {
	var (
		te *caller.TimeoutError
		se rpc.ServerError
	)
	switch {
	case errors.As(err, &te), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &se):
		return "error-reply"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, rpc.ErrShutdown):
		return "connection-lost"
	}
	return "other"
}
