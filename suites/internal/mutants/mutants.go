// Package mutants is a gallery of deliberately broken fan-out callers,
// each with one bug of the kind people write, and the correct callers
// they were broken from (the controls): callers of the default
// Service.Method, and typed ones of examples/kv's KV.Get (Get), whose
// bugs are in their replies. `make mutants` runs the
// conformance suite against the controls, which must pass, and against
// every mutant, which must be caught; see gallery/.
//
// Nothing outside this package's tests and the gallery command imports
// it: the mutants are not part of any library.
package mutants

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// Mutant is one caller of the gallery: of Service.Method (New), or of
// KV.Get (NewGet).
type Mutant struct {
	Name   string                                                                 // short name, for -mutant=
	Bug    string                                                                 // the bug, in a line
	New    func(timeout time.Duration) suites.FanOuter                            // a fresh caller of Service.Method, if NewGet is nil
	NewGet func(timeout time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] // a fresh caller of Get()
	Claims []suites.Option                                                        // what the correct caller it was broken from claims
	Shape  string                                                                 // the shape it claims, for the gallery's table: "wait-for-all" if empty
	Source string                                                                 // where the bug was seen (repository and path, issue, talk); its file says more
}

// Conformance registers the conformance suite for m's caller, as
// suites.Conformance does.
func (m Mutant) Conformance() bool {
	if m.NewGet != nil {
		return suites.ConformanceOf(Get(), m.NewGet, m.Claims...)
	}
	return suites.Conformance(m.New, m.Claims...)
}

// Controls returns the correct callers the mutants are broken from. They
// must pass the conformance suite, or the mutants' failures prove nothing.
func Controls() []Mutant {
	return append([]Mutant{
		{Name: "control-seed-style", Bug: "none: a goroutine per address, a WaitGroup, results reported as side effects",
			New: seedStyle(control), Claims: seedClaims()},
		{Name: "control-outcomes", Bug: "none: a goroutine per address writing its outcome by index, errors joined",
			New: outcomes(fanOut), Claims: fullClaims()},
		{Name: "control-pooled", Bug: "none: the outcomes control on one pooled connection per address, shared by every fan-out",
			New: newPooled(connBroken, false), Claims: fullClaims()},
		{Name: "control-kv", Bug: "none: examples/kv's own client of KV.Get (a pool, a per-call timeout), on shards with a value of their own per key",
			NewGet: gets(noBug), Claims: fullClaims()},
	}, shapeControls()...)
}

// All returns every mutant, in the order `make mutants` runs them.
func All() []Mutant {
	return append([]Mutant{
		{Name: "missed-done", Bug: "wg.Done is missed on the error path",
			New: seedStyle(missedDone), Claims: seedClaims()},
		{Name: "add-in-goroutine", Bug: "wg.Add(1) runs inside the goroutine, racing wg.Wait",
			New: seedStyle(addInGoroutine), Claims: seedClaims()},
		{Name: "no-timeout", Bug: "calls have no timeout: a hanging server hangs the fan-out",
			New: seedStyle(noTimeout), Claims: seedClaims()},
		{Name: "completion-order", Bug: "outcomes are appended in completion order, not input order",
			New: outcomes(completionOrder), Claims: fullClaims()},
		{Name: "unlocked-append", Bug: "goroutines append to a shared slice without a lock",
			New: outcomes(unlockedAppend), Claims: fullClaims()},
		{Name: "first-error-only", Bug: "the fan-out's error keeps only the first call's error",
			New: outcomes(firstErrorOnly), Claims: fullClaims()},
		{Name: "leak-on-cancel", Bug: "on cancel it returns, leaving goroutines blocked on an unbuffered channel",
			New: outcomes(leakOnCancel), Claims: fullClaims()},
		{Name: "close-before-reply", Bug: "the client is closed right after the call is sent, before its reply",
			New: seedStyle(closeBeforeReply), Claims: seedClaims()},
		{Name: "early-wait", Bug: "the wait gives up after a fixed budget, before slow calls end",
			New: seedStyle(earlyWait), Claims: seedClaims()},
		{Name: "conn-never-closed", Bug: "a connection per call, never closed",
			New: seedStyle(connNeverClosed), Claims: seedClaims()},
		{Name: "shared-reply", Bug: "every goroutine decodes into one shared reply variable",
			New: seedStyle(sharedReply), Claims: seedClaims()},
		{Name: "serial", Bug: "wg.Wait inside the loop: each call waits for the one before",
			New: seedStyle(serial), Claims: seedClaims()},
		{Name: "five-in-flight", Bug: "a semaphore keeps five calls in flight: n servers delayed d take n/5·d",
			New: seedStyle(fiveInFlight), Claims: seedClaims()},
		{Name: "ignores-cancel", Bug: "calls run under context.Background: ctx's end is not seen",
			New: seedStyle(ignoresCancel), Claims: seedClaims()},
		{Name: "error-swallowed", Bug: "an error reply counts as success: the server answered",
			New: seedStyle(errorSwallowed), Claims: seedClaims()},
		{Name: "shared-waitgroup", Bug: "the seed article's package-level WaitGroup, shared by every fan-out",
			New: seedStyle(sharedWaitGroup), Claims: seedClaims()},
		{Name: "results-by-address", Bug: "outcomes kept in a map by address: an address given twice gets one call's outcome twice",
			New: outcomes(resultsByAddress), Claims: fullClaims()},
		{Name: "shuffles-input", Bug: "the address slice it is given is shuffled in place, to spread load",
			New: outcomes(shufflesInput), Claims: []suites.Option{suites.TimesOut(), suites.HonoursCancel(), suites.AggregatesErrors()}},
		{Name: "cancel-clobbers", Bug: "when ctx ends, every call is reported cancelled, answered ones too",
			New: outcomes(cancelClobbers), Claims: fullClaims()},
		{Name: "dial-no-timeout", Bug: "calls are bounded, but the dial is net.Dial: no timeout, no ctx",
			New: seedStyle(dialNoTimeout), Claims: seedClaims()},
		{Name: "close-on-error", Bug: "the pooled caller closes a shared connection on an error reply, failing others' calls on it",
			New: newPooled(anyErrorBreaks, false), Claims: fullClaims()},
		{Name: "coalesce-by-address", Bug: "concurrent calls to one address are coalesced by address, whatever their args",
			New: newPooled(connBroken, true), Claims: fullClaims()},
		{Name: "racy-counter", Bug: "a count of calls left, decremented without a lock: right results, a data race",
			New: outcomes(racyCounter), Claims: fullClaims()},
		{Name: "kv-replies-in-arrival-order", Bug: "KV.Get: errors kept by index, replies in arrival order: server j's value reported for server i",
			NewGet: gets(arrivalOrder), Claims: fullClaims()},
		{Name: "kv-zero-on-bad-reply", Bug: "KV.Get: a reply that does not decode, or a dropped connection, is an empty value, reported as success",
			NewGet: gets(zeroOnBadReply), Claims: fullClaims()},
		{Name: "kv-next-shard", Bug: "KV.Get: an off-by-one sends the key meant for addrs[i] to addrs[i+1]",
			NewGet: gets(nextShard), Claims: fullClaims()},
	}, append(shapeMutantsA(), shapeMutantsB()...)...)
}

