package faults

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rule pairs a Fault with the per-call probability that it applies.
type Rule struct {
	Fault Fault
	// P is the chance, rolled afresh for every call, that the rule applies.
	// Zero means 1: the rule applies to every call.
	P float64
}

func (r Rule) String() string {
	s := r.Fault.String()
	if r.P != 0 && r.P != 1 {
		s += ",p=" + strconv.FormatFloat(r.P, 'g', -1, 64)
	}
	return s
}

// Plan is an ordered list of rules. For each call the rules are tried in
// order and the first that applies wins; a call no rule applies to is
// served normally. The zero Plan injects nothing. A Plan is a value: once
// handed to an Engine it must not be modified.
type Plan struct {
	Rules []Rule
}

// Empty reports whether the plan injects nothing.
func (p Plan) Empty() bool { return len(p.Rules) == 0 }

// String returns the text form of the plan; Parse(p.String()) gives back an
// equal plan.
func (p Plan) String() string {
	parts := make([]string, len(p.Rules))
	for i, r := range p.Rules {
		parts[i] = r.String()
	}
	return strings.Join(parts, ";")
}

// ParseError reports where and why a plan's text form is invalid.
type ParseError struct {
	Input  string // the whole text
	Offset int    // byte offset of Token in Input
	Token  string // the offending token
	Msg    string // what was wrong
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("faults: invalid plan %q: at column %d, %q: %s", e.Input, e.Offset+1, e.Token, e.Msg)
}

// MustParse is Parse for plans known to be valid, such as literals in
// tests; it panics on an invalid plan.
func MustParse(s string) Plan {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Parse reads the text form of a plan: rules separated by ';', each
// kind[=value][,key=value...]. Kinds: delay=DURATION (keys: jitter),
// error=MESSAGE, hang. Every rule takes p=PROBABILITY in (0, 1]. A
// message containing ',', ';', '"' or spaces is written as a Go quoted
// string. Blank input gives the empty plan. Errors are *ParseError.
func Parse(s string) (Plan, error) {
	var plan Plan
	toks, err := tokenize(s)
	if err != nil {
		return Plan{}, err
	}
	for _, rule := range toks {
		r, err := parseRule(s, rule)
		if err != nil {
			return Plan{}, err
		}
		plan.Rules = append(plan.Rules, r)
	}
	return plan, nil
}

// field is one key[=value] of a rule, with its offset in the input.
type field struct {
	key, val string
	hasVal   bool
	off      int // offset of key
	valOff   int // offset of val
}

// tokenize splits s into rules of fields, honouring quoted values.
func tokenize(s string) ([][]field, error) {
	var (
		rules [][]field
		cur   []field
		i     = 0
	)
	for i <= len(s) {
		// Skip spaces before a field.
		for i < len(s) && s[i] == ' ' {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && s[i] != ';' {
			i++
		}
		f := field{key: strings.TrimRight(s[start:i], " "), off: start}
		if i < len(s) && s[i] == '=' {
			i++
			f.hasVal, f.valOff = true, i
			if i < len(s) && s[i] == '"' {
				q, err := strconv.QuotedPrefix(s[i:])
				if err != nil {
					return nil, &ParseError{Input: s, Offset: i, Token: s[i:], Msg: "unterminated or invalid quoted string"}
				}
				f.val, _ = strconv.Unquote(q)
				i += len(q)
				for i < len(s) && s[i] == ' ' {
					i++
				}
				if i < len(s) && s[i] != ',' && s[i] != ';' {
					return nil, &ParseError{Input: s, Offset: i, Token: s[i:], Msg: "unexpected text after quoted string"}
				}
			} else {
				for i < len(s) && s[i] != ',' && s[i] != ';' {
					i++
				}
				f.val = strings.TrimRight(s[f.valOff:i], " ")
			}
		}
		end := i >= len(s)
		sep := byte(0)
		if !end {
			sep = s[i]
		}
		i++
		if f.key == "" && !f.hasVal {
			// An empty field is fine only as an empty rule (";;" or blank input).
			if len(cur) > 0 {
				return nil, &ParseError{Input: s, Offset: f.off, Token: "", Msg: "empty setting after ','"}
			}
			if sep == ',' {
				return nil, &ParseError{Input: s, Offset: f.off, Token: ",", Msg: "rule starts with ','"}
			}
			if end {
				break
			}
			continue
		}
		cur = append(cur, f)
		if end || sep == ';' {
			rules = append(rules, cur)
			cur = nil
		}
		if end {
			break
		}
	}
	return rules, nil
}

func parseRule(s string, fs []field) (Rule, error) {
	bad := func(off int, tok, format string, args ...any) error {
		return &ParseError{Input: s, Offset: off, Token: tok, Msg: fmt.Sprintf(format, args...)}
	}
	kind := fs[0]
	var r Rule
	switch kind.key {
	case "delay":
		if !kind.hasVal {
			return r, bad(kind.off, kind.key, "delay needs a duration, e.g. delay=50ms")
		}
		d, err := parseDuration(kind.val)
		if err != nil {
			return r, bad(kind.valOff, kind.val, "%v", err)
		}
		r.Fault = Delay{D: d}
	case "error":
		if !kind.hasVal || kind.val == "" {
			return r, bad(kind.off, kind.key, "error needs a message, e.g. error=boom")
		}
		r.Fault = Error{Msg: kind.val}
	case "hang":
		if kind.hasVal {
			return r, bad(kind.valOff, kind.val, "hang takes no value")
		}
		r.Fault = Hang{}
	case "":
		return r, bad(kind.off, kind.key, "missing fault kind (delay, error or hang)")
	default:
		return r, bad(kind.off, kind.key, "unknown fault kind (want delay, error or hang)")
	}
	seen := map[string]bool{}
	for _, f := range fs[1:] {
		if seen[f.key] {
			return r, bad(f.off, f.key, "setting given twice")
		}
		seen[f.key] = true
		if !f.hasVal {
			return r, bad(f.off, f.key, "setting needs a value, e.g. %s=...", f.key)
		}
		switch {
		case f.key == "p":
			p, err := strconv.ParseFloat(f.val, 64)
			if err != nil || !(p > 0 && p <= 1) {
				return r, bad(f.valOff, f.val, "p must be a probability in (0, 1]")
			}
			r.P = p
		case f.key == "jitter" && kind.key == "delay":
			d, err := parseDuration(f.val)
			if err != nil {
				return r, bad(f.valOff, f.val, "%v", err)
			}
			dl := r.Fault.(Delay)
			dl.Jitter = d
			r.Fault = dl
		default:
			return r, bad(f.off, f.key, "unknown setting for %s", kind.key)
		}
	}
	return r, nil
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("not a duration (want e.g. 50ms, 1.5s)")
	}
	if d < 0 {
		return 0, fmt.Errorf("duration must not be negative")
	}
	return d, nil
}

// quoteIfNeeded quotes a value that the tokenizer would otherwise split or
// trim.
func quoteIfNeeded(v string) string {
	if v == "" || strings.ContainsAny(v, ",;\"= \t\n\\") || strconv.Quote(v) != `"`+v+`"` {
		return strconv.Quote(v)
	}
	return v
}
