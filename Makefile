# The commands a newcomer types. Everything they need comes from go.mod:
# the ginkgo CLI is a tool dependency, run as `go tool ginkgo`.
GINKGO  := go tool ginkgo
REPORTS := reports
IMAGE   := rpcfleet:dev

.PHONY: run demo test vet unit fuzz specs mutants bench bench-peers seed-demo image bench-containers bench-swarm bench-attach clean

# How long `make fuzz` runs FuzzParse: 200,000 inputs in `make test` (a
# count, not a duration: a timed run has ended once in "context deadline
# exceeded" as its time ran out), longer by hand (make fuzz FUZZTIME=2m);
# FuzzScenario, a YAML parse per input, 50,000 (about 8s); FuzzFirstBytes,
# two connections per input, 2,000.
FUZZTIME ?= 200000x
FUZZSCENARIO ?= 50000x
FUZZCONNS ?= 2000x

## run: the main job, a short "tail at scale" experiment on an in-process fleet (wait-all vs hedging)
run:
	go run ./cmd/rpcfleet run scenarios/tail-at-scale.yaml --rounds 300

## demo: one fan-out to 20 servers with a few faults, shown server by server
demo:
	go run ./cmd/rpcfleet demo

## test: vet, the image (for fleet/container's plain tests), the plain Go tests (-race), a short fuzz run, then the Ginkgo suites (-race)
test: vet image unit fuzz specs

vet:
	go vet ./...
	cd deploy/kubernetes && go vet ./...
	go vet -tags noexperiments ./cmd/rpcfleet

## unit: plain Go tests of every package but the Ginkgo suites (and of the image's build of cmd/rpcfleet)
# The first line only compiles (and runs no test), so that the timing tests
# after it do not share two cores with the compiler; the tests that measure
# tail latencies (experiment's, and the KV example's experiment beside its
# plain conformance run) run alone after the others.
unit:
	go test -race -count=1 -run '^$$' ./... >/dev/null
	go test -race -count=1 $$(go list ./... | grep -v -e '/suites$$' -e /suites/container -e /suites/attach -e /suites/swarm -e /suites/internal/mutants -e /experiment$$ -e /examples/kv/fanout$$ -e /examples/kv/specs$$)
	go test -race -count=1 ./experiment
	go test -race -count=1 ./examples/kv/fanout
	go test -race -count=1 -tags noexperiments ./cmd/rpcfleet
	cd deploy/kubernetes && go test -race -count=1 ./...

## fuzz: FuzzParse (fault plans and their round trip through String), FuzzScenario (scenario files), FuzzFirstBytes (a server's first bytes)
fuzz:
	go test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./faults
	go test -run '^$$' -fuzz FuzzScenario -fuzztime $(FUZZSCENARIO) ./experiment
	go test -run '^$$' -fuzz FuzzFirstBytes -fuzztime $(FUZZCONNS) ./fleet

## specs: the Ginkgo suites (rpcfleet's and the KV example's), in parallel, randomized, leak-checked, JUnit in reports/
# suites/matchers and suites/internal/spectree have plain Go tests only,
# which unit runs: under ginkgo
# they would end the output with their -v chatter. The last lines are the
# summary and the JUnit reports, and on a failure every failed spec of every
# suite (internal/failures), which Ginkgo printed when that suite ended.
specs:
	$(GINKGO) -r -p --race --randomize-all --randomize-suites --keep-going --timeout=20m --skip-package=suites/matchers,suites/internal/spectree \
		--junit-report=junit.xml --output-dir=$(REPORTS) --keep-separate-reports ./suites ./examples/kv/specs; \
		status=$$?; ls $(REPORTS)/*junit.xml | sed 's/^/JUnit report: /'; \
		if [ $$status -ne 0 ]; then go run ./internal/failures $(REPORTS)/*junit.xml; fi; exit $$status

## mutants: the conformance suite against every broken caller of the gallery; fails unless each is caught within 30s
mutants:
	go run ./suites/internal/mutants/gallery

## bench: the benchmarks behind BENCHMARKS.md
bench:
	go test -run '^$$' -bench . -skip '/servers=100000' -benchtime=20x ./caller ./fleet

## bench-peers: the errgroup and conc fan-outs through the conformance suite, then the reference caller beside them at 1,000 servers, and rpcfleet's faults beside Toxiproxy's (bench/peers, a module of its own)
bench-peers:
	cd bench/peers && go tool ginkgo -p --race --randomize-all .
	cd bench/peers && go test -run '^$$' -bench FanOut -benchtime 40x -count 5
	cd bench/peers && go test -run '^$$' -bench Toxiproxy -benchtime 1s -count 5

## image: the container image $(IMAGE), FROM scratch with a static binary built here (nothing is pulled)
image:
	CGO_ENABLED=0 go build -trimpath -tags noexperiments -o bin/image/rpcfleet ./cmd/rpcfleet && docker build -q -f docker/Dockerfile -t $(IMAGE) bin/image && docker image prune -f --filter label=rpcfleet.image=true >/dev/null

## bench-swarm: deploy and attach 20 and 100 servers of docker/stack.yaml on a one-node swarm (left as found), once
bench-swarm:
	go test -run '^$$' -bench DeployAttach -benchtime=1x -timeout 40m ./fleet/swarm

## bench-attach: one experiment in process and on 20 attached rpcfleet serve processes, in the same run
bench-attach:
	go test -run '^$$' -bench Experiment -benchtime=5x -count=3 ./fleet/attach

## bench-containers: 20 containers started in parallel through fleet/container vs 20 sequential `docker run`, once
bench-containers:
	go test -run '^$$' -bench Start20 -benchtime=1x ./fleet/container

## seed-demo: serve 127.0.0.1:8080-8082 and run the seed article's client against it
seed-demo:
	go build -o bin/rpcfleet ./cmd/rpcfleet && go build -o bin/seedclient ./internal/seed/seedclient
	bin/rpcfleet serve --count 3 --port 8080 & pid=$$!; sleep 1; bin/seedclient; status=$$?; kill -INT $$pid; wait $$pid; exit $$status

clean:
	rm -rf $(REPORTS) bin
