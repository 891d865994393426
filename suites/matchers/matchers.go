package matchers

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// matcher is every matcher of the package: match says whether actual is
// as wanted, describes what it got either way, and renders the table that
// the failure message shows.
type matcher struct {
	want  string
	match func(actual any) (ok bool, got, table string, err error)

	got, table string
}

var _ types.GomegaMatcher = (*matcher)(nil)

func (m *matcher) Match(actual any) (bool, error) {
	ok, got, table, err := m.match(actual)
	m.got, m.table = got, table
	return ok, err
}

func (m *matcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected %s, but %s:\n%s", m.want, m.got, m.table)
}

func (m *matcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected not %s, but %s:\n%s", m.want, m.got, m.table)
}

// AllSucceed succeeds if every outcome has no error.
func AllSucceed() types.GomegaMatcher {
	return &matcher{want: "every call to succeed", match: func(actual any) (bool, string, string, error) {
		os, run, err := outcomesOf(actual)
		if err != nil {
			return false, "", "", err
		}
		failed := 0
		for _, o := range os {
			if o.Err != nil {
				failed++
			}
		}
		got := fmt.Sprintf("%d of %d failed", failed, len(os))
		if failed == 0 {
			got = fmt.Sprintf("all %d succeeded", len(os))
		}
		return failed == 0, got, outcomeTable(os, run, nil, func(_ int, o Result) bool { return o.Err != nil }), nil
	}}
}

// FailExactlyOn succeeds if the outcomes that have an error are exactly
// those for addrs, and each of addrs has an outcome.
func FailExactlyOn(addrs ...string) types.GomegaMatcher {
	want := fmt.Sprintf("exactly the calls to %s to fail", list(addrs))
	return &matcher{want: want, match: func(actual any) (bool, string, string, error) {
		os, run, err := outcomesOf(actual)
		if err != nil {
			return false, "", "", err
		}
		var wrongFail, wrongOK, missing []string
		seen := map[string]bool{}
		for _, o := range os {
			seen[o.Addr] = true
			switch should := slices.Contains(addrs, o.Addr); {
			case o.Err != nil && !should:
				wrongFail = append(wrongFail, o.Addr)
			case o.Err == nil && should:
				wrongOK = append(wrongOK, o.Addr)
			}
		}
		for _, a := range addrs {
			if !seen[a] {
				missing = append(missing, a)
			}
		}
		var why []string
		if len(wrongFail) > 0 {
			why = append(why, fmt.Sprintf("%s failed too", list(wrongFail)))
		}
		if len(wrongOK) > 0 {
			why = append(why, fmt.Sprintf("%s succeeded", list(wrongOK)))
		}
		if len(missing) > 0 {
			why = append(why, fmt.Sprintf("%s had no outcome", list(missing)))
		}
		got := strings.Join(why, "; ")
		if got == "" {
			got = "they did"
		}
		tbl := outcomeTable(os, run, nil, func(_ int, o Result) bool {
			return (o.Err != nil) != slices.Contains(addrs, o.Addr)
		})
		return len(why) == 0, got, tbl, nil
	}}
}

// BeInInputOrder succeeds if outcome i is for addrs[i], for every i, and
// there are as many outcomes as addresses. Given a Run, nil addrs means
// the run's own.
func BeInInputOrder(addrs []string) types.GomegaMatcher {
	return &matcher{want: "one outcome per address, in input order", match: func(actual any) (bool, string, string, error) {
		os, run, err := outcomesOf(actual)
		if err != nil {
			return false, "", "", err
		}
		want := addrs
		if want == nil && run != nil {
			want = run.Addrs
		}
		wrong := -1
		misplaced := 0
		for i := range max(len(os), len(want)) {
			if i >= len(os) || i >= len(want) || os[i].Addr != want[i] {
				misplaced++
				if wrong < 0 {
					wrong = i
				}
			}
		}
		got := fmt.Sprintf("all %d are", len(os))
		if misplaced > 0 {
			got = fmt.Sprintf("%d outcomes for %d addresses, %d out of place, the first at #%d", len(os), len(want), misplaced, wrong)
		}
		tbl := outcomeTable(os, run, want, func(i int, o Result) bool { return i >= len(want) || o.Addr != want[i] })
		return misplaced == 0, got, tbl, nil
	}}
}

