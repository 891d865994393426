package inject

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

// Decision is what an Engine decided for one call or connection.
//
// A call's decision has two parts, each decided by the first rule of its
// part that applies: at most one delay (a Delay rule) and at most one
// outcome (a rule of any other call fault: Error, Hang, Drop, Reset,
// Corrupt, Truncate, Throttle, Slice, Crash). Both apply: the outcome
// takes effect once the delay has passed since the request arrived.
// A connection's decision (DecideAccept) has only an outcome, a SlowAccept.
type Decision struct {
	// Call is the server's call (or connection) number since the engine
	// was made or reset, counting from 1.
	Call uint64
	// Rule is the index in the plan of the outcome rule that applied, or -1.
	Rule int
	// Fault is the outcome fault that applies, or nil.
	Fault faults.Fault
	// DelayRule is the index in the plan of the delay rule that applied,
	// or -1.
	DelayRule int
	// Delay is how long after the request arrived the outcome takes
	// effect: drawn by DelayRule for a call, a SlowAccept's D for a
	// connection.
	Delay time.Duration
	// Noise seeds the bytes of a Corrupt fault.
	Noise uint64
}

// Window is a span of time during which a Refuse or Blackhole rule holds.
// A zero End means until the plan is replaced.
type Window struct {
	Start, End time.Time
}

