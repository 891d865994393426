package experiment

import (
	"os"
	"path/filepath"
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
			"bad.yaml:2: servers: want 1..65535, got 2000000000"},
		{"more servers than memory takes", "name: x\nservers: 2000000000\nbackend: memory\nrounds: 5\nstrategies:\n  - name: a\n",
			"bad.yaml:2: servers: want 1..1048576, got 2000000000"},
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
		{"empty", "", "bad.yaml: empty scenario"},
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
