package container

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestHoldAddr checks that a held port refuses dials and cannot be
// listened on, so that Docker cannot publish another container there, and
// that release frees it.
func TestHoldAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a port a container just released
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	h, held := holdAddr(addr)
	if h == nil || held != addr {
		t.Fatalf("holdAddr(%s) = %v, %s; want the same address held", addr, h, held)
	}
	expectHeld(t, addr)

	// A port someone else listens on already: a fresh port is held.
	h2, other := holdAddr(addr)
	if h2 == nil || other == addr {
		t.Errorf("holdAddr of a taken port = %v, %s; want a fresh held port", h2, other)
	} else {
		if _, err := net.DialTimeout("tcp", other, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial of the fresh held port: %v, want ECONNREFUSED", err)
		}
		h2.Release()
	}

	h.Release()
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen after release: %v", err)
	}
	ln.Close()
}

// TestHoldAddrTimeWait checks that a port a closed connection left in
// TIME_WAIT is held all the same, and still cannot be listened on.
func TestHoldAddrTimeWait(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // the server side closes first: its socket on addr goes to TIME_WAIT
	ln.Close()
	buf := make([]byte, 1)
	c.Read(buf)
	c.Close()

	h, held := holdAddr(addr)
	if h == nil || held != addr {
		t.Fatalf("holdAddr(%s) = %v, %s; want the same address held", addr, h, held)
	}
	defer h.Release()
	expectHeld(t, addr)
}

// expectHeld checks that addr is refused and cannot be listened on.
func expectHeld(t *testing.T, addr string) {
	t.Helper()
	if _, err := net.DialTimeout("tcp", addr, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial of a held port: %v, want ECONNREFUSED", err)
	}
	if ln, err := net.Listen("tcp", addr); !errors.Is(err, syscall.EADDRINUSE) {
		if err == nil {
			ln.Close()
		}
		t.Errorf("listen on a held port: %v, want EADDRINUSE", err)
	}
}
