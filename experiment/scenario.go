package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
)

// Scenario is an experiment as a scenario file describes it. Parse and
// Load fill the defaults (seed 1, inflight 1, timeout 1s, image
// rpcfleet:dev); a Scenario built in code sets Servers, Rounds or
// Duration, InFlight, Timeout and its Strategies (none is fine when Run
// is given a fan-out of WithFanOut), and Check says what is missing.
type Scenario struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	Servers     int           `yaml:"servers"`  // fleet size
	Backend     string        `yaml:"backend"`  // "inprocess" (the default, also ""), "memory" (in process, in-memory transport), "container", or "attach" (implied by Attach)
	Attach      string        `yaml:"attach"`   // servers to attach to (package fleet/attach): control addresses host:port,..., dns:NAME:PORT or srv:NAME
	Image       string        `yaml:"image"`    // the container backend's image (default rpcfleet:dev, see make image)
	Seed        uint64        `yaml:"seed"`     // seed of every fault decision
	Rounds      int           `yaml:"rounds"`   // fan-outs per strategy, or
	Duration    time.Duration `yaml:"duration"` // how long to run each strategy
	InFlight    int           `yaml:"inflight"` // fan-outs in flight at once
	Timeout     time.Duration `yaml:"timeout"`  // per-call timeout
	Slow        time.Duration `yaml:"slow"`     // a fan-out at least this long counts as slow (0: not reported)
	Faults      Plan          `yaml:"faults"`   // the faults text form: one string, or a list of rules
	Strategies  []Strategy    `yaml:"strategies"`
}

// Plan is a fault plan in a scenario file: one string in the faults text
// form, or a list of rules, one string each.
type Plan struct{ faults.Plan }

// UnmarshalYAML parses the plan, reporting a bad rule with its line. A
// plan holds at most MaxRules rules.
func (p *Plan) UnmarshalYAML(n *yaml.Node) error {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	texts := make([]string, 0, len(items))
	rules := 0
	for _, item := range items {
		if item.Kind != yaml.ScalarNode {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: faults: want a plan such as \"delay=50ms,p=0.01\" or a list of such rules", item.Line)}}
		}
		// Counted before parsing, which takes longer the more rules
		// there are: ';' inside a quoted error text counts too.
		if rules += strings.Count(item.Value, ";") + 1; rules > MaxRules {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: faults: want at most %d rules (each call is matched against them in turn), got more", item.Line, MaxRules)}}
		}
		if _, err := faults.Parse(item.Value); err != nil {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", item.Line, err)}}
		}
		texts = append(texts, item.Value)
	}
	// The rules as one plan: a rule that an earlier item's rule always
	// hides is an error at its own item, found by its column.
	joined := strings.Join(texts, ";")
	q, err := faults.Parse(joined)
	if err != nil {
		line := items[0].Line
		if m := column.FindStringSubmatch(err.Error()); m != nil {
			col, _ := strconv.Atoi(m[1])
			for i, start := 0, 1; i < len(texts); i++ {
				if col >= start {
					line = items[i].Line
				}
				start += len(texts[i]) + 1
			}
		}
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", line, err)}}
	}
	p.Plan = q
	return nil
}

// column finds the column a faults.ParseError names.
var column = regexp.MustCompile(`: at column (\d+),`)

// Strategy is one fan-out strategy to compare. Zero fields are off: a
// strategy with only a name waits for all calls.
type Strategy struct {
	Name        string        `yaml:"name"`
	FailFast    bool          `yaml:"failfast"`
	Quorum      int           `yaml:"quorum"`
	Hedge       *Hedge        `yaml:"hedge"`
	Retry       *Retry        `yaml:"retry"`
	Budget      *Budget       `yaml:"budget"`
	Concurrency int           `yaml:"concurrency"`
	Timeout     time.Duration `yaml:"timeout"` // overrides the scenario's
}

// Hedge sends backup calls after a delay or a latency quantile.
type Hedge struct {
	After    time.Duration `yaml:"after"`
	Quantile float64       `yaml:"quantile"`
	Max      int           `yaml:"max"`
}

// Retry retries failed calls with exponential backoff and full jitter.
type Retry struct {
	Attempts int           `yaml:"attempts"`
	Base     time.Duration `yaml:"base"`
	Cap      time.Duration `yaml:"cap"`
}

// Budget is a token bucket shared by retries and hedges.
type Budget struct {
	Tokens float64 `yaml:"tokens"`
	Ratio  float64 `yaml:"ratio"`
}

// Error is a problem in a scenario file, with where it is.
type Error struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	msg := strings.ReplaceAll(e.Msg, "\n", `\n`) // one line per error
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	}
	return fmt.Sprintf("%s: %s", e.File, msg)
}

