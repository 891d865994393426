package fleet

// Test-only views of an in-process fleet's servers and journal, for this
// package's external tests; users steer a fleet through Fleet's methods.

// Server returns in-process server i.
func (f *Fleet) Server(i int) *server { return f.nodes[i].(localNode).s }

// Journal returns the in-process fleet's live journal.
func (f *Fleet) Journal() *journal { return f.journal }
