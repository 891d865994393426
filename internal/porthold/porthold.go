// Package porthold keeps a TCP port on 127.0.0.1 bound but not listening:
// a dial to it is refused at once, as to a server that is down or cut off,
// and nothing else can listen on it meanwhile, so the address a test holds
// for that server is never another server's.
package porthold

import (
	"net"
	"strconv"
	"syscall"
)

// Hold is one held port. Release frees it; the caller must call it.
type Hold struct{ fd int }

// Port binds port on 127.0.0.1 (0: any free port) without listening, and
// returns the hold and the address it holds.
func Port(port int) (*Hold, string, error) {
	// SOCK_CLOEXEC: a process started meanwhile must not inherit the
	// socket and keep the port bound after Release.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, "", err
	}
	// SO_REUSEADDR to bind beside TIME_WAIT sockets of the port's last
	// connections, then off again: listen checks the setting of the
	// sockets already bound, so no listener can take the port from us.
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
	return &Hold{fd}, net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)), nil
}

// Addr holds the port of addr, a host:port on 127.0.0.1.
func Addr(addr string) (*Hold, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, err
	}
	h, _, err := Port(port)
	return h, err
}

// Release frees the port.
func (h *Hold) Release() { syscall.Close(h.fd) }
