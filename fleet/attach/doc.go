// Package attach is a fleet backend over servers that something else
// started: `rpcfleet serve` processes, or a server main of your own on
// package fleet/serve, run by an orchestrator (Docker Swarm, Kubernetes,
// Compose, systemd) or by hand, each with its control port. It does not
// start or stop a server process; it finds the servers, checks them and
// steers them through their control ports, behind the one *fleet.Fleet:
//
//	src := attach.DNS(nil, "rpcfleet.default.svc.cluster.local", 7001) // or attach.Addrs(...), attach.SRV(...)
//	f, err := fleet.Start(ctx, fleet.WithServers(20), fleet.WithControlToken(token),
//		fleet.WithBackend(attach.New(src)))
//	...
//	defer f.Stop(ctx) // detaches: faults cleared, servers left serving
//
// Start looks the servers up (a list of control addresses, or the A or SRV
// records of a headless Service or a dnsrr service), checks that each one
// answers Health with the fleet id (WithFleetID, or the one they all
// report) and an index, and waits until servers FirstIndex to
// FirstIndex+Servers-1 all serve, ordered by index. A server beyond loopback
// is steered only with the control token (WithControlToken). Attaching
// takes the servers over as a fresh fleet: each one's fault decisions
// start afresh from the fleet's seed and size (Control.Reseed), its
// journal is emptied and it gets the fleet's plan.
//
// Every Fleet method works through the control ports. Kill makes the
// server go down at once; an `rpcfleet serve` process then exits with
// serve.ExitKilled for its orchestrator's restart policy to bring it back.
// Restart waits until the server answers again (looking it up afresh: a
// replaced container or pod has a new address), then gives it the
// fleet's seed and plan; a server that crashed (a crash fault) or was
// killed in a process that stayed up is restarted through its control
// port. Pause, Unpause, Disconnect, Reconnect and Release are the
// in-process server's, inside the server's process. OpenConns is unsupported.
//
// Journals come from each server's control port. A server on another
// host keeps another clock: the backend estimates each server's clock
// offset by round-trip bracketing (Cristian's algorithm, NTP's
// minimum-delay filter: the server read its clock within the fastest of
// several round trips, so its offset is known to within half that round
// trip), corrects the server's Received and Replied times by it, and
// states the uncertainty on every call (fleet.Call.Uncertainty) and in
// Fleet.Clock. A server whose Health names this process's clock
// (driver.Health.ClockID: the same kernel) needs no estimate: its times
// are exact. Fleet.Calls merges the journals by corrected times; the
// matchers of suites/matchers that compare two servers' times say
// "cannot tell" when the uncertainty exceeds the gap.
//
// The journal of a killed server process is read just before the Kill
// and kept; the process that replaces it starts with an empty one.
package attach