// quoteShort quotes a value for an error, cut to 60 bytes.
func quoteShort(v string) string {
	if len(v) <= 60 {
		return strconv.Quote(v)
	}
	return strconv.Quote(strings.ToValidUTF8(v[:60], "")) + fmt.Sprintf("... (%d bytes)", len(v))
}

// The bounds of a scenario, each with its reason in the error that
// enforces it.
const (
	// MaxScenarioSize bounds a scenario file: a scenario is a page of
	// YAML, and a file read whole must not be able to exhaust memory
	// (/dev/zero, a log given by mistake).
	MaxScenarioSize = 1 << 20
	// MaxInFlight bounds Scenario.InFlight: each fan-out in flight holds
	// a call on every server's connection, and a server serves
	// fleet.DefaultMaxInFlight calls of a connection at once.
	MaxInFlight = 1000
	// MaxRounds bounds Scenario.Rounds: more take hours; a long run is
	// better set by its duration.
	MaxRounds = 10_000_000
	// MaxDuration bounds Scenario.Duration.
	MaxDuration = 24 * time.Hour
	// MaxRules bounds the rules of a scenario's plan: each call is matched
	// against them in turn, and checking a plan for rules that can never
	// apply takes longer than linear time in their number.
	MaxRules = 1000
)

// Load reads and checks a scenario file of at most MaxScenarioSize bytes.
// A file that cannot be read is an error of package os (os.IsNotExist
// tells a missing one); a bad one is an *Error.
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxScenarioSize+1))
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads and checks a scenario from data; name is used in errors.
// Unknown keys, values of the wrong type and impossible values are
// reported as *Error with the line and what was expected.
func Parse(name string, data []byte) (*Scenario, error) {
	if len(data) > MaxScenarioSize {
		return nil, &Error{File: name, Line: 1, Msg: fmt.Sprintf("more than %d bytes: a scenario is a page of YAML (is it the right file?)", MaxScenarioSize)}
	}
	var root yaml.Node
	docs := yaml.NewDecoder(bytes.NewReader(data))
	if err := docs.Decode(&root); err != nil && err != io.EOF {
		return nil, yamlError(name, data, err)
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Msg: "empty scenario"}
	}
	var next yaml.Node
	switch err := docs.Decode(&next); {
	case err == nil:
		return nil, &Error{File: name, Line: max(next.Line, 1), Msg: "a second YAML document: a scenario file holds one (remove the '---')"}
	case err != io.EOF:
		return nil, yamlError(name, data, err)
	}
	if err := wholeNumbers(name, "scenario", root.Content[0], reflect.TypeFor[Scenario]()); err != nil {
		return nil, err
	}
	sc := &Scenario{Backend: "inprocess", Image: "rpcfleet:dev", InFlight: 1, Timeout: time.Second, Seed: 1}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(sc); err != nil {
		return nil, yamlError(name, data, err)
	}
	if err := sc.check(nil); err != nil {
		var pe *pathError
		if errors.As(err, &pe) {
			return nil, &Error{File: name, Line: lineOf(root.Content[0], pe.path), Msg: pe.msg}
		}
		return nil, &Error{File: name, Line: 1, Msg: err.Error()}
	}
	return sc, nil
}

// pathError names the key path of a bad value, to be turned into a line.
type pathError struct {
	path []string // keys, and indices of list items as numbers
	msg  string
}

func (e *pathError) Error() string { return e.msg } // the message names its key

// checkAttach checks an attach: value as package fleet/attach reads it.
func checkAttach(s string) error {
	_, err := attach.Parse(s)
	return err
}

func bad(msg string, path ...string) error { return &pathError{path: path, msg: msg} }

// maxServers is the largest fleet the scenario's backend can start.
func (sc *Scenario) maxServers() int {
	if sc.Backend == "memory" {
		return fleet.MaxMemoryServers
	}
	return fleet.MaxServers
}

// serversWhy is the reason for maxServers.
func (sc *Scenario) serversWhy() string {
	if sc.Backend == "memory" {
		return "an in-memory fleet's limit"
	}
	return "each server listens on a port of its own"
}

// Check validates a scenario built in code or changed by flags.
func (sc *Scenario) Check() error { return sc.check(nil) }

