package faults

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Plan is an ordered list of rules. Each call gets at most one delay, from
// the first Delay rule that applies to it, and at most one outcome, from
// the first rule of any other call fault that applies; both apply, the
// outcome once the delay has passed (delay=300ms;error=boom: the error
// reply, 300ms late). A call no rule applies to is served normally. Each
// connection likewise gets the first SlowAccept rule that applies, and
// every Refuse rule holds in its window. The zero Plan injects nothing.
// A Plan is a value: once handed to a fleet (or a server) it must not be
// modified.
type Plan struct {
	Rules []Rule // in order: within each part, the first rule that applies wins
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

// ParseError reports where and why a plan's text form is invalid. Its
// Error text names the plan, the column (from 1) and the offending token,
// then says what was wrong:
//
//	faults: invalid plan "delay=5x": at column 7, "5x": not a duration (...)
type ParseError struct {
	input  string // the whole text
	offset int    // byte offset of token in input
	token  string // the offending token
	msg    string // what was wrong
}

// Error names the plan, the column and the token that is wrong. A plan
// longer than maxQuoted bytes is named by its size instead, and a token
// that long is cut, so a long bad plan is not echoed whole, nor twice.
func (e *ParseError) Error() string {
	if len(e.input) <= maxQuoted {
		return fmt.Sprintf("faults: invalid plan %q: at column %d, %q: %s", e.input, e.offset+1, e.token, e.msg)
	}
	return fmt.Sprintf("faults: invalid plan of %d bytes: at column %d, %s: %s", len(e.input), e.offset+1, shorten(e.token), e.msg)
}

// maxQuoted is the longest plan or token an error quotes whole.
const maxQuoted = 80

// shorten quotes s, cut to its first maxQuoted bytes (on a rune boundary)
// with its length when it is longer.
func shorten(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:cut], len(s))
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
// kind[=value][,key=value...], the kind's own settings and the targeting
// keys of Rule in any order:
//
//	delay=50ms,jitter=10ms;error=boom,servers=0,3,7-9,p=0.25;hang,first=2
//
// Values containing ',', ';', '"' or spaces are written as Go quoted
// strings. Blank input gives the empty plan. Errors are *ParseError,
// naming the offending token and its column.
//
// A rule that can never apply, because an earlier rule of the same part
// (delay, outcome, or slowaccept) applies to every call it could, is an
// error: in "error=a;error=b" rule 2 can never apply. Earlier rules with a
// p= below 1 never hide later ones.
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
	if j, i, ok := unreachable(plan); ok {
		fs := toks[j]
		start, end := fs[0].off, fs[len(fs)-1].end
		return Plan{}, &ParseError{input: s, offset: start, token: s[start:end], msg: unreachableMsg(plan, j, i)}
	}
	return plan, nil
}

// field is one key[=value] of a rule, with its offset in the input.
type field struct {
	key, val string
	hasVal   bool
	off      int // offset of key
	valOff   int // offset of val
	end      int // offset just after the field, trailing spaces left out
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
					return nil, &ParseError{input: s, offset: i, token: s[i:], msg: "unterminated or invalid quoted string"}
				}
				f.val, _ = strconv.Unquote(q)
				i += len(q)
				f.end = i
				for i < len(s) && s[i] == ' ' {
					i++
				}
				if i < len(s) && s[i] != ',' && s[i] != ';' {
					return nil, &ParseError{input: s, offset: i, token: s[i:], msg: "unexpected text after quoted string"}
				}
			} else {
				for i < len(s) && s[i] != ',' && s[i] != ';' {
					i++
				}
				f.val = strings.TrimRight(s[f.valOff:i], " ")
				f.end = f.valOff + len(f.val)
			}
		} else {
			f.end = start + len(f.key)
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
				return nil, &ParseError{input: s, offset: f.off, token: "", msg: "empty setting after ','"}
			}
			if sep == ',' {
				return nil, &ParseError{input: s, offset: f.off, token: ",", msg: "rule starts with ','"}
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
		return &ParseError{input: s, offset: off, token: tok, msg: fmt.Sprintf(format, args...)}
	}
	kind := fs[0]
	var r Rule
	if kind.key == "" {
		return r, bad(kind.off, kind.key, "missing fault kind (%s)", kindNames())
	}
	f, ok := newFault(kind.key)
	if !ok {
		return r, bad(kind.off, kind.key, "unknown fault kind (want %s)", kindNames())
	}
	if kind.hasVal {
		if err := f.set("", kind.val); err != nil {
			return r, bad(kind.valOff, kind.val, "%v", err)
		}
	} else if err := f.set("", ""); err != nil && !errors.Is(err, errNoValue) {
		return r, bad(kind.off, kind.key, "%v", err)
	}
	seen := map[string]bool{kind.key: kind.hasVal} // error=a,error=b: given twice
	last := ""
	for _, fd := range fs[1:] {
		if !fd.hasVal && last == "servers" && isSpan(fd.key) {
			sp, err := parseSpan(fd.key)
			if err != nil {
				return r, bad(fd.off, fd.key, "%v", err)
			}
			r.Servers.Spans = append(r.Servers.Spans, sp)
			continue
		}
		if fd.key == "" {
			return r, bad(fd.off, "="+fd.val, "missing setting name before '='")
		}
		last = fd.key
		if seen[fd.key] {
			return r, bad(fd.off, fd.key, "setting given twice")
		}
		seen[fd.key] = true
		if !fd.hasVal {
			return r, bad(fd.off, fd.key, "setting needs a value, e.g. %s=...", fd.key)
		}
		err := f.set(fd.key, fd.val)
		if errors.Is(err, errUnknownSetting) {
			if err = r.setTarget(fd.key, fd.val); errors.Is(err, errUnknownSetting) {
				return r, bad(fd.off, fd.key, "unknown setting for %s", kind.key)
			}
			if err == nil && !allowed(deref(f), fd.key) {
				return r, bad(fd.off, fd.key, "%s applies to the listener, not to calls: %s= does not apply", kind.key, fd.key)
			}
		}
		if err != nil {
			return r, bad(fd.valOff, fd.val, "%v", err)
		}
	}
	r.Fault = deref(f)
	if c, ok := r.Fault.(checker); ok {
		if err := c.check(); err != nil {
			return r, bad(kind.off, kind.key, "%v", err)
		}
	}
	if r.Servers.Spans != nil && r.Servers.Percent != 0 {
		return r, bad(kind.off, kind.key, "servers takes indices or a percentage, not both")
	}
	return r, nil
}

// deref turns the pointer newFault returned into the value a Rule keeps.
func deref(f setter) Fault {
	return reflect.ValueOf(f).Elem().Interface().(Fault)
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
