package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/experiment"
)

// rpcfleet run with the container backend: the same experiment, each
// server a container of the image built for this run.
var _ = Describe("Experiments on containers", Label("container"), func() {
	It("runs a scenario's strategies against a fleet of containers", func(ctx SpecContext) {
		sc, err := experiment.Parse("containers.yaml", []byte(`
name: containers
backend: container
image: `+image+`
servers: 3
rounds: 20
inflight: 2
timeout: 2s
faults: error=down,servers=0
strategies:
  - name: wait-all
  - name: quorum
    quorum: 2
`))
		Expect(err).NotTo(HaveOccurred())
		rep, err := experiment.Run(ctx, sc, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Results).To(HaveLen(2))
		all, q := rep.Results[0], rep.Results[1]
		Expect(all.Rounds).To(Equal(20))
		Expect(all.Succeeded).To(BeZero(), "server 0 answers every call with an error")
		Expect(all.Errors).To(HaveKeyWithValue("error-reply", 20))
		Expect(q.Succeeded).To(Equal(20), "two of three servers are a quorum")
	}, SpecTimeout(2*time.Minute))
})
