package matchers

import (
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// The matchers that compare two servers' times, on a journal whose clocks
// are uncertain (an attached fleet across hosts): a gap wider than the
// uncertainty gives the verdict; a narrower one "cannot tell", for the
// matcher and its negation alike, rather than a verdict that may be wrong.
func TestUncertainClocks(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	// Server 0 replies at t0+10ms, server 1 at t0+10ms+gap; both calls
	// were received at t0, uncertainty u each.
	journal := func(gap, u time.Duration) []fleet.Call {
		return []fleet.Call{
			{Server: 0, Outcome: fleet.OK, Received: t0, Replied: t0.Add(10 * ms), ReceivedAt: 1, RepliedAt: 3, Uncertainty: u},
			{Server: 1, Outcome: fleet.OK, Received: t0, Replied: t0.Add(10*ms + gap), ReceivedAt: 2, RepliedAt: 4, Uncertainty: u},
		}
	}
	runOf := func(calls []fleet.Call, returned time.Time) Run {
		return Run{Addrs: []string{a, b}, Servers: []string{a, b}, Results: []Result{{Addr: a}, {Addr: b}}, Returned: returned, Calls: calls}
	}
	// Server 1 receives its call 2ms after server 0's reply.
	lateReceipt := func(u time.Duration) []fleet.Call {
		cs := journal(5*ms, u)
		cs[1].Received = t0.Add(12 * ms)
		cs[1].ReceivedAt, cs[0].RepliedAt = 3, 2
		return cs
	}
	for _, tc := range []struct {
		name    string
		matcher types.GomegaMatcher
		actual  any
		want    bool   // the verdict, when it can tell
		tell    string // "" when it can tell, else what the error says
	}{
		{"replies 5ms apart, ±1ms: in order", ReplyInOrder(0, 1), journal(5*ms, ms), true, ""},
		{"replies 5ms apart, ±1ms: not reversed", ReplyBefore(1, 0), journal(5*ms, ms), false, ""},
		{"replies 5ms apart, ±3ms", ReplyBefore(0, 1), journal(5*ms, 3*ms), false, "cannot tell whether server 0 or server 1 replied first"},
		{"replies 5ms apart, ±3ms, reversed", ReplyBefore(1, 0), journal(5*ms, 3*ms), false, "cannot tell"},
		{"exact clocks, 1µs apart", ReplyBefore(0, 1), journal(time.Microsecond, 0), true, ""},
		{"returned 20ms after the replies, ±1ms", ReturnAfterAllReplies(), runOf(journal(5*ms, ms), t0.Add(35*ms)), true, ""},
		{"returned 1ms after the last reply, ±2ms", ReturnAfterAllReplies(), runOf(journal(5*ms, 2*ms), t0.Add(16*ms)), false, "cannot tell whether server 1 replied before the fan-out returned"},
		{"received together, replies 10ms later, ±1ms", ReceiveAllBeforeFirstReply(), runOf(journal(5*ms, ms), t0.Add(time.Second)), true, ""},
		{"received 2ms after a reply, ±0.5ms", ReceiveAllBeforeFirstReply(), runOf(lateReceipt(ms/2), t0.Add(time.Second)), false, ""},
		{"received 2ms after a reply, ±3ms", ReceiveAllBeforeFirstReply(), runOf(lateReceipt(3*ms), t0.Add(time.Second)), false, "cannot tell whether server 1 received its call before server 0 replied"},
	} {
		ok, err := tc.matcher.Match(tc.actual)
		switch {
		case tc.tell != "" && (err == nil || !strings.Contains(err.Error(), tc.tell)):
			t.Errorf("%s: ok %v, err %v; want an error saying %q", tc.name, ok, err, tc.tell)
		case tc.tell == "" && err != nil:
			t.Errorf("%s: err %v, want a verdict", tc.name, err)
		case tc.tell == "" && ok != tc.want:
			t.Errorf("%s: ok = %v, want %v", tc.name, ok, tc.want)
		}
	}
}
