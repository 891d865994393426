package wire

// The argument and reply types of the control protocol ("Control", see
// fleet/driver.ControlClient) that only its two ends use: the server in
// package fleet and the client in package fleet/driver. net/rpc requires
// exported (or builtin) types for a method's argument and reply.

// FaultsArgs is the argument of Control.SetFaults: a plan in text form,
// and the control token.
type FaultsArgs struct {
	Plan  string
	Token string
}

// Auth is the argument of the Control methods that take nothing but the
// control token ("" when the server has none).
type Auth struct{ Token string }

// JournalReply is the reply of Control.Journal. C is driver.Call: the
// type parameter keeps this package free of imports, since fleet/driver
// imports it. The encoding is that of a struct{ Calls []driver.Call }.
type JournalReply[C any] struct{ Calls []C }

// Empty is the reply of Control methods that return nothing.
type Empty struct{}

// ReseedArgs is the argument of Control.Reseed: the seed and fleet size
// the server's fault decisions start afresh from, and the control token.
type ReseedArgs struct {
	Seed      uint64
	FleetSize int
	Token     string
}

// RenewArgs is the argument of Control.Renew: what the renewed server
// is, its plan in text form, and the control token.
type RenewArgs struct {
	Seed      uint64
	FleetSize int
	FleetID   string
	Plan      string
	Token     string
}
