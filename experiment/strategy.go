package experiment

import (
	"github.com/rpcfleet/rpcfleet/caller"
)

// callerOptions turns a strategy into the reference caller's options. A
// budget is made per strategy run, so strategies do not share tokens.
func callerOptions(sc *Scenario, st Strategy) []caller.Option {
	timeout := sc.Timeout
	if st.Timeout > 0 {
		timeout = st.Timeout
	}
	opts := []caller.Option{caller.WithTimeout(timeout)}
	if st.FailFast {
		opts = append(opts, caller.WithFailFast())
	}
	if st.Quorum > 0 {
		opts = append(opts, caller.WithQuorum(st.Quorum))
	}
	if st.Concurrency > 0 {
		opts = append(opts, caller.WithConcurrency(st.Concurrency))
	}
	if h := st.Hedge; h != nil {
		if h.Quantile > 0 {
			opts = append(opts, caller.WithHedgeQuantile(h.Quantile, h.Max))
		} else {
			opts = append(opts, caller.WithHedge(h.After, h.Max))
		}
	}
	if r := st.Retry; r != nil {
		opts = append(opts, caller.WithRetry(r.Attempts, r.Base, r.Cap))
	}
	if b := st.Budget; b != nil {
		opts = append(opts, caller.WithBudget(caller.NewBudget(b.Tokens, b.Ratio)))
	}
	return opts
}
