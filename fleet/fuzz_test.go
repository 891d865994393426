package fleet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// FuzzFirstBytes sends any bytes as a connection's first and closes its
// writing half: the server either serves them or closes the connection,
// within its bounds, never panics or hangs, and goes on serving others.
func FuzzFirstBytes(f *testing.F) {
	for _, seed := range []string{
		"", "\x00", "{", `{"method":"Service.Method","params":[{"Name":"x"}],"id":1}` + "\n",
		"CONNECT /_goRPC_ HTTP/1.0\n\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "CONNECT /other HTTP/1.0\n\n",
		"\xfb\x01\x00\x00\x00\x00\x00", "\xff", "\x20", "CONNECT", "{\"method\":",
	} {
		f.Add([]byte(seed))
	}
	fl, err := fleet.Start(context.Background(), fleet.WithServers(1), fleet.WithControl(0),
		fleet.WithHandshakeTimeout(time.Second), fleet.WithIdleTimeout(time.Second), fleet.WithMaxRequestSize(64<<10))
	if err != nil {
		f.Fatal(err)
	}
	defer fl.Stop(context.Background())
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, addr := range []string{fl.Addrs()[0], fl.ControlAddrs()[0]} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Write(data)
			c.(*net.TCPConn).CloseWrite()
			// The server answers or closes; with nothing more coming it
			// must close within its handshake or idle bound (1s here).
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = io.Copy(io.Discard, c)
			c.Close()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("%s: the server held the connection open 10s after %q", addr, data)
			}
		}
		servesOthers(t, fl)
	})
}
