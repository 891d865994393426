package faults_test

import (
	"errors"
	"fmt"
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

// parseErrorAt splits the text of a *ParseError for input in into where
// ("at column N, \"token\"") and what was wrong; both are "" if the text
// does not start by naming the input as a ParseError's does.
func parseErrorAt(err error, in string) (at, msg string) {
	rest, ok := strings.CutPrefix(err.Error(), "faults: invalid plan "+strconv.Quote(in)+": ")
	if !ok {
		return "", ""
	}
	// The token is quoted and may hold ": ": cut after its closing quote.
	col, tok, ok := strings.Cut(rest, ", ")
	if !ok {
		return "", ""
	}
	q, err := strconv.QuotedPrefix(tok)
	if err != nil {
		return "", ""
	}
	return col + ", " + q, strings.TrimPrefix(tok[len(q):], ": ")
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
		at, msg := parseErrorAt(err, tt.in)
		want := fmt.Sprintf("at column %d, %q", tt.offset+1, tt.token)
		if at != want || !strings.Contains(msg, tt.msg) {
			t.Errorf("Parse(%q) error %q; want %s: and a message containing %q", tt.in, err, want, tt.msg)
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

// A rule an earlier rule of the same part always hides is an error at the
// later rule; a rule that could apply, however rarely, is not.
func TestParseUnreachableRules(t *testing.T) {
	rejected := []struct {
		in             string
		offset         int
		token          string
		later, earlier int
	}{
		{"error=a;error=b", 8, "error=b", 2, 1},
		{"hang;delay=5ms;drop,p=0.5", 15, "drop,p=0.5", 3, 1},
		{"delay=1ms;error=x;delay=uniform,min=1ms,max=2ms", 18, "delay=uniform,min=1ms,max=2ms", 3, 1},
		{"delay=5ms,jitter=1ms;  delay=9ms ", 23, "delay=9ms", 2, 1},
		{"error=a,servers=10%;error=b,servers=10%", 20, "error=b,servers=10%", 2, 1},
		{"error=a,servers=0-3,4-7;error=b,servers=2-6", 24, "error=b,servers=2-6", 2, 1},
		{"error=a,servers=1,2;error=b,servers=2,1", 20, "error=b,servers=2,1", 2, 1},
		{"error=a,method=M.X;error=b,method=M.X,p=0.1", 19, "error=b,method=M.X,p=0.1", 2, 1},
		{"error=a,first=5;error=b,first=3", 16, "error=b,first=3", 2, 1},
		{"error=a,after=5;error=b,after=7,first=9", 16, "error=b,after=7,first=9", 2, 1},
		{"error=a,every=2;error=b,every=6", 16, "error=b,every=6", 2, 1},
		{"error=a,from=1s;error=b,from=2s,for=1s", 16, "error=b,from=2s,for=1s", 2, 1},
		{"error=a,from=1s,for=3s;error=b,from=2s,for=2s", 23, "error=b,from=2s,for=2s", 2, 1},
		{"error=a,from=1s,for=2562047h47m16s;error=b,from=2s,for=1s", 35, "error=b,from=2s,for=1s", 2, 1}, // no overflow
		{"error=a,p=1;error=b", 12, "error=b", 2, 1},
		{`error="x;y";error=b`, 12, "error=b", 2, 1},
		{"error=a,first=2;drop;hang", 21, "hang", 3, 2},
		{"slowaccept=1s;slowaccept=2s,after=3", 14, "slowaccept=2s,after=3", 2, 1},
	}
	for _, tt := range rejected {
		_, err := faults.Parse(tt.in)
		var pe *faults.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", tt.in, err)
			continue
		}
		at, msg := parseErrorAt(err, tt.in)
		want := fmt.Sprintf("at column %d, %q", tt.offset+1, tt.token)
		wantMsg := "rule " + strconv.Itoa(tt.later) + " can never apply: rule " + strconv.Itoa(tt.earlier) + " "
		if at != want || !strings.HasPrefix(msg, wantMsg) {
			t.Errorf("Parse(%q) error %q; want %s: and a message starting %q", tt.in, err, want, wantMsg)
		}
	}

	for _, in := range []string{
		"delay=300ms;error=boom", // two parts
		"error=boom;delay=300ms", // in either order
		"delay=5ms,jitter=5ms;error=flaky,p=0.2",
		"hang;slowaccept=1s;refuse,for=1s", // three kinds of decision
		"refuse,for=1s;refuse,from=2s,for=1s;refuse",
		"slowaccept=1s,first=2;slowaccept=2s",
		"error=a,p=0.5;error=b",       // rule 1 may miss
		"error=a,servers=0-3;error=b", // other servers
		"error=a,servers=0-3;error=b,servers=3-4",
		"error=a,servers=0-3;error=b,servers=10%", // a share may pick others
		"error=a,servers=10%;error=b,servers=20%",
		"error=a,servers=10%;error=b,servers=0",
		"error=a,method=M.X;error=b",
		"error=a,method=M.X;error=b,method=M.Y",
		"error=a,first=3;error=b",
		"error=a,first=3;error=b,first=5",
		"error=a,after=5;error=b,after=3",
		"error=a,after=5;error=b",
		"error=a,every=2;error=b,every=3",
		"error=a,every=2;error=b",
		"error=a,from=1s;error=b",
		"error=a,for=1s;error=b",
		"error=a,from=1s,for=3s;error=b,from=2s,for=3s", // b outlasts a
		"error=a,from=1s,for=3s;error=b,from=2s",
		"error=a,from=2s;error=b,from=1s,for=5s",
		"delay=1ms,first=1;delay=2ms;error=x,after=1;error=y",
		"error=a,first=2,every=2;error=b,first=2",
	} {
		if _, err := faults.Parse(in); err != nil {
			t.Errorf("Parse(%q): %v; every rule can apply", in, err)
		}
	}
}

// A plan written in Go, not parsed, is a plan like any other.
func TestPlanWrittenInGo(t *testing.T) {
	p := faults.Plan{Rules: []faults.Rule{{Fault: faults.Delay{D: 50 * time.Millisecond}}}}
	if got, want := p.String(), "delay=50ms"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if q, err := faults.Parse(p.String()); err != nil || !reflect.DeepEqual(q, p) {
		t.Errorf("Parse(%q) = %#v, %v; want %#v", p.String(), q, err, p)
	}
}

// A Rule with only Fault set prints the fault alone: the journal's
// Call.Fault text. Every kind is here, so a new kind must be added.
func TestRuleOfFaultAlone(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		f    faults.Fault
		want string
	}{
		{faults.Delay{D: 300 * ms}, "delay=300ms"},
		{faults.Delay{D: 50 * ms, Jitter: 10 * ms}, "delay=50ms,jitter=10ms"},
		{faults.Delay{Dist: "pareto", Scale: 10 * ms, Shape: 1.5, Cap: time.Second}, "delay=pareto,scale=10ms,shape=1.5,cap=1s"},
		{faults.Error{Msg: "boom"}, "error=boom"},
		{faults.Error{Msg: "disk full"}, `error="disk full"`},
		{faults.Hang{}, "hang"},
		{faults.Hold{}, "hold"},
		{faults.Drop{}, "drop"},
		{faults.Reset{}, "reset"},
		{faults.Corrupt{}, "corrupt"},
		{faults.Truncate{}, "truncate"},
		{faults.Throttle{Rate: 1000}, "throttle=1000"},
		{faults.Slice{Size: 8, Gap: 5 * ms}, "slice=8,gap=5ms"},
		{faults.Refuse{}, "refuse"},
		{faults.SlowAccept{D: 500 * ms}, "slowaccept=500ms"},
		{faults.Blackhole{}, "blackhole"},
		{faults.Crash{}, "crash"},
	}
	kinds := map[string]bool{}
	for _, tt := range tests {
		r := faults.Rule{Fault: tt.f}
		if got := r.String(); got != tt.want {
			t.Errorf("Rule{Fault: %#v}.String() = %q, want %q", tt.f, got, tt.want)
		}
		kind, _, _ := strings.Cut(tt.want, "=")
		kinds[kind] = true
	}
	_, err := faults.Parse("nosuchkind")
	const list = "delay, error, hang, hold, drop, reset, corrupt, truncate, throttle, slice, refuse, slowaccept, blackhole or crash"
	if err == nil || !strings.HasSuffix(err.Error(), "unknown fault kind (want "+list+")") {
		t.Errorf("unknown kind: %v, want the kinds listed: %s", err, list)
	}
	if len(kinds) != strings.Count(list, ",")+2 {
		t.Errorf("%d kinds tested, %s listed", len(kinds), list)
	}
}

// A long bad plan is named once, by its size, and its bad token cut.
func TestLongPlanErrorIsShort(t *testing.T) {
	in := "error=a;" + strings.Repeat("x", 10000)
	_, err := faults.Parse(in)
	if err == nil {
		t.Fatal("no error")
	}
	const want = `faults: invalid plan of 10008 bytes: at column 9, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... (10000 bytes): unknown fault kind`
	if !strings.HasPrefix(err.Error(), want) || len(err.Error()) > 400 {
		t.Errorf("error of %d bytes:\n%s\nwant it to begin %s", len(err.Error()), err, want)
	}
}
