package container

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/rpcfleet/rpcfleet/internal/porthold"
)

// A stopped or cut-off container's ports are held (internal/porthold):
// bound but not listening, so a dial to them is refused at once and Docker
// cannot publish another container's port there.

// holdAddr holds the port of addr, which a stopped or cut-off container
// has just released, waiting up to a second for Docker's port proxy to let
// go of it. If it cannot (another process took it first), it holds a
// fresh port instead: the address it returns is then a new one, refused
// as well.
func holdAddr(addr string) (*porthold.Hold, string) {
	_, p, err := net.SplitHostPort(addr)
	port, err2 := strconv.Atoi(p)
	if err == nil && err2 == nil && port > 0 {
		for try := 0; try < 20; try++ {
			h, a, err := porthold.Port(port)
			if err == nil {
				return h, a
			}
			if !errors.Is(err, syscall.EADDRINUSE) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	h, a, err := porthold.Port(0)
	if err != nil {
		return nil, addr // out of sockets: keep the address, as before
	}
	return h, a
}
