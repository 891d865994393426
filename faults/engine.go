package faults

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Decision is what an Engine decided for one call.
type Decision struct {
	// Call is the server's call number, counting from 1.
	Call uint64
	// Rule is the index in the plan of the rule that applied, or -1.
	Rule int
	// Fault is the fault that applies, or nil.
	Fault Fault
	// Delay is the drawn delay when Fault is a Delay.
	Delay time.Duration
}

// Engine decides, call by call, which rule of its plan applies. Every random
// draw comes from a PRNG seeded with (seed, server), so a server that sees
// the same calls in the same order makes the same decisions.
//
// An Engine is safe for concurrent use; SetPlan replaces the plan
// atomically with respect to Decide, so no call sees half a plan.
type Engine struct {
	mu    sync.Mutex
	plan  Plan
	rng   *rand.Rand
	calls uint64
}

// NewEngine returns an engine with an empty plan for the given seed and
// server index.
func NewEngine(seed uint64, server int) *Engine {
	return &Engine{rng: rand.New(rand.NewPCG(seed, uint64(server)))}
}

// SetPlan replaces the plan. The caller must not modify p afterwards.
func (e *Engine) SetPlan(p Plan) {
	e.mu.Lock()
	e.plan = p
	e.mu.Unlock()
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

// Reset restarts the call count. The PRNG goes on where it was.
func (e *Engine) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = 0
}

// Decide counts a call to method and picks the rule that applies to it.
func (e *Engine) Decide(method string) Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	d := Decision{Call: e.calls, Rule: -1}
	for i, r := range e.plan.Rules {
		if r.P != 0 && r.P < 1 && e.rng.Float64() >= r.P {
			continue
		}
		d.Rule, d.Fault = i, r.Fault
		if dl, ok := r.Fault.(Delay); ok {
			d.Delay = dl.draw(e.rng)
		}
		break
	}
	return d
}
