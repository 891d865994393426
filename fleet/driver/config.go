package driver

import (
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

// Config is what fleet.Start passes to a Backend: fleet's options (each
// an edit of a Config, named in the comments below), applied in order to
// the defaults (3 servers on 127.0.0.1, ephemeral ports, seed 1, no
// faults, no control port, a journal that keeps every call, in process).
// fleet.Start checks it; backends reject what they cannot honour.
type Config struct {
	Servers    int         // how many servers, at least 1 (WithServers)
	FirstIndex int         // index of the first server (WithFirstIndex)
	FleetSize  int         // size of the whole fleet, when larger (WithFleetSize)
	Seed       uint64      // seed of every fault decision (WithSeed)
	Faults     faults.Plan // every server's plan at start (WithFaults)

	Host            string // interface to listen on (WithHost)
	BasePort        int    // 0: ephemeral ports (WithBasePort)
	Control         bool   // serve the control endpoint (WithControl)
	ControlBasePort int    // 0: ephemeral control ports (WithControl)
	FleetID         string // reported by the control endpoint's Health (WithFleetID)

	JournalLimit int // keep about this many recent calls; 0: all (WithJournalLimit)

	Services []Service // receivers of the user's own types, on every server (WithService)
	UnixDir  string    // listen on unix sockets in this directory, not TCP (WithUnixSockets)
	Memory   bool      // listen on an in-memory network of the fleet's own, not TCP (WithMemory)

	HandshakeTimeout time.Duration // a new connection shows its protocol and first request within this (WithHandshakeTimeout)
	IdleTimeout      time.Duration // close a connection quiet this long with no call in flight (WithIdleTimeout)
	MaxRequestSize   int           // bytes of one request; a connection sending more is closed (WithMaxRequestSize)
	MaxInFlight      int           // calls of one connection served at once; then reads wait (WithMaxInFlight)

	// ControlToken is the shared secret every control call must carry
	// (WithControlToken); "" for none, which only a control endpoint on
	// loopback may have. A backend that steers its servers through their
	// control ports passes it on to them and uses it in its own calls.
	ControlToken string

	// ControlKill is called, with the server's index, when a control call
	// killed a server (WithControlKill); nil: the server stays down until
	// Restart, as after Fleet.Kill.
	ControlKill func(index int)

	// ClockSkew shifts every server's clock, that of its journal and of
	// its control endpoint's Now, as a host whose clock is off would
	// (WithClockSkew).
	ClockSkew time.Duration

	Backend Backend // runs the servers; nil: in this process (WithBackend)
}

// Service is a receiver of the user's own type that every server
// registers under Name (fleet.WithService): New(i) makes server i's
// instance. A backend that cannot run the user's code rejects it.
type Service struct {
	Name string
	New  func(index int) any
}
