package matchers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
)

var (
	a, b, c = "127.0.0.1:4000", "127.0.0.1:40001", "127.0.0.1:40002"
	boom    = errors.New("boom")
)

// run is a fan-out to a, b and c in which b failed.
func run() Run {
	return Run{
		Addrs: []string{a, b, c}, Servers: []string{a, b, c},
		Results:  []Result{{Addr: a, Latency: time.Millisecond}, {Addr: b, Err: boom, Latency: 2 * time.Millisecond}, {Addr: c}},
		Elapsed:  50 * time.Millisecond,
		Returned: time.Unix(100, 0),
		Calls: []fleet.Call{
			{Server: 0, Outcome: fleet.OK, Replied: time.Unix(99, 0), ReceivedAt: 1, RepliedAt: 4},
			{Server: 1, Outcome: fleet.Failed, Fault: "error=boom", Delay: 2 * time.Millisecond, Replied: time.Unix(99, 0), ReceivedAt: 2, RepliedAt: 5},
			{Server: 2, Outcome: fleet.OK, Replied: time.Unix(99, 0), ReceivedAt: 3, RepliedAt: 6},
		},
	}
}

func TestMatchers(t *testing.T) {
	late := run()
	late.Calls[2].Replied = time.Unix(101, 0)
	late.Calls[2].DelayRule, late.Calls[2].Delay = 0, 1100*time.Millisecond
	pending := run()
	pending.Calls[0].Outcome, pending.Calls[0].RepliedAt = fleet.Pending, 0
	swapped := run()
	swapped.Results[0], swapped.Results[2] = swapped.Results[2], swapped.Results[0]
	short := run()
	short.Results = short.Results[:2]
	twice := run()
	twice.Calls = append(twice.Calls, fleet.Call{Server: 1, Outcome: fleet.OK})
	staggered := run() // server 2's call came in after server 0 had replied
	staggered.Calls[0].RepliedAt, staggered.Calls[2].ReceivedAt = 3, 4
	results := []caller.Result[fleet.Reply]{{Addr: a}, {Addr: b, Err: boom, Latency: time.Second}}

	tests := []struct {
		name    string
		matcher types.GomegaMatcher
		actual  any
		want    bool
		message []string // in the failure message when want is false
	}{
		{"AllSucceed fails on b", AllSucceed(), run(), false, []string{"1 of 3 failed", ">  1  " + b + "  error: boom", "delay=2ms;error=boom"}},
		{"AllSucceed on caller results", AllSucceed(), results, false, []string{"1 of 2 failed", "1s"}},
		{"AllSucceed passes", AllSucceed(), results[:1], true, nil},
		{"FailExactlyOn b", FailExactlyOn(b), run(), true, nil},
		{"FailExactlyOn a names both ways", FailExactlyOn(a), run(), false, []string{"[" + b + "] failed too", "[" + a + "] succeeded"}},
		{"FailExactlyOn a missing address", FailExactlyOn(b, "127.0.0.1:9"), run(), false, []string{"[127.0.0.1:9] had no outcome"}},
		{"BeInInputOrder", BeInInputOrder(nil), run(), true, nil},
		{"BeInInputOrder swapped", BeInInputOrder(nil), swapped, false, []string{"2 out of place, the first at #0", "WANT"}},
		{"BeInInputOrder short", BeInInputOrder(nil), short, false, []string{"2 outcomes for 3 addresses", "no outcome"}},
		{"HaveOneOutcomePerAddress swapped", HaveOneResultPerAddress(nil), swapped, true, nil},
		{"HaveOneOutcomePerAddress short", HaveOneResultPerAddress(nil), short, false, []string{"1 addresses had no outcome ([" + c + "])"}},
		{"CompleteWithin run", CompleteWithin(time.Second), run(), true, nil},
		{"CompleteWithin run too slow", CompleteWithin(10 * time.Millisecond), run(), false, []string{"it took 50ms"}},
		{"CompleteWithin results", CompleteWithin(100 * time.Millisecond), results, false, []string{"the slowest call took 1s"}},
		{"HaveOneCallPerServer", HaveOneCallPerServer(3), run(), true, nil},
		{"HaveOneCallPerServer twice", HaveOneCallPerServer(3), twice, false, []string{"1 more than one", ">  1       " + b + "  2"}},
		{"HaveOneCallPerServer too few", HaveOneCallPerServer(4), run().Calls, false, []string{"1 servers received none"}},
		{"ReplyInOrder", ReplyInOrder(0, 1, 2), run(), true, nil},
		{"ReplyBefore reversed", ReplyBefore(2, 0), run(), false, []string{"in the order [0 2]"}},
		{"ReplyInOrder silent", ReplyInOrder(0, 1), pending, false, []string{"servers [0] never replied"}},
		{"ReturnAfterAllReplies", ReturnAfterAllReplies(), run(), true, nil},
		{"ReturnAfterAllReplies late", ReturnAfterAllReplies(), late, false, []string{"1 of 3 calls", "1s after the return", "delay=1.1s"}},
		{"ReturnAfterAllReplies pending", ReturnAfterAllReplies(), pending, false, []string{">  0       " + a + "   pending"}},
		{"ReceiveAllBeforeFirstReply", ReceiveAllBeforeFirstReply(), run(), true, nil},
		{"ReceiveAllBeforeFirstReply staggered", ReceiveAllBeforeFirstReply(), staggered, false, []string{"1 of 3 calls were received only after the first reply", ">  2       " + c + "  after the first reply"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.matcher.Match(tt.actual)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Match = %v, want %v; message:\n%s", got, tt.want, tt.matcher.FailureMessage(tt.actual))
			}
			msg := tt.matcher.FailureMessage(tt.actual)
			if tt.want {
				msg = tt.matcher.NegatedFailureMessage(tt.actual)
			}
			for _, s := range tt.message {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%s", s, msg)
				}
			}
		})
	}
}

func TestWrongActual(t *testing.T) {
	for _, tt := range []struct {
		name    string
		matcher types.GomegaMatcher
		actual  any
	}{
		{"outcomes of an int", AllSucceed(), 3},
		{"outcomes of structs without Err", AllSucceed(), []struct{ Addr string }{{a}}},
		{"journal of outcomes", HaveOneCallPerServer(1), []Result{}},
		{"return of a journal", ReturnAfterAllReplies(), []fleet.Call{}},
		{"receipts of outcomes", ReceiveAllBeforeFirstReply(), []Result{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.matcher.Match(tt.actual); err == nil {
				t.Errorf("Match(%T) gave no error", tt.actual)
			}
		})
	}
}

func TestLongTablesShowMarkedRows(t *testing.T) {
	var os []Result
	for i := range 100 {
		o := Result{Addr: "127.0.0.1:" + strings.Repeat("1", 1+i%4)}
		if i == 77 {
			o.Err = boom
		}
		os = append(os, o)
	}
	m := AllSucceed()
	if ok, _ := m.Match(os); ok {
		t.Fatal("want a failure")
	}
	msg := m.FailureMessage(os)
	if !strings.Contains(msg, ">  77") || !strings.Contains(msg, "99 more rows not shown") || strings.Count(msg, "\n") > 10 {
		t.Errorf("want only row 77 and a note:\n%s", msg)
	}
}
