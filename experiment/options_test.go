package experiment

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

func TestLeaves(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"one", a, 1},
		{"wrapped", fmt.Errorf("x: %w", a), 1},
		{"joined", errors.Join(a, b, c), 3},
		{"wrapped join", fmt.Errorf("get: %w", errors.Join(a, b)), 2},
		{"nested joins", errors.Join(a, errors.Join(b, c)), 3},
		{"fan-out error", &caller.FanOutError{Calls: 3, Errs: []*caller.CallError{{Err: a}, {Err: b}}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := leaves(tt.err); len(got) != tt.want {
				t.Errorf("leaves(%v) = %d errors %v, want %d", tt.err, len(got), got, tt.want)
			}
		})
	}
}

// small is a scenario of a few rounds, built in code with Backend left
// empty (in process).
func small(strategies ...Strategy) *Scenario {
	return &Scenario{Name: "small", Servers: 4, Seed: 1, Rounds: 10, InFlight: 2, Timeout: 2 * time.Second,
		Strategies: strategies}
}

// A fan-out of the user's runs on a fleet of its own, after the
// strategies, and its errors are counted by kind.
func TestWithFanOut(t *testing.T) {
	sc := small(Strategy{Name: "wait-all"})
	sc.Faults = Plan{faults.MustParse("error=down,servers=0")}
	var calls atomic.Int64
	mine := func(ctx context.Context, addrs []string) error {
		calls.Add(1)
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no deadline")
		}
		var errs []error
		for _, addr := range addrs {
			c, err := rpc.Dial("tcp", addr)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, c.Call("Service.Method", fleet.Args{Name: "mine"}, new(fleet.Reply)))
			c.Close()
		}
		return errors.Join(errs...)
	}
	rep, err := Run(t.Context(), sc, nil, WithFanOut("mine", mine))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Results[0].Strategy != "wait-all" || rep.Results[1].Strategy != "mine" {
		t.Fatalf("results %+v, want wait-all then mine", rep.Results)
	}
	r := rep.Results[1]
	if calls.Load() != 10 || r.Rounds != 10 || r.Succeeded != 0 {
		t.Errorf("mine: %d calls, %d rounds, %d ok; want 10, 10, 0", calls.Load(), r.Rounds, r.Succeeded)
	}
	if got, want := r.Errors, map[string]int{"error-reply": 10}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mine: errors %v, want %v", got, want)
	}
	if r.Calls != 40 || r.Sent != 40 {
		t.Errorf("mine: calls %d, sent %d; want 40 and 40", r.Calls, r.Sent)
	}
}

// Every fan-out's ctx ends at the scenario's timeout: a fan-out that
// waits for it is a timeout.
func TestFanOutTimeout(t *testing.T) {
	sc := small()
	sc.Rounds, sc.Timeout = 2, 50*time.Millisecond
	wait := func(ctx context.Context, addrs []string) error { <-ctx.Done(); return ctx.Err() }
	rep, err := Run(t.Context(), sc, nil, WithFanOut("waits", wait))
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Errors["timeout"] != 2 || r.P50 < 50*time.Millisecond {
		t.Errorf("errors %v, p50 %v; want 2 timeouts of at least 50ms", r.Errors, r.P50)
	}
}

// echo is a user's receiver, registered by WithFleet.
type echo struct{ index int }

type EchoArgs struct{ S string }
type EchoReply struct {
	S     string
	Index int
}

func (e *echo) Echo(a EchoArgs, r *EchoReply) error {
	r.S, r.Index = a.S, e.index
	return nil
}

// The strategies call the user's method, on the user's receiver, with
// faults on that method.
func TestWithCallAndWithFleet(t *testing.T) {
	sc := small(Strategy{Name: "wait-all"}, Strategy{Name: "quorum", Quorum: 3})
	sc.Faults = Plan{faults.MustParse("error=no,method=Echo.Echo,servers=1")}
	rep, err := Run(t.Context(), sc, nil,
		WithFleet(fleet.WithService("Echo", func(i int) any { return &echo{index: i} })),
		WithCall[EchoArgs, EchoReply]("Echo.Echo", EchoArgs{S: "hi"}))
	if err != nil {
		t.Fatal(err)
	}
	all, q := rep.Results[0], rep.Results[1]
	if all.Succeeded != 0 || all.Errors["error-reply"] != 10 {
		t.Errorf("wait-all: %d ok, errors %v; want 0 and 10 error replies from server 1", all.Succeeded, all.Errors)
	}
	if q.Succeeded != 10 {
		t.Errorf("quorum of 3 of 4: %d ok, want 10", q.Succeeded)
	}
}

func TestRunOptionErrors(t *testing.T) {
	nop := func(context.Context, []string) error { return nil }
	tests := []struct {
		name string
		sc   *Scenario
		opts []Option
		want string
	}{
		{"no name", small(Strategy{Name: "a"}), []Option{WithFanOut("", nop)}, "want a name"},
		{"nil fan-out", small(Strategy{Name: "a"}), []Option{WithFanOut("x", nil)}, `"x": want a fan-out, got nil`},
		{"name of a strategy", small(Strategy{Name: "a"}), []Option{WithFanOut("a", nop)}, `fan-out "a": name used twice`},
		{"name twice", small(), []Option{WithFanOut("x", nop), WithFanOut("x", nop)}, `fan-out "x": name used twice`},
		{"nothing to run", small(), nil, "strategies: want at least one strategy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(t.Context(), tt.sc, nil, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// A run of only a fan-out of the user's needs no strategy.
func TestOnlyAFanOut(t *testing.T) {
	sc := small()
	rep, err := Run(t.Context(), sc, nil, WithFanOut("nop", func(context.Context, []string) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Succeeded != 10 {
		t.Errorf("results %+v, want one with 10 ok", rep.Results)
	}
}
