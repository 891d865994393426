package faults_test

import (
	"reflect"
	"testing"

	"github.com/rpcfleet/rpcfleet/faults"
)

// FuzzParse checks that Parse never panics and that every plan it accepts
// survives a round trip through String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "hang", "delay=50ms,jitter=10ms", "error=boom,p=0.25", `error="a,b;c"`,
		"delay=pareto,scale=10ms,shape=1.5,cap=1s", "drop,servers=0,3,7-9", "reset,servers=10%",
		"corrupt,first=2;truncate,after=3,every=2", "throttle=1KB", "slice=8,gap=5ms",
		"refuse,from=1s,for=2s", "slowaccept=100ms,p=0.5", "crash,after=5,method=Service.Method",
		"delay=lognormal,median=20ms,sigma=0.5", "delay=normal,mean=5ms,stddev=1ms",
		"delay=exponential,mean=3ms", "delay=uniform,min=1ms,max=2ms",
		"blackhole", "blackhole,servers=1-2,from=1s,for=2s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := faults.Parse(s)
		if err != nil {
			return
		}
		text := p.String()
		q, err := faults.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, text, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip of %q through %q: %#v != %#v", s, text, p, q)
		}
	})
}
