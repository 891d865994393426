package matchers

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// maxRows bounds a table: longer ones show only their marked rows.
const maxRows = 40

// table renders rows under a header; rows whose mark is true are flagged
// with ">". Past maxRows rows only marked rows are shown.
type table struct {
	header []string
	rows   [][]string
	marks  []bool
}

func (t *table) add(mark bool, cells ...string) {
	t.rows = append(t.rows, cells)
	t.marks = append(t.marks, mark)
}

func (t *table) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "  \t%s\n", strings.Join(t.header, "\t"))
	shown, marked := 0, 0
	for i, r := range t.rows {
		if t.marks[i] {
			marked++
		}
		if len(t.rows) > maxRows && (!t.marks[i] || shown == maxRows) {
			continue
		}
		flag := ""
		if t.marks[i] {
			flag = ">"
		}
		fmt.Fprintf(w, "  %s\t%s\n", flag, strings.Join(r, "\t"))
		shown++
	}
	w.Flush()
	if hidden := len(t.rows) - shown; hidden > 0 {
		fmt.Fprintf(&b, "  (%d more rows not shown: %d of %d rows are marked)\n", hidden, marked, len(t.rows))
	}
	return b.String()
}

// outcomeTable renders outcomes, one row per address; mark says which rows
// to flag. With want, a WANT column shows the address expected at each
// position. With a journal, SERVER and FAULT say what each server did.
func outcomeTable(outcomes []Result, run *Run, want []string, mark func(i int, o Result) bool) string {
	t := &table{header: []string{"#"}}
	if want != nil {
		t.header = append(t.header, "WANT")
	}
	t.header = append(t.header, "ADDRESS", "OUTCOME", "LATENCY")
	journal := run != nil && run.Calls != nil
	if journal {
		t.header = append(t.header, "SERVER", "FAULT")
	}
	for i := range max(len(outcomes), len(want)) {
		cells := []string{fmt.Sprint(i)}
		if want != nil {
			w := "(none)"
			if i < len(want) {
				w = want[i]
			}
			cells = append(cells, w)
		}
		if i >= len(outcomes) {
			cells = append(cells, "(none)", "no outcome", "-")
			if journal {
				server, fault := serverView(run.callsTo(want[i]))
				cells = append(cells, server, fault)
			}
			t.add(true, cells...)
			continue
		}
		o := outcomes[i]
		cells = append(cells, o.Addr, describe(o), latency(o.Latency))
		if journal {
			server, fault := serverView(run.callsTo(o.Addr))
			cells = append(cells, server, fault)
		}
		t.add(mark(i, o), cells...)
	}
	return t.String()
}

// journalTable renders the journal one row per server, servers 0..n-1 and
// any other that received a call; mark says which servers to flag.
func journalTable(calls []fleet.Call, run *Run, n int, mark func(server int, calls []fleet.Call) bool) string {
	per := map[int][]fleet.Call{}
	for _, c := range calls {
		per[c.Server] = append(per[c.Server], c)
		n = max(n, c.Server+1)
	}
	t := &table{header: []string{"SERVER", "ADDRESS", "CALLS", "OUTCOME", "RECEIVED", "REPLIED", "FAULT"}}
	for s := range n {
		cs := per[s]
		addr := run.addrOf(s)
		if addr == "" && len(cs) > 0 {
			addr = cs[0].Addr
		}
		var recv, repl []string
		for _, c := range cs {
			recv = append(recv, fmt.Sprintf("#%d", c.ReceivedAt))
			if c.RepliedAt != 0 {
				repl = append(repl, fmt.Sprintf("#%d", c.RepliedAt))
			}
		}
		server, fault := serverView(cs)
		t.add(mark(s, cs), fmt.Sprint(s), addr, fmt.Sprint(len(cs)), server, orDash(recv), orDash(repl), fault)
	}
	return t.String()
}

// serverView summarises calls: their outcomes and their distinct faults.
func serverView(calls []fleet.Call) (outcome, fault string) {
	if len(calls) == 0 {
		return "no call", "-"
	}
	var os, fs []string
	for _, c := range calls {
		os = append(os, c.Outcome.String())
		if f := faultsOf(c); f != "" && !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	return strings.Join(os, ","), orDash(fs)
}

// describe is an outcome in a table cell: ok, or the error on one line.
func describe(o Result) string {
	if o.Err == nil {
		return "ok"
	}
	s := strings.Join(strings.Fields(o.Err.Error()), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return "error: " + s
}

func latency(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(100 * time.Microsecond).String()
}

func orDash(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, ",")
}

// faultsOf is a call's faults for a table cell: the delay it was held
// back, if any, then its outcome fault, as in "delay=312.4ms;error=boom";
// "" if none.
func faultsOf(c fleet.Call) string {
	var parts []string
	if c.Delay > 0 {
		parts = append(parts, "delay="+c.Delay.Round(100*time.Microsecond).String())
	}
	if c.Fault != "" {
		parts = append(parts, c.Fault)
	}
	return strings.Join(parts, ";")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// JournalTable renders a journal one row per server, as the journal
// matchers' failure messages do, flagging servers that received no call
// or have a call still pending. servers are the fleet's addresses by
// index (Fleet.Addrs); it may be nil.
func JournalTable(calls []fleet.Call, servers []string) string {
	return journalTable(calls, &Run{Servers: servers}, len(servers), func(_ int, cs []fleet.Call) bool {
		return len(cs) == 0 || slices.ContainsFunc(cs, func(c fleet.Call) bool { return c.Outcome == fleet.Pending })
	})
}
