// Package container runs a fleet's servers as Docker containers, one
// server per container, through testcontainers-go:
//
//	b := container.New("rpcfleet:dev")
//	f, err := fleet.Start(ctx, fleet.WithServers(5), fleet.WithBackend(b))
//	...
//	defer f.Stop(ctx) // returns when every container and the network are removed
//
// Every container runs `rpcfleet serve` on fixed in-container ports (data
// 7000, control 7001), published on 127.0.0.1 only, on ephemeral host
// ports. The backend steers a server through its control port: faults at
// start and at runtime, its journal, and the health check that decides a
// container is ready (the image is FROM scratch: there is no shell to run
// a check inside it).
//
// Beyond driver.Node, every *Node is a driver.Pauser (docker pause) and a
// driver.Partitioner (disconnect from and reconnect to the fleet's own
// network), and can Stop gracefully (SIGTERM). Kill is SIGKILL. A server
// gets new host ports when it restarts or reconnects; Fleet.Addrs reports
// them. While it is killed, stopped or disconnected, the backend holds its
// old ports (bound, not listening), so its address is refused and Docker
// cannot give it to another container. A Node's lifecycle methods and
// SetFaults are serialised per node. Replies and journal entries name the server's index, so a call that
// reaches an unexpected server through a stale address is visible. The
// backend's own control calls never reach another server: each container
// runs `rpcfleet serve --fleet-id`, and every control connection first
// checks that Health reports the node's index and fleet id; a node that is
// down dials nothing (faults set meanwhile take effect on Restart). A
// container's journal lives in its process: it starts empty after Restart.
//
// The image is built offline (see Build and docker/Dockerfile): no
// registry is contacted. Ryuk, testcontainers-go's reaper, needs an image
// from a registry, so the backend requires TESTCONTAINERS_RYUK_DISABLED=true
// and cleans up itself: every container and network it creates carries the
// label rpcfleet.managed=true, its fleet's id, and labels naming the
// process that created it (a random session id, the host name, the PID
// and the process's start time); Fleet.Stop removes them, Owned lists this
// process's by session, and Sweep removes those whose process is gone
// (only on the host that created them).
//
// A Pool is a Backend that reuses containers: the containers of a fleet
// that stops are kept, renewed through the control endpoint, and the next
// fleets start on them in milliseconds instead of a second each, with
// nothing of the earlier fleet left (see Pool).
package container
