package attach_test

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
)

// dnsServer answers A queries for a name with addrs and SRV queries for
// a name with srvs, over UDP on loopback, as a headless Service's DNS
// would; it stops when the test ends.
func dnsServer(t *testing.T, a map[string][]netip.Addr, srv map[string][]dnsmessage.SRVResource) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dnsmessage.Message
			if q.Unpack(buf[:n]) != nil || len(q.Questions) != 1 {
				continue
			}
			qs := q.Questions[0]
			r := dnsmessage.Message{Header: dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true}, Questions: q.Questions}
			hdr := dnsmessage.ResourceHeader{Name: qs.Name, Class: dnsmessage.ClassINET, TTL: 5}
			switch qs.Type {
			case dnsmessage.TypeA:
				for _, ip := range a[qs.Name.String()] {
					r.Answers = append(r.Answers, dnsmessage.Resource{Header: hdr, Body: &dnsmessage.AResource{A: ip.As4()}})
				}
			case dnsmessage.TypeSRV:
				for _, s := range srv[qs.Name.String()] {
					r.Answers = append(r.Answers, dnsmessage.Resource{Header: hdr, Body: &s})
				}
			}
			if len(r.Answers) == 0 && qs.Type != dnsmessage.TypeAAAA {
				r.RCode = dnsmessage.RCodeNameError
			}
			out, err := r.Pack()
			if err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// A records: three servers on 127.0.0.1, .2 and .3, each with its
// control port on the same port number, as pods behind a headless
// Service are.
func TestDNSFindsServersByARecords(t *testing.T) {
	s0 := served(t, fleet.WithServers(1), fleet.WithFleetSize(3))
	_, p, _ := net.SplitHostPort(s0.ControlAddrs()[0])
	port, _ := strconv.Atoi(p)
	ips := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	var want []string
	want = append(want, s0.Addrs()[0])
	for i := 1; i < 3; i++ {
		host := "127.0.0." + strconv.Itoa(i+1)
		s := served(t, fleet.WithServers(1), fleet.WithFirstIndex(i), fleet.WithFleetSize(3), fleet.WithHost(host), fleet.WithControl(port))
		ips = append([]netip.Addr{netip.MustParseAddr(host)}, ips...) // out of index order
		want = append(want, s.Addrs()[0])
	}
	r := dnsServer(t, map[string][]netip.Addr{"rpcfleet.test.": ips}, nil)
	f := attached(t, attach.DNS(r, "rpcfleet.test.", port), 3)
	if got := f.Addrs(); !slices.Equal(got, want) {
		t.Fatalf("Addrs() = %v, want %v", got, want)
	}
	for i, a := range f.Addrs() {
		if _, err := call(a); err != nil {
			t.Errorf("server %d: %v", i, err)
		}
	}
}

// SRV records: each names a target and the control port.
func TestSRVFindsServersByTargetAndPort(t *testing.T) {
	under := served(t, fleet.WithServers(3))
	var recs []dnsmessage.SRVResource
	for _, c := range under.ControlAddrs() {
		_, p, _ := net.SplitHostPort(c)
		port, _ := strconv.Atoi(p)
		recs = append(recs, dnsmessage.SRVResource{Priority: 0, Weight: 1, Port: uint16(port), Target: dnsmessage.MustNewName("localhost.")})
	}
	r := dnsServer(t, nil, map[string][]dnsmessage.SRVResource{"_control._tcp.rpcfleet.test.": recs})
	f := attached(t, attach.SRV(r, "_control._tcp.rpcfleet.test."), 3)
	for i, a := range f.Addrs() {
		_, p, _ := net.SplitHostPort(under.Addrs()[i])
		if a != net.JoinHostPort("localhost", p) {
			t.Errorf("server %d at %s, want localhost:%s", i, a, p)
		}
		if _, err := call(a); err != nil {
			t.Errorf("server %d: %v", i, err)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"127.0.0.1:7001,127.0.0.1:7003", ""},
		{"dns:rpcfleet.default.svc.cluster.local:7001", ""},
		{"srv:_control._tcp.rpcfleet", ""},
		{"dns:rpcfleet", `want dns:NAME:PORT`},
		{"dns:rpcfleet:0", `port "0": want 1..65535`},
		{"srv:", `want srv:NAME`},
		{"127.0.0.1", `want host:port control addresses`},
		{",", `no control address`},
	} {
		_, err := attach.Parse(tc.in)
		if (err == nil) != (tc.err == "") || err != nil && !contains(err.Error(), tc.err) {
			t.Errorf("Parse(%q): err = %v, want %q", tc.in, err, tc.err)
		}
	}
}
