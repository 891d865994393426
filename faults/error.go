package faults

// Error replaces the reply with an error reply carrying Msg.
//
// The client observes an rpc.ServerError whose text is Msg; the connection
// stays usable.
type Error struct {
	Msg string
}

// Kind returns "error".
func (Error) Kind() string { return "error" }

func (e Error) String() string { return "error=" + quoteIfNeeded(e.Msg) }
