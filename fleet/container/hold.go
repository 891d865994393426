package container

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"time"
)

// portHold keeps a port on 127.0.0.1 bound but not listening: a dial to
// it is refused at once (no listener), and nothing else can listen on it,
// so Docker cannot publish another container's port there.
type portHold struct{ fd int }

// holdPort binds port on 127.0.0.1 (0: any free port) and returns the
// hold and the address it holds.
func holdPort(port int) (*portHold, string, error) {
	// SOCK_CLOEXEC: a docker command started meanwhile must not inherit
	// the socket and keep the port bound after release.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, "", err
	}
	// SO_REUSEADDR to bind beside the TIME_WAIT sockets that the
	// container's port proxy leaves, then off again: listen checks the
	// setting of the sockets already bound, so no listener can take the
	// port from us.
	err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err == nil {
		err = syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	}
	if err == nil {
		err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, "", err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, "", err
	}
	return &portHold{fd}, net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)), nil
}

func (h *portHold) release() { syscall.Close(h.fd) }

// holdAddr holds the port of addr, which a stopped or cut-off container
// has just released, waiting up to a second for Docker's port proxy to let
// go of it. If it cannot (another process took it first), it holds a
// fresh port instead: the address it returns is then a new one, refused
// as well.
func holdAddr(addr string) (*portHold, string) {
	_, p, err := net.SplitHostPort(addr)
	port, err2 := strconv.Atoi(p)
	if err == nil && err2 == nil && port > 0 {
		for try := 0; try < 20; try++ {
			h, a, err := holdPort(port)
			if err == nil {
				return h, a
			}
			if !errors.Is(err, syscall.EADDRINUSE) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	h, a, err := holdPort(0)
	if err != nil {
		return nil, addr // out of sockets: keep the address, as before
	}
	return h, a
}
