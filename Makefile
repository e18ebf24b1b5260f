# ipcluster in Go. `make test` installs what the tests need (Debian packages) and runs them all.
SHELL := /bin/bash
GO ?= go
PY := /usr/bin/python3
BIN := $(CURDIR)/bin
# Static binaries (no cgo, no libzmq): an engine can be copied to a compute node as is.
export CGO_ENABLED := 0

.PHONY: all deps build run vet test test-all test-go test-compat fuzz bench clean services-up services-down

all: build

deps:
	@scripts/deps.sh

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

# The main job: a local cluster of 4 engines, a command on all of them, list, stop.
run: build
	@scripts/demo.sh $(BIN)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

test-go: build
	IPCLUSTER_BIN=$(BIN) $(GO) test -count=1 -timeout 15m ./...

# Compatibility with the real Python ipyparallel 7.1 Client and engines, against our binaries.
test-compat: build
	IPCLUSTER_BIN=$(BIN) $(PY) -m pytest -q -p no:cacheprovider tests/compat

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

test-all: vet test-go fuzz test-compat

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
bench: deps build
	IPCLUSTER_BIN=$(BIN) $(PY) bench/controller_bench.py
	IPCLUSTER_BIN=$(BIN) $(GO) run ./bench/gobench --runs 3
	IPCLUSTER_BIN=$(BIN) $(PY) bench/ipcluster_bench.py
	IPCLUSTER_BIN=$(BIN) $(PY) bench/ssh_bench.py

clean:
	rm -rf $(BIN)
