// Package specs is the KV example's Ginkgo suite: the conformance suite
// run against the team's fanout.Client, and specs of its own written with
// rpcfleet's fleets and matchers, in process and on containers running
// the KV server's image. Run it with go tool ginkgo --race -p ./examples/kv/specs.
package specs

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/rpcfleet/rpcfleet/fleet/container"
)

func TestSpecs(t *testing.T) {
	// Ryuk's image cannot be pulled offline; the backend cleans up itself.
	t.Setenv(container.RyukEnv, "true")
	RegisterFailHandler(Fail)
	RunSpecs(t, "KV example")
}

// Every spec of the suite's own leaves no goroutine behind once its
// cleanups have run (the conformance specs check their own).
var _ = BeforeEach(func() {
	baseline := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).ShouldNot(gleak.HaveLeaked(baseline))
	})
})