// check validates the scenario; fanOuts are the names of the fan-outs of
// WithFanOut run beside it, which stand in for strategies.
func (sc *Scenario) check(fanOuts []string) error {
	switch {
	case sc.Servers < 1 || sc.Servers > sc.maxServers():
		return bad(fmt.Sprintf("servers: want 1..%d (%s), got %d", sc.maxServers(), sc.serversWhy(), sc.Servers), "servers")
	case sc.Backend != "" && sc.Backend != "inprocess" && sc.Backend != "memory" && sc.Backend != "container" && sc.Backend != "attach":
		return bad(fmt.Sprintf("backend: want inprocess, memory, container or attach, got %q", sc.Backend), "backend")
	case sc.Backend == "memory" && len(fanOuts) > 0:
		return bad(fmt.Sprintf("backend: memory: the fan-outs of WithFanOut (%s) dial addresses themselves and cannot reach an in-memory fleet; use inprocess", strings.Join(fanOuts, ", ")), "backend")
	case sc.Backend == "attach" && sc.Attach == "":
		return bad("attach: want the servers to attach to: host:port,... control addresses, dns:NAME:PORT or srv:NAME", "backend")
	case sc.Attach != "" && (sc.Backend == "container" || sc.Backend == "memory"):
		return bad("attach: attached servers run already: leave backend out (or set it to attach) with attach", "attach")
	case sc.Backend == "container" && sc.Image == "":
		return bad("image: want the container image to run, e.g. rpcfleet:dev (make image)", "image")
	case sc.Attach != "" && checkAttach(sc.Attach) != nil:
		return bad(checkAttach(sc.Attach).Error(), "attach")
	case sc.Rounds < 0:
		return bad(fmt.Sprintf("rounds: want 0 or more, got %d", sc.Rounds), "rounds")
	case sc.Rounds > MaxRounds:
		return bad(fmt.Sprintf("rounds: want at most %d (a longer run takes hours: give a duration instead), got %d", MaxRounds, sc.Rounds), "rounds")
	case sc.Duration < 0:
		return bad(fmt.Sprintf("duration: want a positive duration, got %v", sc.Duration), "duration")
	case sc.Duration > MaxDuration:
		return bad(fmt.Sprintf("duration: want at most %v per strategy, got %v", MaxDuration, sc.Duration), "duration")
	case sc.Rounds == 0 && sc.Duration == 0:
		return bad("want rounds or duration", "rounds")
	case sc.Rounds > 0 && sc.Duration > 0:
		return bad(fmt.Sprintf("want rounds or duration, not both (rounds %d, duration %v)", sc.Rounds, sc.Duration), "duration")
	case sc.InFlight < 1:
		return bad(fmt.Sprintf("inflight: want at least 1, got %d", sc.InFlight), "inflight")
	case sc.InFlight > MaxInFlight:
		return bad(fmt.Sprintf("inflight: want at most %d (each fan-out in flight holds a call on every server's connection, and a server serves %d of a connection's calls at once), got %d",
			MaxInFlight, fleet.DefaultMaxInFlight, sc.InFlight), "inflight")
	case sc.Timeout <= 0:
		return bad(fmt.Sprintf("timeout: want a positive duration, got %v", sc.Timeout), "timeout")
	case sc.Slow < 0:
		return bad(fmt.Sprintf("slow: want a positive duration, got %v", sc.Slow), "slow")
	case len(sc.Strategies) == 0 && len(fanOuts) == 0:
		return bad("strategies: want at least one strategy", "strategies")
	}
	// A plan built in code or given by flags is held to what Parse
	// accepts: valid settings, and no rule that can never apply.
	if _, err := faults.Parse(sc.Faults.String()); err != nil {
		return bad(err.Error(), "faults")
	}
	var names []string
	for i, st := range sc.Strategies {
		at := func(key string) []string { return []string{"strategies", strconv.Itoa(i), key} }
		if st.Name == "" {
			return bad(fmt.Sprintf("strategy %d: want a name", i+1), "strategies", strconv.Itoa(i))
		}
		if slices.Contains(names, st.Name) {
			return bad(fmt.Sprintf("strategy %q: name used twice", st.Name), at("name")...)
		}
		names = append(names, st.Name)
		if st.Quorum < 0 || st.Quorum > sc.Servers {
			return bad(fmt.Sprintf("quorum: want 1..%d (the fleet size), or 0 for none, got %d", sc.Servers, st.Quorum), at("quorum")...)
		}
		if st.Concurrency < 0 {
			return bad(fmt.Sprintf("concurrency: want 0 (unlimited) or more, got %d", st.Concurrency), at("concurrency")...)
		}
		if st.Timeout < 0 {
			return bad(fmt.Sprintf("timeout: want a positive duration, got %v", st.Timeout), at("timeout")...)
		}
		if h := st.Hedge; h != nil {
			hat := func(key string) []string { return append(at("hedge"), key) }
			switch {
			case h.After < 0:
				return bad(fmt.Sprintf("hedge.after: want a positive duration, got %v", h.After), hat("after")...)
			case !(h.Quantile >= 0 && h.Quantile < 1): // NaN too
				return bad(fmt.Sprintf("hedge.quantile: want a quantile in (0, 1), got %v", h.Quantile), hat("quantile")...)
			case (h.After == 0) == (h.Quantile == 0):
				return bad("hedge: want exactly one of after and quantile", at("hedge")...)
			case h.Max < 1:
				return bad(fmt.Sprintf("hedge.max: want at least 1 backup call, got %d", h.Max), hat("max")...)
			}
		}
		if r := st.Retry; r != nil {
			rat := func(key string) []string { return append(at("retry"), key) }
			switch {
			case r.Attempts < 1:
				return bad(fmt.Sprintf("retry.attempts: want at least 1, got %d", r.Attempts), rat("attempts")...)
			case r.Base < 0:
				return bad(fmt.Sprintf("retry.base: want a positive duration, got %v", r.Base), rat("base")...)
			case r.Cap < r.Base:
				return bad(fmt.Sprintf("retry.cap: want at least base (%v), got %v", r.Base, r.Cap), rat("cap")...)
			}
		}
		if b := st.Budget; b != nil {
			switch {
			case !(b.Tokens > 0) || math.IsInf(b.Tokens, 0): // NaN too
				return bad(fmt.Sprintf("budget.tokens: want a positive number, got %v", b.Tokens), append(at("budget"), "tokens")...)
			case !(b.Ratio > 0) || math.IsInf(b.Ratio, 0):
				return bad(fmt.Sprintf("budget.ratio: want a positive number, got %v", b.Ratio), append(at("budget"), "ratio")...)
			}
		}
	}
	for _, name := range fanOuts {
		if slices.Contains(names, name) {
			return fmt.Errorf("fan-out %q: name used twice", name)
		}
		names = append(names, name)
	}
	return nil
}