// HaveOneResultPerAddress succeeds if the outcomes name every one of
// addrs exactly once and no other address, in any order. Given a Run, nil
// addrs means the run's own.
func HaveOneResultPerAddress(addrs []string) types.GomegaMatcher {
	return &matcher{want: "exactly one outcome per address", match: func(actual any) (bool, string, string, error) {
		os, run, err := outcomesOf(actual)
		if err != nil {
			return false, "", "", err
		}
		want := addrs
		if want == nil && run != nil {
			want = run.Addrs
		}
		left := map[string]int{}
		for _, a := range want {
			left[a]++
		}
		bad := make([]bool, len(os))
		var extra []string
		for i, o := range os {
			if left[o.Addr] == 0 {
				bad[i] = true
				extra = append(extra, o.Addr)
				continue
			}
			left[o.Addr]--
		}
		var missing []string
		for _, a := range want {
			if left[a] > 0 {
				missing = append(missing, a)
				left[a]--
			}
		}
		var why []string
		if len(missing) > 0 {
			why = append(why, fmt.Sprintf("%d addresses had no outcome (%s)", len(missing), list(missing)))
		}
		if len(extra) > 0 {
			why = append(why, fmt.Sprintf("%d outcomes were for another address or a repeat (%s)", len(extra), list(extra)))
		}
		got := strings.Join(why, "; ")
		if got == "" {
			got = fmt.Sprintf("all %d had one", len(want))
		}
		tbl := outcomeTable(os, run, nil, func(i int, _ Result) bool { return bad[i] })
		return len(why) == 0, got, tbl, nil
	}}
}

// CompleteWithin succeeds if a Run returned within d or, for outcomes
// alone, if no outcome's latency exceeds d.
func CompleteWithin(d time.Duration) types.GomegaMatcher {
	return &matcher{want: fmt.Sprintf("the fan-out to complete within %v", d), match: func(actual any) (bool, string, string, error) {
		os, run, err := outcomesOf(actual)
		if err != nil {
			return false, "", "", err
		}
		slow := func(_ int, o Result) bool { return o.Latency > d }
		if run != nil {
			return run.Elapsed <= d, fmt.Sprintf("it took %v", run.Elapsed), outcomeTable(os, run, nil, slow), nil
		}
		var worst time.Duration
		for _, o := range os {
			worst = max(worst, o.Latency)
		}
		return worst <= d, fmt.Sprintf("the slowest call took %v", worst), outcomeTable(os, run, nil, slow), nil
	}}
}

// HaveOneCallPerServer succeeds if the journal holds exactly one call for
// each of servers 0..n-1 and none for any other.
func HaveOneCallPerServer(n int) types.GomegaMatcher {
	return &matcher{want: fmt.Sprintf("each of the %d servers to receive exactly one call", n), match: func(actual any) (bool, string, string, error) {
		calls, run, err := callsOf(actual)
		if err != nil {
			return false, "", "", err
		}
		per := map[int]int{}
		for _, c := range calls {
			per[c.Server]++
		}
		var none, many, other int
		for s, k := range per {
			switch {
			case s < 0 || s >= n:
				other++
			case k > 1:
				many++
			}
		}
		for s := range n {
			if per[s] == 0 {
				none++
			}
		}
		got := fmt.Sprintf("the journal holds %d calls: %d servers received none, %d more than one, %d servers outside 0..%d some", len(calls), none, many, other, n-1)
		tbl := journalTable(calls, run, n, func(s int, cs []fleet.Call) bool { return s >= n || len(cs) != 1 })
		return none+many+other == 0, got, tbl, nil
	}}
}

// ReplyInOrder succeeds if each of servers replied, their replies written
// in the order given (by the journal's fleet-wide RepliedAt order). A
// server with several calls counts by its first reply. On a journal whose
// clocks are uncertain (fleet.Call.Uncertainty: an attached fleet across
// hosts), two servers' replies closer together than their uncertainties
// make it fail with a "cannot tell" error, negated or not, rather than
// give a verdict that may be wrong.
func ReplyInOrder(servers ...int) types.GomegaMatcher {
	return &matcher{want: fmt.Sprintf("servers %v to reply in that order", servers), match: func(actual any) (bool, string, string, error) {
		calls, run, err := callsOf(actual)
		if err != nil {
			return false, "", "", err
		}
		first := map[int]uint64{}
		for _, c := range calls {
			if c.RepliedAt != 0 && (first[c.Server] == 0 || c.RepliedAt < first[c.Server]) {
				first[c.Server] = c.RepliedAt
			}
		}
		var silent []int
		for _, s := range servers {
			if first[s] == 0 {
				silent = append(silent, s)
			}
		}
		order := slices.Clone(servers)
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case first[a] == first[b]:
				return 0
			case first[a] == 0:
				return 1
			case first[b] == 0:
				return -1
			case first[a] < first[b]:
				return -1
			}
			return 1
		})
		if err := tellReplies(first, calls, servers); err != nil {
			return false, "", "", err
		}
		got := fmt.Sprintf("they replied in the order %v", order)
		if len(silent) > 0 {
			got = fmt.Sprintf("servers %v never replied; the others replied in the order %v", silent, order[:len(order)-len(silent)])
		}
		n := 0
		for _, s := range servers {
			n = max(n, s+1)
		}
		tbl := journalTable(calls, run, n, func(s int, _ []fleet.Call) bool {
			i := slices.Index(servers, s)
			return i >= 0 && order[i] != s
		})
		return len(silent) == 0 && slices.Equal(order, servers), got, tbl, nil
	}}
}

