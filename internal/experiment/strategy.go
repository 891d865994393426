package experiment

import (
	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// callerOptions turns a strategy into the reference caller's options.
func callerOptions(sc *Scenario, st Strategy) []caller.Option {
	timeout := sc.Timeout
	if st.Timeout > 0 {
		timeout = st.Timeout
	}
	return []caller.Option{caller.WithTimeout(timeout)}
}

// sent is the number of calls a result cost.
func sent(r caller.Result[fleet.Reply]) int { return 1 }
