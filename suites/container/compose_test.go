package container_test

import (
	"context"
	"fmt"
	"net/rpc"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

var _ = Describe("docker/compose.yaml", Label("container", "compose"), func() {
	It("brings up a fleet with --scale, every server on 127.0.0.1, and down removes it", func(ctx SpecContext) {
		const n = 3
		compose := composeCommand()
		project := fmt.Sprintf("rpcfleet-check-%d", os.Getpid())
		token := fmt.Sprintf("token-%d-%d", os.Getpid(), GinkgoRandomSeed())
		run := func(ctx context.Context, args ...string) string {
			GinkgoHelper()
			args = append(append(compose[1:len(compose):len(compose)], "-p", project, "-f", "../../docker/compose.yaml"), args...)
			cmd := exec.CommandContext(ctx, compose[0], args...)
			cmd.Env = append(os.Environ(), "RPCFLEET_CONTROL_TOKEN="+token)
			out, err := cmd.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "%s %s:\n%s", compose[0], strings.Join(args, " "), out)
			return strings.TrimSpace(string(out))
		}
		DeferCleanup(func(ctx SpecContext) {
			run(ctx, "down", "--remove-orphans", "--timeout", "5")
			Expect(run(ctx, "ps", "-q")).To(BeEmpty())
		}, NodeTimeout(2*time.Minute))
		run(ctx, "up", "-d", "--scale", "server="+strconv.Itoa(n))

		// The ports through the docker CLI: a standalone docker-compose (a
		// Python program) takes seconds per command on a loaded machine.
		ids := strings.Fields(run(ctx, "ps", "-q"))
		Expect(ids).To(HaveLen(n))
		port := func(id, p string) string {
			GinkgoHelper()
			out, err := exec.CommandContext(ctx, "docker", "port", id, p+"/tcp").CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "docker port %s %s:\n%s", id, p, out)
			return strings.TrimSpace(string(out))
		}
		for _, id := range ids {
			addr, ctl := port(id, "7000"), port(id, "7001")
			Expect(addr).To(HavePrefix("127.0.0.1:"))
			Expect(ctl).To(HavePrefix("127.0.0.1:"))
			Eventually(func(ctx context.Context) error {
				cc, err := driver.DialControl(ctx, ctl, driver.WithToken(token))
				if err != nil {
					return err
				}
				defer cc.Close()
				_, err = cc.Health(ctx)
				return err
			}).WithContext(ctx).WithTimeout(20 * time.Second).Should(Succeed())
			c, err := rpc.Dial("tcp", addr)
			Expect(err).NotTo(HaveOccurred())
			var r fleet.Reply
			Expect(c.Call("Service.Method", fleet.Args{Name: "Alice"}, &r)).To(Succeed())
			c.Close()
			Expect(r.Message).To(HavePrefix("Hello, Alice! (server 0 at "))
		}
	}, SpecTimeout(4*time.Minute)) // docker-compose takes seconds a command under load
})

// composeCommand returns the Compose command line: the `docker compose`
// plugin or the standalone docker-compose. Without either the spec skips,
// or fails under CI=true.
func composeCommand() []string {
	GinkgoHelper()
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	if os.Getenv("CI") == "true" {
		Fail("CI=true but neither `docker compose` nor docker-compose is installed")
	}
	Skip("neither `docker compose` nor docker-compose is installed")
	return nil
}