// wholeNumbers reports a number with a fraction, or in a float's form,
// where the field of typ that n fills takes a whole number: yaml would
// truncate servers: 2.5 to 2 without a word.
func wholeNumbers(name, key string, n *yaml.Node, typ reflect.Type) error {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		if typ == reflect.TypeFor[time.Duration]() {
			return nil
		}
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			return &Error{File: name, Line: n.Line, Msg: fmt.Sprintf("%s: want a whole number, got %s", key, n.Value)}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, item := range n.Content {
				if err := wholeNumbers(name, key, item, typ.Elem()); err != nil {
					return err
				}
			}
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			for f := range typ.Fields() {
				if f.Tag.Get("yaml") == n.Content[i].Value {
					if err := wholeNumbers(name, f.Tag.Get("yaml"), n.Content[i+1], f.Type); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// lineOf finds the line of the value at path in a YAML mapping, or the
// closest enclosing node's line.
func lineOf(n *yaml.Node, path []string) int {
	line := n.Line
	for _, key := range path {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					next = n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(key); err == nil && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return line
		}
		n, line = next, next.Line
	}
	return line
}

var (
	yamlLine     = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type experiment\.(\w+)$`)
	wrongType    = regexp.MustCompile("(?s)^cannot unmarshal !!(\\w+) `(.*)` into (.*)$")
)

// yamlError turns yaml's errors into *Error with lines and plain words;
// one yaml gives without a line (a control character, bad UTF-8) gets
// the line of data's first such byte.
func yamlError(name string, data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &Error{File: name, Line: max(line, 1), Msg: m[2]}
		}
		return &Error{File: name, Line: badByteLine(data), Msg: msg}
	}
	var errs []error
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			errs = append(errs, &Error{File: name, Line: 1, Msg: e})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg := m[2]
		if f := unknownField.FindStringSubmatch(msg); f != nil {
			msg = fmt.Sprintf("unknown key %q in %s (want one of: %s)", f[1], strings.ToLower(f[2]), knownKeys(f[2]))
		} else if w := wrongType.FindStringSubmatch(msg); w != nil {
			msg = fmt.Sprintf("want %s, got %s %s", plainType(w[3]), w[1], quoteShort(w[2]))
		}
		errs = append(errs, &Error{File: name, Line: max(line, 1), Msg: msg})
	}
	return errors.Join(errs...)
}

// badByteLine returns the line of data's first byte yaml refuses (a
// control character, invalid UTF-8), or 1.
func badByteLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 1
}

// knownKeys lists the keys of a scenario type for unknown-key errors.
func knownKeys(typ string) string {
	keys := map[string]string{
		"Scenario": "name, description, servers, backend, attach, image, seed, rounds, duration, inflight, timeout, slow, faults, strategies",
		"Strategy": "name, failfast, quorum, hedge, retry, budget, concurrency, timeout",
		"Hedge":    "after, quantile, max",
		"Retry":    "attempts, base, cap",
		"Budget":   "tokens, ratio",
	}
	return keys[typ]
}

func plainType(goType string) string {
	switch goType {
	case "int", "uint64":
		return "a whole number"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "time.Duration":
		return "a duration such as 50ms"
	case "string":
		return "text"
	}
	if strings.HasPrefix(goType, "[]") {
		return "a list"
	}
	return "a " + strings.TrimPrefix(goType, "experiment.")
}
