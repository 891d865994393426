package driver

import (
	"context"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"strings"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/internal/wire"
)

// The control protocol: every server started with fleet.WithControl (or
// rpcfleet serve --control-port) serves the net/rpc service "Control" on
// a port of its own, beside its data port. Backends steer servers they
// cannot reach in memory (other processes, containers) through it;
// ControlClient is its Go client. Its argument and reply types other than
// Health are internal/wire's.

// Health is the reply of Control.Health.
type Health struct {
	Index int    // the server's index in its fleet
	Addr  string // the data address as the server sees it
	Up    bool   // accepting connections
	Calls uint64 // calls received since start or the last reset
	Plan  string // the current fault plan, in text form

	// FleetID names the fleet the server belongs to, as its starter set
	// it (fleet.WithFleetID; rpcfleet serve --fleet-id), or "". With Index it
	// tells a fleet's server from another fleet's server of the same
	// index that a stale address may reach.
	FleetID string

	// Since is when the server's control endpoint began to serve, by the
	// server's clock: a server process that an orchestrator restarted
	// reports a new one, so it tells the process that was killed from
	// the one that replaced it.
	Since time.Time

	// State is the server's lifecycle state: "up", "down" (killed or
	// crashed, its process still running), "paused" or "disconnected".
	State string

	// ClockID names the clock the server's times come from: the boot id
	// of its host's kernel (Linux), or "" when unknown or when the server
	// runs with a clock skew (fleet.WithClockSkew). A reader whose
	// LocalClockID is the same shares the server's clock exactly, and
	// needs no estimate of its offset.
	ClockID string

	// KillExits says that a Kill through the control port ends the
	// server's process (rpcfleet serve, fleet.WithControlKill): the
	// server comes back only as a new process, which its orchestrator
	// starts. Otherwise a killed server stays down in its process until
	// Restart.
	KillExits bool
}

// LocalClockID returns the ClockID of this process's clock: the boot id
// of the kernel it runs on (every container of a host shares it), or ""
// where it cannot be read.
func LocalClockID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// ControlClient steers one server through its control port. It is safe for
// concurrent use; the caller must Close it.
type ControlClient struct {
	c     *rpc.Client
	token string
}

// DialOption configures DialControl.
type DialOption func(*ControlClient)

// WithToken makes every call carry the control token the server was
// started with (fleet.WithControlToken; rpcfleet serve --control-token or
// RPCFLEET_CONTROL_TOKEN). A server with a token refuses calls without it.
func WithToken(token string) DialOption { return func(c *ControlClient) { c.token = token } }

// DialControl connects to the control port at addr.
func DialControl(ctx context.Context, addr string, opts ...DialOption) (*ControlClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fleet: control %s: %w", addr, err)
	}
	c := &ControlClient{c: rpc.NewClient(conn)}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// auth is the argument of the calls that take only the token.
func (c *ControlClient) auth() wire.Auth { return wire.Auth{Token: c.token} }

// Close closes the connection.
func (c *ControlClient) Close() error { return c.c.Close() }

