// Package fleet starts a fleet of net/rpc servers on loopback for testing
// code that fans out calls, injects faults into them and keeps a journal of
// every call they receive.
//
// Start returns a running *Fleet, much like httptest.NewServer returns a
// running server: every server listens on 127.0.0.1, has its own
// rpc.Server and accept loop, and serves the default service
//
//	Service.Method(Args{Name string}) -> Reply{Message string}
//
// whose message greets the name and says which server answered, and
// Service.Echo, which replies with the name unchanged. The caller
// of Start must call Stop, which returns only when every goroutine and
// connection the fleet started is gone, and prints nothing.
//
// The servers run in this process unless WithBackend names another
// backend: package fleet/container runs each one in a Docker container.
// Whatever the backend, a fleet is steered only through the Fleet methods
// that take a context (SetFaults, SetServerFaults, Kill, Restart, Calls,
// ServerCalls, Pause, Disconnect, ...); code re-reads Addrs after a
// restart. Backends implement the interfaces of package fleet/driver, as
// database drivers implement database/sql/driver; users of a fleet need
// not import it.
//
// All methods of Fleet are safe for concurrent use.
package fleet
