package fleet

import (
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// Option configures Start by editing the driver.Config it passes to the
// backend.
type Option func(*driver.Config)

// defaults is the Config the options edit.
func defaults() driver.Config {
	return driver.Config{Servers: 3, Seed: 1, Host: "127.0.0.1"}
}

// WithServers sets how many servers to start (default 3).
func WithServers(n int) Option { return func(c *driver.Config) { c.Servers = n } }

// WithBasePort makes server i listen on 127.0.0.1:port+i instead of an
// ephemeral port.
func WithBasePort(port int) Option { return func(c *driver.Config) { c.BasePort = port } }

// WithSeed seeds every fault decision (default 1). Server i draws from a PRNG
// seeded with (seed, i), so a run can be replayed; pass GinkgoRandomSeed()
// to tie a fleet to a Ginkgo run's --seed.
func WithSeed(seed uint64) Option { return func(c *driver.Config) { c.Seed = seed } }

// WithFaults sets the fault plan every server starts with.
func WithFaults(p faults.Plan) Option { return func(c *driver.Config) { c.Faults = p } }

// WithHost sets the interface the servers listen on (default 127.0.0.1).
// Only a server inside a container needs another, such as 0.0.0.0.
func WithHost(host string) Option { return func(c *driver.Config) { c.Host = host } }

// WithFirstIndex numbers the servers from i instead of 0: server k of the
// fleet reports, journals and seeds its faults as server i+k. A process
// that serves one member of a larger fleet uses it.
func WithFirstIndex(i int) Option { return func(c *driver.Config) { c.FirstIndex = i } }

// WithControl gives every server a control port serving the "Control"
// net/rpc service, through which other processes steer it (the container
// backend does). Server i's control port is basePort+i, or ephemeral when
// basePort is 0.
func WithControl(basePort int) Option {
	return func(c *driver.Config) { c.Control, c.ControlBasePort = true, basePort }
}

// WithFleetID names the fleet in every server's control Health reply,
// from the start, so that a client can tell the servers of its fleet from
// another fleet's on a reused port (rpcfleet serve --fleet-id). In-process
// fleets only: a container fleet names itself.
func WithFleetID(id string) Option { return func(c *driver.Config) { c.FleetID = id } }

// WithFleetSize tells a process that serves part of a larger fleet (see
// WithFirstIndex) how large the whole fleet is, so that fault rules
// targeting a share of it (servers=10%) pick the same servers everywhere.
func WithFleetSize(n int) Option { return func(c *driver.Config) { c.FleetSize = n } }

// WithBackend runs the servers on b instead of in this process, e.g. as
// Docker containers (package fleet/container). Options that b cannot
// honour make Start fail.
func WithBackend(b driver.Backend) Option { return func(c *driver.Config) { c.Backend = b } }

// WithJournalLimit bounds the journal of a long-running fleet (a server
// process, an experiment): it keeps at least the last n calls and forgets
// older ones a page of 1,024 calls at a time, so it holds fewer than
// n+1,024 (per server on backends whose servers keep their own journals).
// A call forgotten while in flight is not recorded when it ends, as after
// ResetCalls. 0, the default, keeps every call, as specs need.
func WithJournalLimit(n int) Option { return func(c *driver.Config) { c.JournalLimit = n } }

// WithService registers, on every server, a receiver of your own type
// under name, as rpc.RegisterName does: newRcvr(i) makes server i's
// instance, so each server can hold its own state (a shard, say). It
// serves beside the default Service, or instead of it when name is
// "Service". Every fault, every targeting key (method=KV.Get), the journal
// and the control plane apply to its methods as to Service.Method. Start
// fails, naming it, if net/rpc refuses it (no suitable methods, a name
// given twice). The container backend runs only its image's own services:
// build an image of your own server main (package fleet/serve).
func WithService(name string, newRcvr func(index int) any) Option {
	return func(c *driver.Config) { c.Services = append(c.Services, driver.Service{Name: name, New: newRcvr}) }
}

// WithUnixSockets makes server i listen on the unix socket
// dir/server-i.sock instead of TCP; Addrs names the socket paths, which
// clients dial on network "unix" (the reference caller dials any address
// holding a '/' so). A stale socket file at such a path is removed first.
// A killed or disconnected server's socket file stays, refusing dials as a
// down TCP server's port does, until it is back; Stop removes every one.
// In process only; control ports stay on TCP.
func WithUnixSockets(dir string) Option { return func(c *driver.Config) { c.UnixDir = dir } }

// WithMemory makes the servers listen on an in-memory network of the
// fleet's own instead of TCP: no sockets and no file descriptors, so a
// fleet can have up to MaxMemoryServers servers, and no I/O a
// testing/synctest bubble cannot see into, so a fleet started inside
// synctest.Test runs in its virtual time. Addrs are addresses on that
// network ("mem-1a2b3c4d:7" is server 7), reached only through the
// fleet's Dial: give it to the reference caller as
// caller.WithDialer(f.Dial). Every fault applies, and every lifecycle
// method works (see the README's table of the transports' differences).
// In process only, and not with WithUnixSockets, WithBasePort or
// WithControl (other processes cannot reach the network).
func WithMemory() Option { return func(c *driver.Config) { c.Memory = true } }

// WithHandshakeTimeout sets how long a new connection, to a data or a
// control port, may take to show which protocol it speaks (its first
// bytes; the whole HTTP CONNECT handshake) and to send its first request
// before the server closes it (default DefaultHandshakeTimeout), so a
// client that sends nothing or half a handshake holds nothing for long.
func WithHandshakeTimeout(d time.Duration) Option {
	return func(c *driver.Config) { c.HandshakeTimeout = d }
}

// WithIdleTimeout closes a connection, to a data or a control port, on
// which nothing arrived for d while none of its calls was in flight, and
// one whose request takes longer than d to arrive (default
// DefaultIdleTimeout; a hung call does not keep its connection busy). A
// net/rpc client does not redial: its next call on a closed connection
// fails, so keep d above the longest pause of a client you test.
func WithIdleTimeout(d time.Duration) Option { return func(c *driver.Config) { c.IdleTimeout = d } }

// WithMaxRequestSize bounds one request, in bytes (default
// DefaultMaxRequestSize, as a gRPC server's receive limit): a gob message
// claiming more is refused before anything of it is read or held, and a
// JSON-RPC request is cut once it exceeds n. The server records the call
// as aborted ("request of N bytes or more, over the limit"; its method
// only if its header was read) and closes the connection. It applies to
// control ports too.
func WithMaxRequestSize(n int) Option { return func(c *driver.Config) { c.MaxRequestSize = n } }

// WithMaxInFlight bounds the calls of one connection a server serves at
// once (default DefaultMaxInFlight, as a gRPC server's concurrent-stream
// cap): with n calls in flight, from their request to their reply's
// write, it reads nothing more from that connection until a reply is
// written. A client that pipelines requests and never reads a reply so
// holds at most n calls' goroutines. It applies to control ports too.
func WithMaxInFlight(n int) Option { return func(c *driver.Config) { c.MaxInFlight = n } }

// WithControlKill makes a control call to Kill (driver.ControlClient.Kill)
// call fn with the server's index once the server is down. rpcfleet serve
// passes a function that makes the process exit with serve.ExitKilled, so
// that its orchestrator's restart policy brings it back, as a process
// killed by a signal would be. fn must return promptly; it runs on the
// control call's goroutine.
func WithControlKill(fn func(index int)) Option { return func(c *driver.Config) { c.ControlKill = fn } }

// WithClockSkew shifts every server's clock by d: the journal's Received
// and Replied times and the control endpoint's Now read d later than this
// host's clock, as on a host whose clock is d ahead. It is the test hook
// for code that merges the journals of several hosts (package
// fleet/attach estimates each server's offset): rpcfleet serve
// --clock-skew. In process, Fleet.Calls returns the shifted times as
// recorded.
func WithClockSkew(d time.Duration) Option { return func(c *driver.Config) { c.ClockSkew = d } }

// WithControlToken makes every server's control endpoint (WithControl)
// refuse a call that does not carry token, compared in constant time;
// driver.DialControl's WithToken gives it. Without a token a control
// endpoint may only listen on loopback: Start refuses WithControl on
// another WithHost. A backend that steers its servers through their
// control ports passes the token on to them (the container backend draws
// a random one when none is given).
func WithControlToken(token string) Option { return func(c *driver.Config) { c.ControlToken = token } }
