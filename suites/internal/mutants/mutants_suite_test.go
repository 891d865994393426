package mutants_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/suites/internal/mutants"
)

var (
	mutant   = flag.String("mutant", "", "run the conformance suite against this mutant; empty: against the controls")
	progress = flag.String("progress", "", "append a line to this file as each spec starts and ends (to name the spec a data race halted)")
)

func TestMutants(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "mutant gallery")
}

// Without -mutant (as in `make test`), the controls run: the correct
// callers the mutants were broken from must pass.
var _ = Describe("gallery", func() {
	if *mutant == "" {
		for _, m := range mutants.Controls() {
			Describe(m.Name, func() { m.Conformance() })
		}
		return
	}
	m, ok := mutants.Find(*mutant)
	if !ok {
		It("runs a known mutant", func() { Fail(fmt.Sprintf("no mutant %q", *mutant)) })
		return
	}
	Describe(m.Name, func() { m.Conformance() })
})

var (
	_ = ReportBeforeEach(func(r SpecReport) { note("start", r) })
	_ = ReportAfterEach(func(r SpecReport) { note("end "+r.State.String(), r) })
)

// note appends "event<TAB>unix-ms<TAB>spec" to the progress file, the
// spec's containers and text joined by " / ": one write per line, so a
// process halted by the race detector leaves every line whole.
func note(event string, r SpecReport) {
	if *progress == "" {
		return
	}
	f, err := os.OpenFile(*progress, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s\t%d\t%s\n", event, time.Now().UnixMilli(), strings.Join(append(r.ContainerHierarchyTexts, r.LeafNodeText), " / "))
	Expect(err).NotTo(HaveOccurred())
}