func (c *ControlClient) call(ctx context.Context, method string, args, reply any) error {
	call := c.c.Go("Control."+method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil {
			return fmt.Errorf("fleet: control %s: %w", method, call.Error)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("fleet: control %s: %w", method, ctx.Err())
	}
}

// SetFaults replaces the server's plan.
func (c *ControlClient) SetFaults(ctx context.Context, p faults.Plan) error {
	return c.call(ctx, "SetFaults", wire.FaultsArgs{Plan: p.String(), Token: c.token}, &wire.Empty{})
}

// ClearFaults removes the server's faults.
func (c *ControlClient) ClearFaults(ctx context.Context) error {
	return c.call(ctx, "ClearFaults", c.auth(), &wire.Empty{})
}

// Journal returns the calls the server received.
func (c *ControlClient) Journal(ctx context.Context) ([]Call, error) {
	var r wire.JournalReply[Call]
	if err := c.call(ctx, "Journal", c.auth(), &r); err != nil {
		return nil, err // a late reply may still be decoded into r
	}
	return r.Calls, nil
}

// Reset forgets the server's journal and restarts its call counters.
func (c *ControlClient) Reset(ctx context.Context) error {
	return c.call(ctx, "Reset", c.auth(), &wire.Empty{})
}

// Renewal is what Renew makes a server: a new one with this seed, in a
// fleet of this size, reporting this fleet id, under this plan.
type Renewal struct {
	Seed      uint64
	FleetSize int
	FleetID   string
	Faults    faults.Plan
}

// Renew makes the server what a new one with r's settings would be, on
// the same ports: its connections close and calls in flight end, its
// journal and counts start again, the PRNG of its fault decisions starts
// from r.Seed, its receivers are new instances, and it serves again, up,
// under r.Faults (a server that a crash fault took down comes back). A
// server with a process of its own (rpcfleet serve --count 1, as in a
// container) is then indistinguishable from a new process but for its
// ports and the IDs of its journal's calls, which fleet.Fleet renumbers.
func (c *ControlClient) Renew(ctx context.Context, r Renewal) error {
	return c.call(ctx, "Renew", wire.RenewArgs{Seed: r.Seed, FleetSize: r.FleetSize, FleetID: r.FleetID, Plan: r.Faults.String(), Token: c.token}, &wire.Empty{})
}

// Health reports the server's state; a nil error means it is serving.
func (c *ControlClient) Health(ctx context.Context) (Health, error) {
	var h Health
	if err := c.call(ctx, "Health", c.auth(), &h); err != nil {
		return Health{}, err // a late reply may still be decoded into h
	}
	return h, nil
}

// Kill takes the server down at once, as Fleet.Kill does: a server
// process started to be killed through its control port (rpcfleet serve)
// exits with a code of its own (serve.ExitKilled) for its orchestrator to
// restart it, so the reply may not arrive; any other server stays down
// until Restart.
func (c *ControlClient) Kill(ctx context.Context) error {
	return c.call(ctx, "Kill", c.auth(), &wire.Empty{})
}

// Restart brings a server that is down in its process (killed without
// exiting, or crashed by a crash fault) back on its address.
func (c *ControlClient) Restart(ctx context.Context) error {
	return c.call(ctx, "Restart", c.auth(), &wire.Empty{})
}

// Pause freezes the server as Fleet.Pause does; its control port still answers.
func (c *ControlClient) Pause(ctx context.Context) error {
	return c.call(ctx, "Pause", c.auth(), &wire.Empty{})
}

// Unpause lets a paused server go on.
func (c *ControlClient) Unpause(ctx context.Context) error {
	return c.call(ctx, "Unpause", c.auth(), &wire.Empty{})
}

// Disconnect cuts the server's data port off as Fleet.Disconnect does; its
// control port still answers.
func (c *ControlClient) Disconnect(ctx context.Context) error {
	return c.call(ctx, "Disconnect", c.auth(), &wire.Empty{})
}

// Reconnect ends a Disconnect.
func (c *ControlClient) Reconnect(ctx context.Context) error {
	return c.call(ctx, "Reconnect", c.auth(), &wire.Empty{})
}

// Reseed starts the server's fault decisions afresh from seed, for a fleet
// of fleetSize servers, as if it had been started so: its PRNG, call
// counts and servers= picks. Its plan and journal stay.
func (c *ControlClient) Reseed(ctx context.Context, seed uint64, fleetSize int) error {
	return c.call(ctx, "Reseed", wire.ReseedArgs{Seed: seed, FleetSize: fleetSize, Token: c.token}, &wire.Empty{})
}

// Now reads the server's clock: the time the journal's Received and
// Replied times are taken from. A round trip brackets it (see
// package fleet/attach, which estimates a server's clock offset from it).
func (c *ControlClient) Now(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := c.call(ctx, "Now", c.auth(), &t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// Release sends the replies the server holds for a Hold fault and
// returns once they are written (see fleet.Fleet.Release).
func (c *ControlClient) Release(ctx context.Context) error {
	return c.call(ctx, "Release", c.auth(), &wire.Empty{})
}
