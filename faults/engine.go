package faults

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Decision is what an Engine decided for one call or connection.
type Decision struct {
	// Call is the server's call (or connection) number since the engine
	// was made or reset, counting from 1.
	Call uint64
	// Rule is the index in the plan of the rule that applied, or -1.
	Rule int
	// Fault is the fault that applies, or nil.
	Fault Fault
	// Delay is the drawn delay for Delay and SlowAccept faults.
	Delay time.Duration
	// Noise seeds the bytes of a Corrupt fault.
	Noise uint64
}

// Window is a span of time during which a Refuse or Blackhole rule holds.
// A zero End means until the plan is replaced.
type Window struct {
	Start, End time.Time
}

// Engine decides, call by call, which rule of its plan applies on one
// server. Every random draw comes from a PRNG seeded with (seed, server),
// so a server that sees the same calls in the same order makes the same
// decisions.
//
// An Engine is safe for concurrent use. SetPlan replaces the plan
// atomically with respect to Decide: each call is decided wholly under the
// old plan or wholly under the new one.
type Engine struct {
	seed   uint64
	server int
	size   int

	mu      sync.Mutex
	plan    Plan
	member  []bool // per rule: does it target this server
	rng     *rand.Rand
	calls   uint64    // since start or Reset: Decision.Call
	conns   uint64    // connections, likewise
	planN   uint64    // calls since the plan was set or Reset: targeting counts
	planC   uint64    // connections, likewise
	planSet time.Time // targeting times count from here
}

// NewEngine returns an engine with an empty plan for server index of a
// fleet of size servers, drawing from seed.
func NewEngine(seed uint64, server, size int) *Engine {
	return &Engine{
		seed: seed, server: server, size: max(size, server+1),
		rng:     rand.New(rand.NewPCG(seed, uint64(server))),
		planSet: time.Now(),
	}
}

// SetPlan replaces the plan and restarts the targeting counts and clock.
// The caller must not modify p afterwards.
func (e *Engine) SetPlan(p Plan) {
	member := make([]bool, len(p.Rules))
	for i, r := range p.Rules {
		member[i] = r.Servers.Has(e.seed, e.server, e.size)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.plan, e.member = p, member
	e.planN, e.planC, e.planSet = 0, 0, time.Now()
}

// Plan returns the current plan.
func (e *Engine) Plan() Plan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.plan
}

// Calls returns how many calls the engine has decided since it was made or
// last Reset.
func (e *Engine) Calls() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

// Reset restarts the call and connection counts, and the targeting counts
// and clock. The PRNG goes on where it was.
func (e *Engine) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls, e.conns, e.planN, e.planC, e.planSet = 0, 0, 0, 0, time.Now()
}

// Decide counts a call to method and picks the first rule that applies to
// it among the call faults.
func (e *Engine) Decide(method string) Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	e.planN++
	return e.decide(e.calls, e.planN, method, false)
}

// DecideAccept counts a new connection and picks the first SlowAccept rule
// that applies to it.
func (e *Engine) DecideAccept() Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.conns++
	e.planC++
	return e.decide(e.conns, e.planC, "", true)
}

// decide runs the rules in order; e.mu is held.
func (e *Engine) decide(seq, n uint64, method string, accept bool) Decision {
	d := Decision{Call: seq, Rule: -1}
	elapsed := time.Since(e.planSet)
	for i, r := range e.plan.Rules {
		_, slow := r.Fault.(SlowAccept)
		if slow != accept || !e.member[i] {
			continue
		}
		switch r.Fault.(type) {
		case Refuse, Blackhole:
			continue
		}
		if r.Method != "" && r.Method != method ||
			r.First > 0 && n > r.First ||
			r.After > 0 && n <= r.After ||
			r.Every > 0 && n%r.Every != 0 ||
			elapsed < r.From ||
			r.For > 0 && elapsed >= r.From+r.For {
			continue
		}
		// Roll last, so the draws depend only on the calls the other keys
		// let through.
		if r.P != 0 && r.P < 1 && e.rng.Float64() >= r.P {
			continue
		}
		d.Rule, d.Fault = i, r.Fault
		switch f := r.Fault.(type) {
		case Delay:
			d.Delay = f.draw(e.rng)
		case SlowAccept:
			d.Delay = f.D
		case Corrupt:
			d.Noise = e.rng.Uint64()
		}
		break
	}
	return d
}

// Refusals returns the windows during which this server must refuse
// connections under the current plan: in time order, overlapping windows
// merged, windows already over left out.
func (e *Engine) Refusals() []Window {
	return e.windows(func(f Fault) bool { _, ok := f.(Refuse); return ok })
}

// Blackholes returns the windows during which this server must be a
// blackhole under the current plan, as Refusals does for Refuse.
func (e *Engine) Blackholes() []Window {
	return e.windows(func(f Fault) bool { _, ok := f.(Blackhole); return ok })
}

// windows returns the merged windows of the rules of this server whose
// fault is picked by kind.
func (e *Engine) windows(kind func(Fault) bool) []Window {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	var ws []Window
	for i, r := range e.plan.Rules {
		if !kind(r.Fault) || !e.member[i] {
			continue
		}
		w := Window{Start: e.planSet.Add(r.From)}
		if r.For > 0 {
			w.End = w.Start.Add(r.For)
			if !w.End.After(now) {
				continue
			}
		}
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b Window) int { return a.Start.Compare(b.Start) })
	var merged []Window
	for _, w := range ws {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if last.End.IsZero() {
				break // holds until the plan changes: nothing after matters
			}
			if !w.Start.After(last.End) {
				if w.End.IsZero() || w.End.After(last.End) {
					last.End = w.End
				}
				continue
			}
		}
		merged = append(merged, w)
	}
	return merged
}
