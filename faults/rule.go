package faults

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rule pairs a Fault with the calls it applies to. Every zero field means
// "any": a Rule with only Fault set applies to every call of every server.
// Call numbers count the server's calls since the plan was set (or the
// server's counters reset), from 1; times are measured from the same moment.
type Rule struct {
	Fault Fault // what happens: Delay{D: 50 * time.Millisecond}, Hang{}, ...

	Servers Servers // servers=0,3,7-9 or servers=10%
	Method  string  // method=Service.Method
	First   uint64  // first=N: only calls 1..N
	After   uint64  // after=N: only calls after the Nth
	Every   uint64  // every=N: only every Nth call
	// P is the chance, rolled afresh for every call the other keys let
	// through, that the rule applies (p=0.01). Zero means 1.
	P    float64
	From time.Duration // from=500ms: only from this long after the plan was set
	For  time.Duration // for=2s: only for this long (after From)
}

// String returns the rule in the text form Parse reads.
func (r Rule) String() string {
	var b strings.Builder
	b.WriteString(r.Fault.text())
	add := func(k, v string) { b.WriteString("," + k + "=" + v) }
	if !r.Servers.all() {
		add("servers", r.Servers.text())
	}
	if r.Method != "" {
		add("method", quoteIfNeeded(r.Method))
	}
	for _, kv := range []struct {
		k string
		v uint64
	}{{"first", r.First}, {"after", r.After}, {"every", r.Every}} {
		if kv.v > 0 {
			add(kv.k, strconv.FormatUint(kv.v, 10))
		}
	}
	if r.P != 0 && r.P != 1 {
		add("p", fmtFloat(r.P))
	}
	if r.From > 0 {
		add("from", r.From.String())
	}
	if r.For > 0 {
		add("for", r.For.String())
	}
	return b.String()
}

// Servers selects servers by index: explicit spans, or a fraction chosen
// with the fleet seed. The zero value selects every server.
type Servers struct {
	Spans   []Span  // inclusive index ranges
	Percent float64 // in (0, 100]: this share of the fleet, rounded, picked by the seed
}

// Span is an inclusive range of server indices: {Lo: 7, Hi: 9} is
// servers=7-9, {Lo: 3, Hi: 3} is servers=3.
type Span struct {
	Lo, Hi int // first and last index, Lo <= Hi
}

// all reports whether s selects every server.
func (s Servers) all() bool { return len(s.Spans) == 0 && s.Percent == 0 }

// text returns the selection in the text form of servers=.
func (s Servers) text() string {
	if s.Percent != 0 {
		return fmtFloat(s.Percent) + "%"
	}
	parts := make([]string, len(s.Spans))
	for i, sp := range s.Spans {
		parts[i] = strconv.Itoa(sp.Lo)
		if sp.Hi != sp.Lo {
			parts[i] += "-" + strconv.Itoa(sp.Hi)
		}
	}
	return strings.Join(parts, ",")
}

// parseSpan reads "7" or "7-9".
func parseSpan(v string) (Span, error) {
	lo, hi, isRange := strings.Cut(v, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 0 {
		return Span{}, fmt.Errorf("not a server index or range (want e.g. 3 or 7-9)")
	}
	if !isRange {
		return Span{a, a}, nil
	}
	b, err := strconv.Atoi(hi)
	if err != nil || b < a {
		return Span{}, fmt.Errorf("not a server range (want lo-hi with lo <= hi)")
	}
	return Span{a, b}, nil
}

// isSpan reports whether a bare field continues a servers= list.
func isSpan(v string) bool {
	if v == "" {
		return false
	}
	for _, c := range v {
		if (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// setTarget applies one targeting key to r.
func (r *Rule) setTarget(key, val string) error {
	count := func(dst *uint64) error {
		n, err := strconv.ParseUint(val, 10, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("%s must be a positive whole number", key)
		}
		*dst = n
		return nil
	}
	switch key {
	case "servers":
		if pct, ok := strings.CutSuffix(val, "%"); ok {
			f, err := strconv.ParseFloat(pct, 64)
			if err != nil || !(f > 0 && f <= 100) {
				return fmt.Errorf("servers=N%% needs N in (0, 100]")
			}
			r.Servers = Servers{Percent: f}
			return nil
		}
		sp, err := parseSpan(val)
		if err != nil {
			return err
		}
		r.Servers = Servers{Spans: []Span{sp}}
		return nil
	case "method":
		if val == "" {
			return fmt.Errorf("method needs a name, e.g. method=Service.Method")
		}
		r.Method = val
		return nil
	case "first":
		return count(&r.First)
	case "after":
		return count(&r.After)
	case "every":
		return count(&r.Every)
	case "p":
		p, err := strconv.ParseFloat(val, 64)
		if err != nil || !(p > 0 && p <= 1) {
			return fmt.Errorf("p must be a probability in (0, 1]")
		}
		if p == 1 {
			p = 0 // the same: always
		}
		r.P = p
		return nil
	case "from":
		d, err := parseDuration(val)
		r.From = d
		return err
	case "for":
		d, err := parseDuration(val)
		if err == nil && d == 0 {
			err = fmt.Errorf("for must be a positive duration")
		}
		r.For = d
		return err
	}
	return errUnknownSetting
}

// allowed reports whether a targeting key makes sense for the rule's kind.
func allowed(f Fault, key string) bool {
	switch f.(type) {
	case Refuse, Blackhole:
		return key == "servers" || key == "from" || key == "for"
	case SlowAccept:
		return key != "method"
	}
	return true
}
