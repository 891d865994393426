package faults_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want faults.Plan
	}{
		{"", faults.Plan{}},
		{"  ", faults.Plan{}},
		{"hang", faults.Plan{Rules: []faults.Rule{{Fault: faults.Hang{}}}}},
		{"delay=50ms,jitter=10ms", faults.Plan{Rules: []faults.Rule{
			{Fault: faults.Delay{D: 50 * time.Millisecond, Jitter: 10 * time.Millisecond}}}}},
		{"error=boom,p=0.25", faults.Plan{Rules: []faults.Rule{{Fault: faults.Error{Msg: "boom"}, P: 0.25}}}},
		{"error=boom,p=0.5; delay=1s ;hang", faults.Plan{Rules: []faults.Rule{
			{Fault: faults.Error{Msg: "boom"}, P: 0.5},
			{Fault: faults.Delay{D: time.Second}},
			{Fault: faults.Hang{}}}}},
		{`error="a, b; c"`, faults.Plan{Rules: []faults.Rule{{Fault: faults.Error{Msg: "a, b; c"}}}}},
		{"hang;", faults.Plan{Rules: []faults.Rule{{Fault: faults.Hang{}}}}},
		{"blackhole", faults.Plan{Rules: []faults.Rule{{Fault: faults.Blackhole{}}}}},
		{"blackhole,servers=1-2,from=1s,for=2s", faults.Plan{Rules: []faults.Rule{{Fault: faults.Blackhole{},
			Servers: faults.Servers{Spans: []faults.Span{{Lo: 1, Hi: 2}}}, From: time.Second, For: 2 * time.Second}}}},
	}
	for _, tt := range tests {
		got, err := faults.Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		token  string
		msg    string
	}{
		{"delay=5x", 6, "5x", "not a duration"},
		{"delay=-1s", 6, "-1s", "must not be negative"},
		{"delay", 0, "delay", "needs a duration"},
		{"hang;bogus", 5, "bogus", "unknown fault kind"},
		{"error=boom,p=2", 13, "2", "probability in (0, 1]"},
		{"error=boom,p=0", 13, "0", "probability in (0, 1]"},
		{"error=boom,p=x", 13, "x", "probability in (0, 1]"},
		{"error", 0, "error", "needs a message"},
		{"hang=1", 5, "1", "takes no value"},
		{"hang,jitter=1s", 5, "jitter", "unknown setting for hang"},
		{"error=a,error=b", 8, "error", "setting given twice"},
		{"delay=-5ms", 6, "-5ms", "duration must not be negative"},
		{"delay=1s,p=0.5,p=0.5", 15, "p", "given twice"},
		{"delay=1s,p", 9, "p", "needs a value"},
		{`error="open`, 6, `"open`, "quoted string"},
		{"delay=1s,,p=1", 9, "", "empty setting"},
		{",hang", 0, ",", "starts with ','"},
		{"delay=uniform,=1s,max=1s", 14, "=1s", "missing setting name"},
		{"=1s", 0, "", "missing fault kind"},
		{"blackhole=1s", 10, "1s", "blackhole takes no value"},
		{"blackhole,method=Service.Method", 10, "method", "applies to the listener, not to calls: method= does not apply"},
		{"blackhole,first=1", 10, "first", "first= does not apply"},
		{"blackhole,after=1", 10, "after", "after= does not apply"},
		{"blackhole,every=2", 10, "every", "every= does not apply"},
		{"blackhole,p=0.5", 10, "p", "p= does not apply"},
		{"blackhole,gap=1s", 10, "gap", "unknown setting for blackhole"},
		{"blackholes", 0, "blackholes", "refuse, slowaccept, blackhole or crash"},
	}
	for _, tt := range tests {
		_, err := faults.Parse(tt.in)
		var pe *faults.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", tt.in, err)
			continue
		}
		if pe.Offset != tt.offset || pe.Token != tt.token || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("Parse(%q) = offset %d token %q msg %q; want offset %d token %q msg containing %q",
				tt.in, pe.Offset, pe.Token, pe.Msg, tt.offset, tt.token, tt.msg)
		}
		if !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
			t.Errorf("Parse(%q) error %q does not quote the input", tt.in, err)
		}
	}
}

func TestStringRoundTrips(t *testing.T) {
	for _, in := range []string{
		"delay=50ms,jitter=10ms",
		"error=boom,p=0.25",
		"hang",
		`error="a,b;c \"quoted\"",p=0.001;delay=1.5s;hang,p=1e-06`,
		`error=" leading space"`,
		"blackhole",
		"blackhole,servers=1-2,from=1s,for=2s",
	} {
		p, err := faults.Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		again, err := faults.Parse(p.String())
		if err != nil {
			t.Fatalf("Parse(String()) of %q = %q: %v", in, p.String(), err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Errorf("round trip of %q: %#v, then %q gives %#v", in, p, p.String(), again)
		}
	}
}
