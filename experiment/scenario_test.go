package experiment

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

func TestShippedScenariosLoad(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("shipped scenarios: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestParse(t *testing.T) {
	sc, err := Parse("ok.yaml", []byte(`
name: ok
servers: 10
rounds: 5
faults: delay=1ms,p=0.5
strategies:
  - name: hedged
    hedge: {after: 5ms, max: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Servers != 10 || sc.Rounds != 5 || sc.InFlight != 1 || sc.Timeout != time.Second || sc.Seed != 1 {
		t.Errorf("scenario %+v", sc)
	}
	if got := sc.Faults.String(); got != "delay=1ms,p=0.5" {
		t.Errorf("faults %q", got)
	}
	if h := sc.Strategies[0].Hedge; h == nil || h.After != 5*time.Millisecond || h.Max != 2 {
		t.Errorf("hedge %+v", h)
	}
}

func TestParseErrors(t *testing.T) {
	base := "name: x\nservers: 10\nrounds: 5\nstrategies:\n  - name: a\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "name: x\nservers: 10\nrounds: 5\nbogus: 1\nstrategies:\n  - name: a\n",
			`bad.yaml:4: unknown key "bogus" in scenario (want one of: name, description, servers, backend, image`},
		{"unknown strategy key", base + "    hegde: {after: 1ms}\n",
			`bad.yaml:6: unknown key "hegde" in strategy (want one of: name, failfast, quorum, hedge`},
		{"wrong type", "name: x\nservers: many\nrounds: 5\nstrategies:\n  - name: a\n",
			`bad.yaml:2: want a whole number, got str "many"`},
		{"bad duration", "name: x\nservers: 3\nrounds: 5\ntimeout: soon\nstrategies:\n  - name: a\n",
			"bad.yaml:4: want a duration such as 50ms, got str \"soon\""},
		{"p above 1", "name: x\nservers: 3\nrounds: 5\nfaults: error=x,p=1.5\nstrategies:\n  - name: a\n",
			`bad.yaml:4: faults: invalid plan "error=x,p=1.5": at column 11, "1.5": p must be a probability in (0, 1]`},
		{"bad rule in a list", "name: x\nservers: 3\nrounds: 5\nfaults:\n  - hang\n  - delay=-1s\nstrategies:\n  - name: a\n",
			`bad.yaml:6: faults: invalid plan "delay=-1s"`},
		{"unreachable rule", "name: x\nservers: 3\nrounds: 5\nfaults: delay=1ms;delay=2ms\nstrategies:\n  - name: a\n",
			`bad.yaml:4: faults: invalid plan "delay=1ms;delay=2ms": at column 11, "delay=2ms": rule 2 can never apply: rule 1 (delay=1ms)`},
		{"unreachable rule in a list", "name: x\nservers: 3\nrounds: 5\nfaults:\n  - error=a,p=0.5\n  - error=b\n  - delay=1ms\n  - error=c\nstrategies:\n  - name: a\n",
			`bad.yaml:8: faults: invalid plan "error=a,p=0.5;error=b;delay=1ms;error=c": at column 33, "error=c": rule 4 can never apply: rule 2 (error=b)`},
		{"negative duration", "name: x\nservers: 3\nrounds: 5\ntimeout: -1s\nstrategies:\n  - name: a\n",
			"bad.yaml:4: timeout: want a positive duration, got -1s"},
		{"more servers than ports", "name: x\nservers: 2000000000\nrounds: 5\nstrategies:\n  - name: a\n",
			"bad.yaml:2: servers: want 1..65535 (each server listens on a port of its own), got 2000000000"},
		{"more servers than memory takes", "name: x\nservers: 2000000000\nbackend: memory\nrounds: 5\nstrategies:\n  - name: a\n",
			"bad.yaml:2: servers: want 1..1048576 (an in-memory fleet's limit), got 2000000000"},
		{"unknown backend", "name: x\nservers: 3\nbackend: pipes\nrounds: 5\nstrategies:\n  - name: a\n",
			`bad.yaml:3: backend: want inprocess, memory or container, got "pipes"`},
		{"quorum above fleet", base + "    quorum: 11\n",
			"bad.yaml:6: quorum: want 1..10 (the fleet size), or 0 for none, got 11"},
		{"no strategies", "name: x\nservers: 3\nrounds: 5\n",
			"bad.yaml:1: strategies: want at least one strategy"},
		{"neither rounds nor duration", "name: x\nservers: 3\nstrategies:\n  - name: a\n",
			"bad.yaml:1: want rounds or duration"},
		{"hedge quantile", base + "    hedge: {quantile: 1.5, max: 1}\n",
			"bad.yaml:6: hedge.quantile: want a quantile in (0, 1), got 1.5"},
		{"retry cap", base + "    retry: {attempts: 3, base: 10ms, cap: 1ms}\n",
			"bad.yaml:6: retry.cap: want at least base (10ms), got 1ms"},
		{"duplicate name", base + "  - name: a\n", `bad.yaml:6: strategy "a": name used twice`},
		{"NaN budget", base + "    budget: {tokens: .nan, ratio: 0.1}\n", "bad.yaml:6: budget.tokens: want a positive number, got NaN"},
		{"NaN quantile", base + "    hedge: {quantile: .nan, max: 1}\n", "bad.yaml:6: hedge.quantile: want a quantile in (0, 1), got NaN"},
		{"not yaml", "name: [x\n", "bad.yaml:"},
		{"empty", "", "bad.yaml:1: empty scenario"},
		{"fraction for servers", "name: x\nservers: 2.5\nrounds: 5\nstrategies:\n  - name: a\n", "bad.yaml:2: servers: want a whole number, got 2.5"},
		{"fraction for rounds", "name: x\nservers: 2\nrounds: 2.9\nstrategies:\n  - name: a\n", "bad.yaml:3: rounds: want a whole number, got 2.9"},
		{"fraction for seed", "name: x\nservers: 2\nrounds: 2\nseed: 1.5\nstrategies:\n  - name: a\n", "bad.yaml:4: seed: want a whole number, got 1.5"},
		{"float form of a whole number", "name: x\nservers: 2.0\nrounds: 2\nstrategies:\n  - name: a\n", "bad.yaml:2: servers: want a whole number, got 2.0"},
		{"fraction in a strategy", base + "    quorum: 1.5\n", "bad.yaml:6: quorum: want a whole number, got 1.5"},
		{"fraction in a hedge", base + "    hedge: {after: 1ms, max: 1.5}\n", "bad.yaml:6: max: want a whole number, got 1.5"},
		{"second document", base + "---\nname: y\n", "bad.yaml:6: a second YAML document: a scenario file holds one"},
		{"rounds and duration", "name: x\nservers: 2\nrounds: 5\nduration: 1s\nstrategies:\n  - name: a\n", "bad.yaml:4: want rounds or duration, not both (rounds 5, duration 1s)"},
		{"inflight above the bound", "name: x\nservers: 2\nrounds: 5\ninflight: 100000000\nstrategies:\n  - name: a\n",
			"bad.yaml:4: inflight: want at most 1000 (each fan-out in flight holds a call on every server's connection"},
		{"rounds above the bound", "name: x\nservers: 2\nrounds: 100000000\nstrategies:\n  - name: a\n",
			"bad.yaml:3: rounds: want at most 10000000 (a longer run takes hours: give a duration instead), got 100000000"},
		{"duration above the bound", "name: x\nservers: 2\nduration: 100h\nstrategies:\n  - name: a\n", "bad.yaml:3: duration: want at most 24h0m0s"},
		{"control character", "name: x\nservers: 2\nrounds: 5\x01\n", "bad.yaml:3: control characters are not allowed"},
		{"too many rules", "name: x\nservers: 2\nrounds: 5\nstrategies:\n  - name: a\nfaults:\n" + strings.Repeat("  - delay=1ms,p=0.5\n", 1001),
			"bad.yaml:1007: faults: want at most 1000 rules (each call is matched against them in turn), got more"},
		{"too large", "name: x\n" + strings.Repeat("# filler\n", MaxScenarioSize/9+1), "bad.yaml:1: more than 1048576 bytes: a scenario is a page of YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}

// Load reads no more than MaxScenarioSize bytes of a file, however large
// (here endless: /dev/zero).
func TestLoadBoundsTheFile(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := Load("/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "/dev/zero:1: more than 1048576 bytes") {
		t.Errorf("Load(/dev/zero): %v, want the size named", err)
	}
}

// FuzzScenario holds Parse to its promise on any input: no panic, and
// either a scenario that Check accepts or an *Error naming the file and a
// line.
func FuzzScenario(f *testing.F) {
	files, _ := filepath.Glob("../scenarios/*.yaml")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, seed := range []string{
		"", "name: x\nservers: 2.5\nrounds: 5\nstrategies:\n  - name: a\n", "a: b\n---\nc: d\n",
		"servers: &a 3\nrounds: *a\nstrategies: [{name: a, hedge: {quantile: 0.5, max: 1}}]\n",
		"faults: [delay=1ms, error=x]\n", "- 1\n- 2\n", "name: \x01\n", "rounds: 1e9\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("f.yaml", data)
		if err == nil {
			if err := sc.Check(); err != nil {
				t.Fatalf("Parse accepted a scenario that Check refuses: %v", err)
			}
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !lineRef.MatchString(line) {
				t.Fatalf("error line %q does not name the file and a line (all of it: %v)", line, err)
			}
		}
	})
}

// lineRef is how an error names where it is: file:line: message.
var lineRef = regexp.MustCompile(`^f\.yaml:[1-9][0-9]*: `)

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !os.IsNotExist(err) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

// A scenario built in code is held to what Parse accepts, an unreachable
// rule included.
func TestCheckPlanBuiltInCode(t *testing.T) {
	sc := &Scenario{Name: "x", Servers: 3, Rounds: 1, Backend: "inprocess", InFlight: 1, Timeout: time.Second,
		Strategies: []Strategy{{Name: "a"}}}
	sc.Faults = Plan{faults.Plan{Rules: []faults.Rule{{Fault: faults.Delay{D: time.Millisecond}}, {Fault: faults.Error{Msg: "x"}}}}}
	if err := sc.Check(); err != nil {
		t.Fatalf("Check of a delay and an error: %v", err)
	}
	sc.Faults.Rules = append(sc.Faults.Rules, faults.Rule{Fault: faults.Hang{}})
	if err := sc.Check(); err == nil || !strings.Contains(err.Error(), "rule 3 can never apply: rule 2 (error=x)") {
		t.Errorf("Check with hang after an error for every call: %v, want rule 3 named unreachable", err)
	}
}
