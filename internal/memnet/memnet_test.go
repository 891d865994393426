package memnet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/nettest"

	"github.com/rpcfleet/rpcfleet/internal/memnet"
)

// pair dials a fresh listener and returns both ends.
func pair(t *testing.T, n *memnet.Network) (client, server net.Conn, l *memnet.Listener) {
	t.Helper()
	l, err := n.Listen(n.Addr(1))
	if err != nil {
		t.Fatal(err)
	}
	client, err = n.Dial(context.Background(), n.Addr(1))
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return client, server, l
}

// The connections pass x/net's conformance test of a net.Conn: I/O,
// concurrent use, deadlines and Close.
func TestConnIsANetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		n := memnet.New("mem")
		l, err := n.Listen(n.Addr(1))
		if err != nil {
			return nil, nil, nil, err
		}
		c1, err = n.Dial(context.Background(), n.Addr(1))
		if err != nil {
			return nil, nil, nil, err
		}
		c2, err = l.Accept()
		if err != nil {
			return nil, nil, nil, err
		}
		return c1, c2, func() { c1.Close(); c2.Close(); l.Close() }, nil
	})
}

func TestDialsAreRefusedWhereNothingListens(t *testing.T) {
	n := memnet.New("mem")
	if _, err := n.Dial(context.Background(), n.Addr(7)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial to no listener: %v, want ECONNREFUSED", err)
	}
	l, err := n.Listen(n.Addr(7))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Listen(n.Addr(7)); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second listen: %v, want EADDRINUSE", err)
	}
	queued, err := n.Dial(context.Background(), n.Addr(7))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := queued.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read of a connection queued when its listener closed: %v, want io.EOF", err)
	}
	if _, err := n.Dial(context.Background(), n.Addr(7)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial to a closed listener: %v, want ECONNREFUSED", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept of a closed listener: %v, want net.ErrClosed", err)
	}
	if _, err := n.Listen(n.Addr(7)); err != nil {
		t.Errorf("listen again on a closed listener's address: %v", err)
	}
	if _, err := n.Dial(context.Background(), "other:7"); err == nil {
		t.Error("dial to another network's address succeeded")
	}
}

// A close is io.EOF after the bytes before it; after SetLinger(0) it is
// ECONNRESET at once.
func TestCloseAndReset(t *testing.T) {
	n := memnet.New("mem")
	client, server, _ := pair(t, n)
	server.Write([]byte("hi"))
	server.Close()
	b, err := io.ReadAll(client)
	if string(b) != "hi" || err != nil {
		t.Errorf("read after an orderly close: %q, %v; want \"hi\", nil", b, err)
	}
	if _, err := client.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("write to a closed peer: %v, want EPIPE", err)
	}

	n2 := memnet.New("mem2")
	client, server, _ = pair(t, n2)
	server.Write([]byte("lost"))
	server.(interface{ SetLinger(int) error }).SetLinger(0)
	server.Close()
	if _, err := client.Read(make([]byte, 8)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read after a reset: %v, want ECONNRESET", err)
	}
}

// With a backlog of 0 and nothing accepting, a dial hangs until its ctx
// ends, or completes once the backlog is raised: a blackhole.
func TestBacklogZeroHangsDials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New("mem")
		l, err := n.Listen(n.Addr(1))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		l.SetBacklog(0)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := n.Dial(ctx, n.Addr(1)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("dial with backlog 0: %v, want the ctx's deadline", err)
		}
		if d := time.Since(start); d != 20*time.Second {
			t.Errorf("dial hung %v of virtual time, want 20s", d)
		}
		done := make(chan error, 1)
		go func() {
			c, err := n.Dial(t.Context(), n.Addr(1))
			if err == nil {
				c.Close()
			}
			done <- err
		}()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("dial with backlog 0 returned %v", err)
		default:
		}
		l.SetBacklog(1)
		if err := <-done; err != nil {
			t.Errorf("dial once the backlog is raised: %v", err)
		}
	})
}

// Deadlines fire in a synctest bubble's virtual time: reads, accepts.
func TestDeadlinesInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New("mem")
		client, server, l := pair(t, n)
		defer client.Close()
		defer server.Close()
		defer l.Close()
		start := time.Now()
		client.SetReadDeadline(start.Add(20 * time.Second))
		if _, err := client.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read past its deadline: %v, want os.ErrDeadlineExceeded", err)
		}
		if d := time.Since(start); d != 20*time.Second {
			t.Errorf("read waited %v, want 20s", d)
		}
		l.SetDeadline(time.Unix(1, 0))
		if _, err := l.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("accept past its deadline: %v, want os.ErrDeadlineExceeded", err)
		}
	})
}
