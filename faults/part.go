package faults

import (
	"fmt"
	"slices"
)

// part is the part of a decision a rule competes for: the first rule of
// each part that applies wins, and rules of different parts never compete.
type part int

const (
	partOutcome part = iota // call faults other than Delay: what the reply becomes
	partDelay               // Delay: when the outcome takes effect
	partAccept              // SlowAccept: per connection
	partNone                // Refuse, Blackhole: windows, every one of which holds
)

// partOf returns the part f competes for.
func partOf(f Fault) part {
	switch f.(type) {
	case Delay:
		return partDelay
	case SlowAccept:
		return partAccept
	case Refuse, Blackhole:
		return partNone
	}
	return partOutcome
}

// covers reports whether r applies to every call s could apply to, so that
// s, of the same part and later in the plan, can never apply. It is
// conservative: false when in doubt, never true when s could apply.
func (r Rule) covers(s Rule) bool {
	if r.P != 0 && r.P < 1 {
		return false
	}
	return r.Servers.covers(s.Servers) &&
		(r.Method == "" || r.Method == s.Method) &&
		(r.First == 0 || s.First != 0 && r.First >= s.First) &&
		(r.After == 0 || s.After >= r.After) &&
		(r.Every == 0 || s.Every != 0 && s.Every%r.Every == 0) &&
		r.From <= s.From &&
		// s's window ends no later than r's: s.From+s.For <= r.From+r.For,
		// written so that nothing overflows.
		(r.For == 0 || s.For != 0 && s.For <= r.For && s.From-r.From <= r.For-s.For)
}

// covers reports whether s selects every server t selects, whatever the
// fleet's size and seed.
func (s Servers) covers(t Servers) bool {
	switch {
	case s.all():
		return true
	case s.Percent != 0:
		return t.Percent == s.Percent
	case t.Percent != 0 || len(t.Spans) == 0:
		return false
	}
	// Merge s's spans, then each of t's must lie within one of them.
	spans := slices.Clone(s.Spans)
	slices.SortFunc(spans, func(a, b Span) int { return a.Lo - b.Lo })
	var merged []Span
	for _, sp := range spans {
		if k := len(merged) - 1; k >= 0 && sp.Lo-1 <= merged[k].Hi {
			merged[k].Hi = max(merged[k].Hi, sp.Hi)
			continue
		}
		merged = append(merged, sp)
	}
	for _, sp := range t.Spans {
		if !slices.ContainsFunc(merged, func(m Span) bool { return m.Lo <= sp.Lo && sp.Hi <= m.Hi }) {
			return false
		}
	}
	return true
}

// unreachable returns the first rule of p that can never apply because an
// earlier rule of the same part covers it, and that earlier rule; ok is
// false if every rule can apply.
func unreachable(p Plan) (later, earlier int, ok bool) {
	for j, s := range p.Rules {
		pt := partOf(s.Fault)
		if pt == partNone {
			continue
		}
		for i, r := range p.Rules[:j] {
			if partOf(r.Fault) == pt && r.covers(s) {
				return j, i, true
			}
		}
	}
	return 0, 0, false
}

// unreachableMsg explains why rule later can never apply.
func unreachableMsg(p Plan, later, earlier int) string {
	what, why := "call", "a call takes only the first delay rule and the first outcome rule that apply"
	if partOf(p.Rules[later].Fault) == partAccept {
		what, why = "connection", "a connection takes only the first slowaccept rule that applies"
	}
	return fmt.Sprintf("rule %d can never apply: rule %d (%s) matches every %s rule %d would (%s)",
		later+1, earlier+1, p.Rules[earlier], what, later+1, why)
}