// Find returns the control or mutant called name.
func Find(name string) (Mutant, bool) {
	i := slices.IndexFunc(append(Controls(), All()...), func(m Mutant) bool { return m.Name == name })
	if i < 0 {
		return Mutant{}, false
	}
	return append(Controls(), All()...)[i], true
}

// seedClaims are the claims of the seed-style control: SeedStyle returns
// no error of its own, so it does not aggregate errors.
func seedClaims() []suites.Option {
	return []suites.Option{suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder()}
}

// fullClaims are the claims of the outcomes control.
func fullClaims() []suites.Option { return append(seedClaims(), suites.AggregatesErrors()) }

// seedFunc is a fan-out in the seed article's style, its calls bounded by
// timeout.
type seedFunc func(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc)

// outcomesFunc is a fan-out that returns outcomes, its calls bounded by
// timeout.
type outcomesFunc func(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error)

// seedStyle adapts fn with suites.SeedStyle, for the timeout the suite
// asks for.
func seedStyle(fn seedFunc) func(time.Duration) suites.FanOuter {
	return func(timeout time.Duration) suites.FanOuter {
		return suites.SeedStyle(func(ctx context.Context, addrs []string, args fleet.Args, report suites.ReportFunc) error {
			fn(ctx, timeout, addrs, args, report)
			return nil
		})
	}
}

// outcomes adapts fn with suites.FanOutFunc, for the timeout the suite
// asks for.
func outcomes(fn outcomesFunc) func(time.Duration) suites.FanOuter {
	return func(timeout time.Duration) suites.FanOuter {
		return suites.FanOutFunc(func(ctx context.Context, addrs []string, args fleet.Args) ([]suites.Result, error) {
			return fn(ctx, timeout, addrs, args)
		})
	}
}

// control is the seed-style control: Add before go, Done deferred, one
// bounded call per address.
func control(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := call(ctx, timeout, addr, args)
			report(addr, reply, err)
		}()
	}
	wg.Wait()
}

// fanOut is the outcomes control: each goroutine writes its own slot of a
// slice made up front; the error joins every failed call's, naming its
// address.
func fanOut(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}

// joinErrors joins the errors of the failed outcomes, each prefixed with
// its address.
func joinErrors(out []suites.Result) error {
	var errs []error
	for _, o := range out {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Addr, o.Err))
		}
	}
	return errors.Join(errs...)
}

// call makes one call of Service.Method on a fresh connection, bounded by
// timeout and ctx, and closes the connection.
func call(ctx context.Context, timeout time.Duration, addr string, args fleet.Args) (fleet.Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fleet.Reply{}, dialError(ctx, err)
	}
	client := rpc.NewClient(conn)
	defer client.Close()
	var reply fleet.Reply
	c := client.Go("Service.Method", args, &reply, make(chan *rpc.Call, 1))
	select {
	case <-c.Done:
		return reply, c.Error
	case <-ctx.Done():
		return fleet.Reply{}, ctx.Err()
	}
}

// dialError is err, also ctx's error if the dial timed out at ctx's
// deadline: the dial's own timer may fire just before ctx's does, and
// then it reports an i/o timeout rather than ctx's error.
func dialError(ctx context.Context, err error) error {
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}