// tellReplies returns a "cannot tell" error if the first replies of two of
// servers, first[s] being a RepliedAt, are closer in time than their
// clocks' uncertainties (fleet.Call.Uncertainty): their order is a guess.
func tellReplies(first map[int]uint64, calls []fleet.Call, servers []int) error {
	byReply := map[uint64]fleet.Call{}
	for _, c := range calls {
		if c.RepliedAt != 0 {
			byReply[c.RepliedAt] = c
		}
	}
	for k, a := range servers {
		for _, b := range servers[k+1:] {
			ca, okA := byReply[first[a]]
			cb, okB := byReply[first[b]]
			if !okA || !okB || a == b {
				continue
			}
			if gap, u := apart(ca.Replied, cb.Replied), ca.Uncertainty+cb.Uncertainty; gap <= u && u > 0 {
				return fmt.Errorf("matchers: cannot tell whether server %d or server %d replied first: their replies are %v apart by their corrected times, "+
					"within their clocks' uncertainty (±%v and ±%v); the order of the journal's RepliedAt is a guess", a, b, gap, ca.Uncertainty, cb.Uncertainty)
			}
		}
	}
	return nil
}

// apart is how far apart two times are.
func apart(a, b time.Time) time.Duration {
	d := a.Sub(b)
	if d < 0 {
		return -d
	}
	return d
}

// uncertain reports whether any call's times are uncertain.
func uncertain(calls []fleet.Call) bool {
	return slices.ContainsFunc(calls, func(c fleet.Call) bool { return c.Uncertainty > 0 })
}

// ReplyBefore succeeds if server i's reply was written before server j's.
func ReplyBefore(i, j int) types.GomegaMatcher { return ReplyInOrder(i, j) }

// ReturnAfterAllReplies succeeds if, by the time the Run's fan-out
// returned, every call in its journal had ended: replied (no later than
// the return), hung, or aborted; none still pending. A reply within its
// clock's uncertainty of the return is a "cannot tell" error, as for
// ReplyInOrder.
func ReturnAfterAllReplies() types.GomegaMatcher {
	return &matcher{want: "the fan-out to return only after every server replied", match: func(actual any) (bool, string, string, error) {
		run, err := runOf("ReturnAfterAllReplies", actual)
		if err != nil {
			return false, "", "", err
		}
		late := func(c fleet.Call) bool {
			return c.Outcome == fleet.Pending || (!c.Replied.IsZero() && c.Replied.After(run.Returned))
		}
		for _, c := range run.Calls {
			if c.Uncertainty > 0 && !c.Replied.IsZero() && apart(c.Replied, run.Returned) <= c.Uncertainty {
				return false, "", "", fmt.Errorf("matchers: ReturnAfterAllReplies: cannot tell whether server %d replied before the fan-out returned: "+
					"its reply is %v from the return by its corrected time, within its clock's uncertainty (±%v)", c.Server, apart(c.Replied, run.Returned), c.Uncertainty)
			}
		}
		t := &table{header: []string{"SERVER", "ADDRESS", "OUTCOME", "REPLIED", "FAULT"}}
		n := 0
		for _, c := range run.Calls {
			replied := "-"
			if !c.Replied.IsZero() {
				if d := c.Replied.Sub(run.Returned); d > 0 {
					replied = fmt.Sprintf("%v after the return", d.Round(100*time.Microsecond))
				} else {
					replied = fmt.Sprintf("%v before the return", (-d).Round(100*time.Microsecond))
				}
			}
			addr := run.addrOf(c.Server)
			if addr == "" {
				addr = c.Addr
			}
			if late(c) {
				n++
			}
			t.add(late(c), fmt.Sprint(c.Server), addr, c.Outcome.String(), replied, dash(faultsOf(c)))
		}
		got := fmt.Sprintf("all %d calls had ended", len(run.Calls))
		if n > 0 {
			got = fmt.Sprintf("%d of %d calls were still pending or replied after it returned", n, len(run.Calls))
		}
		return n == 0, got, t.String(), nil
	}}
}

