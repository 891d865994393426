package suites_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// TestREADMESnippetsAreCompiled checks that every Go snippet of the README
// appears, whitespace and comments aside, in a Go file of the module
// (outside testdata), where the compiler sees it.
func TestREADMESnippetsAreCompiled(t *testing.T) {
	// The module's root, from this file's path: a test binary built with
	// go test -c may run anywhere.
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var tests strings.Builder
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		tests.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code := squash(tests.String())
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("no Go snippet found in README.md")
	}
	for i, b := range blocks {
		if !strings.Contains(code, squash(b[1])) {
			t.Errorf("README.md's Go snippet %d is in no Go file, so nothing compiles it:\n%s", i+1, b[1])
		}
	}
}

// squash drops comments and collapses white space.
func squash(s string) string {
	s = regexp.MustCompile(`(?m)//.*$`).ReplaceAllString(s, "")
	return strings.Join(strings.Fields(s), " ")
}

// mine stands for the README's "your code": a fan-out returning replies and
// errors by index.
var mine readmeFanOut

type readmeFanOut struct{}

func (readmeFanOut) FanOut(ctx context.Context, addrs []string, name string, timeout time.Duration) ([]string, []error, error) {
	return make([]string, len(addrs)), make([]error, len(addrs)), nil
}

// readmeTenLines is the README's ten-line wiring, compiled, not run.
func readmeTenLines() {
	var _ = Describe("my fan-out", func() {
		suites.Conformance(func(timeout time.Duration) suites.FanOuter {
			return suites.FanOutFunc(func(ctx context.Context, addrs []string, args fleet.Args) ([]suites.Result, error) {
				replies, errs, err := mine.FanOut(ctx, addrs, args.Name, timeout) // your code
				out := make([]suites.Result, len(addrs))
				for i := range addrs {
					out[i] = suites.Result{Addr: addrs[i], Reply: fleet.Reply{Message: replies[i]}, Err: errs[i]}
				}
				return out, err
			})
		}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
	})
}

var _ = readmeTenLines

// The README's line of wiring per shape, compiled, not run: each new…
// stands for a user's constructor.
func readmeClaims() {
	var newWaitAll, newVote, newFirst, newBroadcast, newStats, newBounded, newHedged, newRetrying, newPerRequest, newOwnRPC func(time.Duration) suites.FanOuter
	errMyRPCTimeout := errors.New("my rpc: timed out")
	var _ = Describe("claims", func() {
		suites.Conformance(newWaitAll, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
		suites.Conformance(newVote, suites.Quorum(func(n int) int { return n/2 + 1 }), suites.TimesOut(), suites.HonoursCancel())
		suites.Conformance(newFirst, suites.FirstSuccess(), suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder())
		suites.Conformance(newBroadcast, suites.FailFast(), suites.TimesOut(), suites.HonoursCancel(), suites.AggregatesErrors())
		suites.Conformance(newStats, suites.DeadlineBounded(), suites.HonoursCancel(), suites.KeepsInputOrder())
		suites.Conformance(newBounded, suites.Bounded(16), suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder())
		suites.Conformance(newHedged, suites.Hedged(50*time.Millisecond, 1), suites.Quorum(func(n int) int { return n/2 + 1 }))
		suites.Conformance(newRetrying, suites.Retries(3), suites.TimesOut(), suites.KeepsInputOrder())
		suites.Conformance(newPerRequest, suites.NotConcurrent(), suites.TimesOut())
		suites.Conformance(newOwnRPC, suites.TimesOut(), suites.TimeoutIs(func(err error) bool { return errors.Is(err, errMyRPCTimeout) }))
	})
}

var _ = readmeClaims