// Engine decides, call by call, which rules of its plan apply on one
// server. Every random draw comes from a PRNG seeded with (seed, server),
// so a server that sees the same calls in the same order makes the same
// decisions.
//
// An Engine is safe for concurrent use. SetFaults replaces the plan
// atomically with respect to Decide: each call is decided wholly under the
// old plan or wholly under the new one.
type Engine struct {
	seed   uint64
	server int
	size   int

	mu      sync.Mutex
	plan    faults.Plan
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

// SetFaults replaces the plan and restarts the targeting counts and clock.
// The caller must not modify p afterwards.
func (e *Engine) SetFaults(p faults.Plan) {
	member := make([]bool, len(p.Rules))
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, r := range p.Rules {
		member[i] = selects(r.Servers, e.seed, e.server, e.size) // under mu: Reseed changes seed and size
	}
	e.plan, e.member = p, member
	e.planN, e.planC, e.planSet = 0, 0, time.Now()
}

// Reseed starts the PRNG afresh from (seed, server), as a new engine's,
// for a fleet of size servers, and restarts the counts as Reset does: a
// server process that a fleet attaches to then decides as a server that
// fleet started would. The plan stays; its servers= rules are picked
// again for the new seed and size.
func (e *Engine) Reseed(seed uint64, size int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seed, e.size = seed, max(size, e.server+1)
	e.rng = rand.New(rand.NewPCG(seed, uint64(e.server)))
	for i, r := range e.plan.Rules {
		e.member[i] = selects(r.Servers, e.seed, e.server, e.size)
	}
	e.calls, e.conns, e.planN, e.planC, e.planSet = 0, 0, 0, 0, time.Now()
}

// Plan returns the current plan.
func (e *Engine) Plan() faults.Plan {
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

// Decide counts a call to method and decides its delay and its outcome:
// the first delay rule and the first outcome rule that apply to it.
//
// The PRNG is consulted in plan order and only by rules that can still
// apply: a rule of a part already decided, a connection fault, a rule for
// other servers and a rule its targeting keys (method, first, after,
// every, from, for) exclude draw nothing. A rule that gets that far rolls
// its p= (one Float64, if p is set and below 1); if it applies, a Delay
// draws its delay (as its distribution needs) and a Corrupt its noise
// (one Uint64). DecideAccept draws likewise, for SlowAccept rules only.
// So the same seed and the same sequence of calls and connections give
// the same decisions.
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

// decide runs the rules in order, drawing as Decide says; e.mu is held.
func (e *Engine) decide(seq, n uint64, method string, accept bool) Decision {
	d := Decision{Call: seq, Rule: -1, DelayRule: -1}
	elapsed := time.Since(e.planSet)
	for i, r := range e.plan.Rules {
		pt := partOf(r.Fault)
		if accept != (pt == partAccept) || pt == partNone || !e.member[i] {
			continue
		}
		if pt == partDelay && d.DelayRule >= 0 || pt != partDelay && d.Rule >= 0 {
			continue // this part is decided
		}
		if !lets(r, n, method, elapsed) {
			continue
		}
		// Roll last, so the draws depend only on the calls the other keys
		// let through.
		if r.P != 0 && r.P < 1 && e.rng.Float64() >= r.P {
			continue
		}
		switch f := r.Fault.(type) {
		case faults.Delay:
			d.DelayRule, d.Delay = i, draw(f, e.rng)
		case faults.SlowAccept:
			d.Rule, d.Fault, d.Delay = i, f, f.D
		case faults.Corrupt:
			d.Rule, d.Fault, d.Noise = i, f, e.rng.Uint64()
		default:
			d.Rule, d.Fault = i, f
		}
		if d.Rule >= 0 && (accept || d.DelayRule >= 0) {
			break
		}
	}
	return d
}

// Refusals returns the windows during which this server must refuse
// connections under the current plan: in time order, overlapping windows
// merged, windows already over left out.
func (e *Engine) Refusals() []Window {
	return e.windows(func(f faults.Fault) bool { _, ok := f.(faults.Refuse); return ok })
}

// Blackholes returns the windows during which this server must be a
// blackhole under the current plan, as Refusals does for Refuse.
func (e *Engine) Blackholes() []Window {
	return e.windows(func(f faults.Fault) bool { _, ok := f.(faults.Blackhole); return ok })
}

// windows returns the merged windows of the rules of this server whose
// fault is picked by kind.
func (e *Engine) windows(kind func(faults.Fault) bool) []Window {
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

// part is the part of a decision a rule competes for: the first rule of
// each part that applies wins, and rules of different parts never compete.
// Parse holds plans to the same parts when it rejects a rule that can
// never apply.
type part int

const (
	partOutcome part = iota // call faults other than Delay: what the reply becomes
	partDelay               // Delay: when the outcome takes effect
	partAccept              // SlowAccept: per connection
	partNone                // Refuse, Blackhole: windows, every one of which holds
)

// partOf returns the part f competes for.
func partOf(f faults.Fault) part {
	switch f.(type) {
	case faults.Delay:
		return partDelay
	case faults.SlowAccept:
		return partAccept
	case faults.Refuse, faults.Blackhole:
		return partNone
	}
	return partOutcome
}

// lets reports whether the targeting keys of r other than servers and p
// let through call (or connection) n to method, elapsed after the plan was
// set.
func lets(r faults.Rule, n uint64, method string, elapsed time.Duration) bool {
	return (r.Method == "" || r.Method == method) &&
		(r.First == 0 || n <= r.First) &&
		(r.After == 0 || n > r.After) &&
		(r.Every == 0 || n%r.Every == 0) &&
		elapsed >= r.From &&
		(r.For == 0 || elapsed-r.From < r.For)
}

// selects reports whether s selects server index of a fleet of size with
// the given seed. With Percent, the same seed picks the same servers in
// every process, and a larger share includes a smaller one.
func selects(s faults.Servers, seed uint64, index, size int) bool {
	if s.Percent != 0 {
		k := int(s.Percent/100*float64(size) + 0.5)
		perm := rand.New(rand.NewPCG(seed, 0x5e1ec7)).Perm(size)
		return slices.Contains(perm[:min(k, size)], index)
	}
	if len(s.Spans) == 0 {
		return true // the zero Servers: every server
	}
	return slices.ContainsFunc(s.Spans, func(sp faults.Span) bool { return sp.Lo <= index && index <= sp.Hi })
}

// draw picks one call's delay from d's distribution.
func draw(d faults.Delay, rng *rand.Rand) time.Duration {
	var v float64
	switch d.Dist {
	case "", "fixed":
		v = float64(d.D)
		if d.Jitter > 0 {
			v += (2*rng.Float64() - 1) * float64(d.Jitter)
		}
	case "uniform":
		v = float64(d.Min) + rng.Float64()*float64(d.Max-d.Min)
	case "normal":
		v = float64(d.Mean) + rng.NormFloat64()*float64(d.StdDev)
	case "lognormal":
		v = float64(d.Median) * math.Exp(d.Sigma*rng.NormFloat64())
	case "exponential":
		v = rng.ExpFloat64() * float64(d.Mean)
	case "pareto":
		v = float64(d.Scale) / math.Pow(1-rng.Float64(), 1/d.Shape)
	}
	if d.Cap > 0 && v > float64(d.Cap) {
		v = float64(d.Cap)
	}
	switch {
	case !(v < math.MaxInt64): // too long, +Inf or NaN
		return math.MaxInt64
	case v < 0:
		return 0
	}
	return time.Duration(v)
}
