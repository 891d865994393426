package attach

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Endpoint is where one server is reached.
type Endpoint struct {
	// Control is the host:port of the server's control port.
	Control string
	// Data is the host:port clients dial for its data port; "" means the
	// port its Health reports, on Control's host (a server that listens
	// on every interface reports an unspecified host).
	Data string
}

// Source finds the servers to attach to. The backend asks it at Start
// and again while a killed server is on its way back, whose address may
// have changed. Implementations must be safe for concurrent use.
type Source interface {
	// Lookup returns the servers found now, in any order.
	Lookup(ctx context.Context) ([]Endpoint, error)
}

// SourceFunc adapts a function to Source: a Docker Swarm helper that
// reads its tasks' published ports (package fleet/swarm) is one.
type SourceFunc func(ctx context.Context) ([]Endpoint, error)

// Lookup calls f.
func (f SourceFunc) Lookup(ctx context.Context) ([]Endpoint, error) { return f(ctx) }

// Addrs is a fixed list of control addresses (host:port), as
// `rpcfleet serve --control-port` prints them second on each line.
func Addrs(controls ...string) Source {
	eps := make([]Endpoint, len(controls))
	for i, c := range controls {
		eps[i] = Endpoint{Control: c}
	}
	return SourceFunc(func(context.Context) ([]Endpoint, error) { return slices.Clone(eps), nil })
}

// Resolver is the part of *net.Resolver the DNS sources use.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// DNS finds the servers by the A and AAAA records of name, each serving
// its control port on port: a Kubernetes headless Service, a Swarm
// service with endpoint_mode dnsrr (from inside its network), a Compose
// service. r is nil for net.DefaultResolver.
func DNS(r Resolver, name string, port int) Source {
	r = orDefault(r)
	return SourceFunc(func(ctx context.Context) ([]Endpoint, error) {
		hosts, err := r.LookupHost(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("attach: look up %s: %w", name, err)
		}
		eps := make([]Endpoint, len(hosts))
		for i, h := range hosts {
			eps[i] = Endpoint{Control: net.JoinHostPort(h, strconv.Itoa(port))}
		}
		return eps, nil
	})
}

// SRV finds the servers by the SRV records of name, in full
// ("_control._tcp.rpcfleet.default.svc.cluster.local", the records a
// Kubernetes headless Service publishes for its port named "control"):
// each record's target and port is a control address. r is nil for
// net.DefaultResolver.
func SRV(r Resolver, name string) Source {
	r = orDefault(r)
	return SourceFunc(func(ctx context.Context) ([]Endpoint, error) {
		_, recs, err := r.LookupSRV(ctx, "", "", name)
		if err != nil {
			return nil, fmt.Errorf("attach: look up SRV %s: %w", name, err)
		}
		eps := make([]Endpoint, len(recs))
		for i, rec := range recs {
			eps[i] = Endpoint{Control: net.JoinHostPort(strings.TrimSuffix(rec.Target, "."), strconv.Itoa(int(rec.Port)))}
		}
		return eps, nil
	})
}

func orDefault(r Resolver) Resolver {
	if r == nil {
		return net.DefaultResolver
	}
	return r
}

// Parse reads a source as `rpcfleet run --attach` and a scenario's
// attach: key take it: "dns:NAME:PORT" (DNS), "srv:NAME" (SRV), or a
// comma-separated list of control addresses (Addrs). The error names
// what was wrong.
func Parse(s string) (Source, error) {
	switch {
	case strings.HasPrefix(s, "dns:"):
		host, port, err := net.SplitHostPort(strings.TrimPrefix(s, "dns:"))
		if err != nil || host == "" {
			return nil, fmt.Errorf("attach: %q: want dns:NAME:PORT, the name whose A records are the servers and their control port", s)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("attach: %q: port %q: want 1..65535", s, port)
		}
		return DNS(nil, host, p), nil
	case strings.HasPrefix(s, "srv:"):
		name := strings.TrimPrefix(s, "srv:")
		if name == "" {
			return nil, fmt.Errorf("attach: %q: want srv:NAME, e.g. srv:_control._tcp.rpcfleet.default.svc.cluster.local", s)
		}
		return SRV(nil, name), nil
	}
	var addrs []string
	for a := range strings.SplitSeq(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return nil, fmt.Errorf("attach: %q: want host:port control addresses separated by commas, dns:NAME:PORT or srv:NAME", a)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("attach: %q: no control address (want host:port,..., dns:NAME:PORT or srv:NAME)", s)
	}
	return Addrs(addrs...), nil
}
