package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/rpc"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// Progress is told, now and then, how far a strategy or fan-out has got:
// done of total fan-outs, or, for a duration, elapsed of the duration in
// milliseconds. It is called from one goroutine at a time.
type Progress func(strategy string, done, total int)

// Run runs every strategy of sc in turn, then every fan-out of WithFanOut,
// each against a fleet of its own started with the scenario's seed and
// faults, and returns the report, one Result each in that order. Run
// starts and stops every fleet itself; a fan-out's own resources (its
// clients, connections) are its owner's to close after Run returns.
// When ctx ends, Run stops issuing fan-outs, waits for those in flight and
// returns the figures so far with Interrupted set. A fleet that fails to
// stop does not cost its figures: Run goes on, and returns the whole
// report together with an error naming each subject whose fleet failed to
// stop. progress may be nil.
//
// Run does not change sc; sc must not change while Run runs. Separate
// Runs share nothing and may run at once.
func Run(ctx context.Context, sc *Scenario, progress Progress, opts ...Option) (*Report, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := sc.check(cfg.names()); err != nil {
		return nil, err
	}
	subjects := make([]subject, 0, len(sc.Strategies)+len(cfg.fanOuts))
	for _, st := range sc.Strategies {
		subjects = append(subjects, strategySubject(sc, st, cfg.call))
	}
	for _, f := range cfg.fanOuts {
		subjects = append(subjects, fanOutSubject(sc, f))
	}
	rep := &Report{Scenario: sc.Name, Servers: sc.Servers, Seed: sc.Seed, InFlight: sc.InFlight, Faults: sc.Faults.String()}
	var stopErrs []error
	for _, s := range subjects {
		if ctx.Err() != nil {
			rep.Interrupted = true
			break
		}
		r, err := runOne(ctx, sc, cfg.fleet, s, progress)
		if se := (*stopError)(nil); errors.As(err, &se) {
			stopErrs = append(stopErrs, fmt.Errorf("experiment: %s: %w", s.name, se))
			err = nil // its figures are whole: keep them
		}
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
	return rep, errors.Join(stopErrs...)
}

// stopError is a fleet's failure to stop once its subject's figures were
// in: Run reports it beside the report, not instead of it.
type stopError struct{ err error }

func (e *stopError) Error() string { return "stop its fleet: " + e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// subject is a strategy or a fan-out of the user's, as runOne drives it:
// start is called once the fleet is up, with the fleet, and returns one
// fan-out's round and what to close when the subject is done.
type subject struct {
	name  string
	start func(f *fleet.Fleet) (round func(ctx context.Context, addrs []string) outcome, stop func())
}

// strategySubject runs a strategy of the reference caller, making call.
func strategySubject(sc *Scenario, st Strategy, call call) subject {
	return subject{name: st.Name, start: func(f *fleet.Fleet) (func(context.Context, []string) outcome, func()) {
		// Through the fleet's dialer, which reaches every transport, the
		// in-memory one included.
		c := caller.New(append(callerOptions(sc, st), caller.WithDialer(f.Dial))...)
		return func(ctx context.Context, addrs []string) outcome { return call(ctx, c, addrs) },
			func() { c.Close() }
	}}
}

// fanOutSubject runs a fan-out of WithFanOut, each round bounded by the
// scenario's timeout.
func fanOutSubject(sc *Scenario, f namedFanOut) subject {
	return subject{name: f.name, start: func(*fleet.Fleet) (func(context.Context, []string) outcome, func()) {
		return func(ctx context.Context, addrs []string) outcome {
			ctx, cancel := context.WithTimeout(ctx, sc.Timeout)
			defer cancel()
			o := outcome{err: f.fn(ctx, addrs), sent: len(addrs)}
			if o.err != nil {
				o.errs = leaves(o.err)
			}
			return o
		}, func() {}
	}}
}

// runOne drives one subject: sc.InFlight workers issue fan-outs until
// the rounds are done, the duration is over or ctx ends.
func runOne(ctx context.Context, sc *Scenario, fleetOpts []fleet.Option, s subject, progress Progress) (_ Result, err error) {
	// The runner reads no journal: keep the least, so that a long run's
	// memory stays flat.
	opts := append(fleetOpts[:len(fleetOpts):len(fleetOpts)], fleet.WithServers(sc.Servers), fleet.WithSeed(sc.Seed),
		fleet.WithFaults(sc.Faults.Plan), fleet.WithJournalLimit(1))
	switch {
	case sc.Backend == "container":
		opts = append(opts, fleet.WithBackend(container.New(sc.Image)))
	case sc.Backend == "memory":
		opts = append(opts, fleet.WithMemory())
	case sc.Attach != "":
		src, err := attach.Parse(sc.Attach)
		if err != nil {
			return Result{}, err
		}
		opts = append(opts, fleet.WithBackend(attach.New(src)))
	}
	f, err := fleet.Start(ctx, opts...)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		if serr := f.Stop(context.Background()); serr != nil && err == nil {
			err = &stopError{serr}
		}
	}()
	round, stop := s.start(f)
	defer stop()
	addrs := f.Addrs()

	res := newResult(s.name)
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
			progress(s.name, int(time.Since(start)/time.Millisecond), int(sc.Duration/time.Millisecond))
			return
		}
		progress(s.name, res.Rounds, sc.Rounds)
	}
	workers := sc.InFlight
	if sc.Duration == 0 {
		workers = min(workers, sc.Rounds) // more would find no round to run
	}
	for range workers {
		if ctx.Err() != nil {
			break // interrupted: start no more
		}
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
				o := round(ctx, addrs)
				took := time.Since(t0)
				if ctx.Err() != nil {
					return // cut short by the interrupt: not a real fan-out
				}
				mu.Lock()
				res.Rounds++
				res.Calls += len(addrs)
				res.Sent += o.sent
				if o.err == nil {
					res.Succeeded++
				}
				if sc.Slow > 0 && took >= sc.Slow {
					res.Slow++
				}
				for _, err := range o.errs {
					res.Errors[kind(err)]++
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
