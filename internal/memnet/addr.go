package memnet

// Addr is an address on a Network: "host:port", where host names the
// network.
type Addr string

// Network returns "memory".
func (Addr) Network() string { return "memory" }

func (a Addr) String() string { return string(a) }
