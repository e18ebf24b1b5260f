# ipcluster in Go. `make test` installs what the tests need (Debian packages) and runs them all.
SHELL := /bin/bash
GO ?= go
PY := /usr/bin/python3
BIN := $(CURDIR)/bin
# The libzmq build of the tests' own (make test-compat-libzmq), beside the default one.
BIN_LIBZMQ := $(CURDIR)/bin-libzmq
# Static binaries (no cgo, no libzmq): an engine can be copied to a compute node as is.
export CGO_ENABLED := 0
# --version of every program: this checkout's `git describe` (else go's build info, else devel).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS := -ldflags "-X ipcluster/internal/version.version=$(VERSION)"
# The other transport: libzmq through pebbe/zmq4 (cgo; libzmq3-dev, pkg-config and gcc).
LIBZMQ := CGO_ENABLED=1 $(GO) build $(LDFLAGS) -tags libzmq

.PHONY: all deps build build-libzmq run vet test test-all test-go test-go-libzmq test-race test-compat test-compat-libzmq fuzz bench bench-libzmq clean services-up services-down

all: build

deps:
	@scripts/deps.sh

build:
	@mkdir -p $(BIN)
	$(GO) build $(LDFLAGS) -o $(BIN)/ ./cmd/...

# The same three binaries on libzmq instead of the pure-Go ZMTP transport (see --version).
build-libzmq:
	@mkdir -p $(BIN)
	$(LIBZMQ) -o $(BIN)/ ./cmd/...

# The main job: a local cluster of 4 engines, a command on all of them, list, stop.
run: build
	@scripts/demo.sh $(BIN)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) vet -tags libzmq ./runtime/transport ./runtime/controller ./runtime/engine ./runtime/client ./cmd/...

test-go: build
	IPCLUSTER_BIN=$(BIN) $(GO) test -count=1 -timeout 15m ./...

# The race detector (it needs cgo) over the packages whose tests start no real cluster:
# about a minute once built. The binaries the client's tests start are race-built too, and
# halt_on_error makes a race end the process, so the test that ran it fails. Left out:
# cmd/ipcluster and launchers (they start Slurm, Grid Engine, sshd and MPI, and take
# minutes even without -race) and remote (its tests run against the test sshd). -short
# skips only the controller's 400k-message memory flood.
BIN_RACE := $(CURDIR)/bin-race
RACE_PKGS := ./internal/testutil ./runtime/... ./profiles ./traitconfig ./templates ./pyfind ./cluster ./cmd/ipengine ./cmd/ipcontroller ./dashboard/...
test-race:
	@mkdir -p $(BIN_RACE)
	CGO_ENABLED=1 $(GO) build $(LDFLAGS) -race -o $(BIN_RACE)/ ./cmd/...
	GORACE=halt_on_error=1 IPCLUSTER_BIN=$(BIN_RACE) CGO_ENABLED=1 $(GO) test -race -short -count=1 $(RACE_PKGS)

# The transport's suite (sockets, loop, interop with pyzmq, bad peers) on the libzmq backend;
# test-go runs it on the pure-Go one. Then CurveZMQ, which only this backend has: the
# controller with pyzmq CURVE clients, and the libzmq binaries (Go engines and client); and the
# Go engines and client tunnelling through SSH on this backend.
test-go-libzmq:
	CGO_ENABLED=1 $(GO) test -tags libzmq -count=1 ./runtime/transport
	@mkdir -p $(BIN_LIBZMQ)
	$(LIBZMQ) -o $(BIN_LIBZMQ)/ ./cmd/...
	IPCLUSTER_BIN=$(BIN_LIBZMQ) CGO_ENABLED=1 $(GO) test -tags libzmq -count=1 -run 'Curve|Tunnel' ./runtime/controller ./runtime/client
	CGO_ENABLED=1 $(GO) test -tags libzmq -count=1 -run TestStalledClientAndSubscriberLeaveMemoryBounded ./cmd/ipcontroller

# Compatibility with the real Python ipyparallel 7.1 Client and engines, against our binaries.
test-compat: build
	IPCLUSTER_BIN=$(BIN) $(PY) -m pytest -q -p no:cacheprovider tests/compat

# The same, against the libzmq build (in its own directory, so bin/ keeps the default one).
test-compat-libzmq:
	@mkdir -p $(BIN_LIBZMQ)
	$(LIBZMQ) -o $(BIN_LIBZMQ)/ ./cmd/...
	IPCLUSTER_BIN=$(BIN_LIBZMQ) $(PY) -m pytest -q -p no:cacheprovider tests/compat

# A short coverage-guided run of the wire decoder fuzzer on top of its seed corpus.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 10s ./runtime/wire

# Every test. The daemons the tests start (Slurm, munge, Grid Engine, the sshd on
# 127.0.0.1:2222) are stopped at the end, also when a test fails or make is interrupted;
# those that ran before (make services-up) are left running.
test: deps
	@state=$$(mktemp /tmp/ipp-services-started.XXXXXX); \
	trap 'scripts/teardown-started.sh "$$state"; rm -f "$$state"' EXIT; trap 'exit 130' INT TERM; \
	IPP_SERVICES_STARTED=$$state $(MAKE) --no-print-directory test-all

test-all: vet test-go test-race test-go-libzmq fuzz test-compat test-compat-libzmq

# Start the test daemons and keep them for fast reruns (make test then leaves them up) ...
services-up: deps
	scripts/setup-slurm.sh
	scripts/setup-sge.sh
	scripts/setup-sshd.sh

# ... and stop them all.
services-down:
	scripts/teardown-sshd.sh
	scripts/teardown-sge.sh
	scripts/teardown-slurm.sh

# Our implementation next to Python ipyparallel, same workloads, one run; prints ratios.
# The controller benchmarks run on both transports (the pure-Go build, then the libzmq one),
# each beside ipyparallel's Python controller, so that the cost of each backend shows. The
# pure-Go run of gobench measures each controller with its in-memory task DB and with
# --sqlitedb (the cost of keeping records on disk, ours and Python's).
bench: deps build
	@echo "== transport: pure-Go ZMTP (make build)"
	IPCLUSTER_BIN=$(BIN) $(PY) bench/controller_bench.py
	IPCLUSTER_BIN=$(BIN) $(GO) run ./bench/gobench --runs 3 --db dict,sqlite
	@echo "== engine swarm: N engines in one process storm each controller (5000 and 10000 need a higher open-file limit than 20000)"
	IPCLUSTER_BIN=$(BIN) $(GO) run ./bench/swarm --table 100,1000,2000,5000,10000 --runs 3 --tasks 100000
	@$(MAKE) --no-print-directory bench-libzmq
	IPCLUSTER_BIN=$(BIN) $(PY) bench/ipcluster_bench.py
	IPCLUSTER_BIN=$(BIN) $(PY) bench/ssh_bench.py
	IPCLUSTER_BIN=$(BIN) $(PY) bench/map_bench.py

# The controller benchmarks on the libzmq build (controller, engines and client), beside Python's.
bench-libzmq: deps
	@mkdir -p $(BIN_LIBZMQ)
	$(LIBZMQ) -o $(BIN_LIBZMQ)/ ./cmd/...
	@echo "== transport: libzmq via pebbe/zmq4 (make build-libzmq)"
	IPCLUSTER_BIN=$(BIN_LIBZMQ) $(PY) bench/controller_bench.py
	IPCLUSTER_BIN=$(BIN_LIBZMQ) CGO_ENABLED=1 $(GO) run -tags libzmq ./bench/gobench --runs 3

clean:
	rm -rf $(BIN) $(BIN_LIBZMQ) $(BIN_RACE)