// ReceiveAllBeforeFirstReply succeeds if every call in the Run's journal
// was received by its server before the first reply of the run was
// written: the caller had all its calls in flight at once. With a delay
// d on every server, a caller that keeps only k calls in flight (a worker
// pool, a semaphore, a Wait inside the loop) fails it, however fast the
// machine; a correct caller passes as long as it sends every call within
// d, so pick d well above the machine's worst stall. It needs a Run with
// its journal. A receipt within the clocks' uncertainty of a reply that
// may be the first, on another server, is a "cannot tell" error, as for
// ReplyInOrder.
func ReceiveAllBeforeFirstReply() types.GomegaMatcher {
	return &matcher{want: "every call to be received before the first reply", match: func(actual any) (bool, string, string, error) {
		run, err := runOf("ReceiveAllBeforeFirstReply", actual)
		if err != nil {
			return false, "", "", err
		}
		first := uint64(math.MaxUint64)
		for _, c := range run.Calls {
			if c.RepliedAt != 0 {
				first = min(first, c.RepliedAt)
			}
		}
		if err := tellReceipts(run.Calls); err != nil {
			return false, "", "", err
		}
		t := &table{header: []string{"SERVER", "ADDRESS", "RECEIVED", "OUTCOME", "FAULT"}}
		n := 0
		for _, c := range run.Calls {
			after := c.ReceivedAt > first
			if after {
				n++
			}
			addr := run.addrOf(c.Server)
			if addr == "" {
				addr = c.Addr
			}
			when := "before the first reply"
			if after {
				when = "after the first reply"
			}
			t.add(after, fmt.Sprint(c.Server), addr, when, c.Outcome.String(), dash(faultsOf(c)))
		}
		got := fmt.Sprintf("all %d calls were received before the first reply", len(run.Calls))
		if n > 0 {
			got = fmt.Sprintf("%d of %d calls were received only after the first reply was written", n, len(run.Calls))
		}
		return n == 0, got, t.String(), nil
	}}
}

// tellReceipts returns a "cannot tell" error if a receipt and a reply of
// two servers are closer in time than their clocks' uncertainties
// (fleet.Call.Uncertainty) and the reply is not surely later than some
// other reply: whether the call came before the first reply is a guess.
func tellReceipts(calls []fleet.Call) error {
	if !uncertain(calls) {
		return nil
	}
	// The latest a first reply may have been written, by any clock.
	bound := time.Time{}
	for _, r := range calls {
		if r.RepliedAt != 0 && (bound.IsZero() || r.Replied.Add(r.Uncertainty).Before(bound)) {
			bound = r.Replied.Add(r.Uncertainty)
		}
	}
	for _, c := range calls {
		for _, r := range calls {
			if r.RepliedAt == 0 || r.Server == c.Server || r.Replied.Add(-r.Uncertainty).After(bound) {
				continue // no reply; the same clock; surely not the first
			}
			if gap, u := apart(c.Received, r.Replied), c.Uncertainty+r.Uncertainty; gap <= u && u > 0 {
				return fmt.Errorf("matchers: ReceiveAllBeforeFirstReply: cannot tell whether server %d received its call before server %d replied: "+
					"%v apart by their corrected times, within their clocks' uncertainty (±%v and ±%v)", c.Server, r.Server, gap, c.Uncertainty, r.Uncertainty)
			}
		}
	}
	return nil
}

// runOf returns the Run in actual, for the matchers that need one.
func runOf(matcher string, actual any) (*Run, error) {
	switch a := actual.(type) {
	case Run:
		return &a, nil
	case *Run:
		if a != nil {
			return a, nil
		}
	}
	return nil, fmt.Errorf("matchers: %s needs a Run, got %T", matcher, actual)
}

// list writes addresses or other values for a message, eliding long lists.
func list(ss []string) string {
	if len(ss) > 6 {
		return fmt.Sprintf("[%s and %d more]", strings.Join(ss[:6], " "), len(ss)-6)
	}
	return fmt.Sprintf("[%s]", strings.Join(ss, " "))
}
