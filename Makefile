# DayTrader. `make run` brings the whole system up on this machine;
# `make test` runs every test against real parts. See README.md, or `make help`.
SHELL := /bin/bash
GO ?= go
BIN := bin/daytrader
# The workload starter alone, built without the embedded Temporal server
# (build tag starter): a quarter of the memory; it dials a running Temporal.
STARTER := bin/daytrader-starter
SHARED ?= ../shared
export DATABASE_URL ?= $(shell scripts/postgres.sh url)

# Packages whose tests need neither Postgres nor a Temporal server: the rules,
# the quote protocol and cache, the workflows (Temporal's test suite with time
# skipping, and replay of recorded histories), activities, the worker, and the
# charts (svgchart) with the account replay behind them (portfolio).
UNIT := ./trading ./quotes ./workflows ./activities ./worker ./internal/svgchart ./internal/portfolio

.PHONY: help run test unit lint bench chaos build deps postgres generate clean stop

## help: list the targets
help:
	@grep -hE '^## ' $(MAKEFILE_LIST) | sed -E 's/^## ([a-z0-9-]+): /  \1\t/' | expand -t 14

## build: bin/daytrader, and bin/daytrader-starter (the same commands without the embedded Temporal server)
build:
	$(GO) build -o $(BIN) ./cmd/daytrader
	$(GO) build -tags starter -o $(STARTER) ./cmd/daytrader

deps:
	@scripts/deps.sh

postgres: deps
	@scripts/postgres.sh start >/dev/null

## run: Postgres + embedded Temporal (+ its UI and HTTP API) + quote emulator + worker + web. Ctrl-C stops.
run: postgres build
	$(BIN) dev

## unit: the fast loop: pure packages with the race detector, no Postgres, under a minute
unit:
	DATABASE_URL= $(GO) test -race -count=1 $(UNIT)

## lint: gofmt, go vet, staticcheck, Temporal's workflowcheck (determinism), go.mod tidy, templ code current
lint:
	@unformatted=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt -w these files: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags starter ./cmd/daytrader ./internal/stack
	$(GO) tool staticcheck ./...
	$(GO) tool workflowcheck ./...
	$(GO) mod tidy -diff
	$(GO) test -count=1 -run TestGeneratedTemplatesAreCurrent ./web/

## test: lint, then every package's tests; Postgres, Temporal, Chromium and xmllint are real
test: postgres lint
	$(GO) test -count=1 -timeout 30m ./...

## bench: the 100-user course workload on a fresh embedded stack, legacy quote latency; its DUMPLOG kept in artifacts/bench
bench: postgres build
	$(BIN) workload run --embedded --quote-latency legacy --dump-dir $(CURDIR)/artifacts/bench \
		--validate-xsd $(SHARED)/spec/logfile.xsd $(SHARED)/workloads/100User_testWorkLoad

# The generated 1000-user, 1,000,000-command workload (the seed's final size),
# written once into artifacts/.
BIG := artifacts/workload-1000users-1M.txt
$(BIG): | build
	@mkdir -p artifacts
	$(BIN) workload gen --users 1000 --lines 1000000 --seed 11 > $@.tmp && mv $@.tmp $@

## bench-1000: the generated 1000-user, 1,000,000-command file end to end (legacy latency, all audited, DUMPLOG checked); commands/s and peak RSS
.PHONY: bench-1000 bench-ceiling
bench-1000: postgres build $(BIG)
	$(BIN) workload run --embedded --quiet --quote-latency legacy --dump-dir $(CURDIR)/artifacts/bench-1000 \
		--validate-xsd $(SHARED)/spec/logfile.xsd $(BIG)

## bench-ceiling: the same file to workflows that only count it: the most this stack's Temporal carries
bench-ceiling: postgres build $(BIG)
	$(BIN) workload ceiling $(BIG)

## bench-starter: the starter alone (bin/daytrader-starter workload run against a fresh `dev --no-web` of its own) on the 1M file: commands/s, its peak RSS and CPU seconds
.PHONY: bench-starter
bench-starter: postgres build $(BIG)
	STARTER=$(STARTER) scripts/bench-starter.sh $(BIG)

## chaos: the fault-injection tests bigger than in `make test`, the 100-user ledger check, a 50,000-command node kill (plaintext, then TLS)
chaos: postgres build
	CHAOS_USERS=50 CHAOS_LINES=20000 CHAOS_KILLS=4 $(GO) test -count=1 -timeout 30m -run 'Chaos|Fault' -v ./internal/chaos/
	CHAOS_WORKLOAD=100User_testWorkLoad $(GO) test -count=1 -timeout 30m -run TestChaosLedger -v ./internal/chaos/
	CHAOS_USERS=100 CHAOS_LINES=50000 $(GO) test -count=1 -timeout 30m -run TestClusterNodeKill -v ./internal/chaos/

## cluster: a two-node Temporal cluster on Postgres + quote emulator + 2 workers + web (scripts/cluster.sh; TLS=1: TLS and internode mTLS). Ctrl-C stops.
.PHONY: cluster
cluster: postgres build
	scripts/cluster.sh

## generate: regenerate templ's Go code (run inside web/, so file names match what the test expects)
generate:
	cd web && $(GO) tool templ generate

## stop: stop the project's Postgres
stop:
	scripts/postgres.sh stop

clean:
	rm -rf bin

## bench-mixed: web traders' QUOTE latency over HTTP idle and under the 100-user workload (1 and 20 traders, and one who arrives mid-run), and the workload's rate without them
# Each scenario runs on a fresh embedded stack in a process of its own.
.PHONY: bench-mixed
bench-mixed: postgres build
	$(BIN) workload mixed --quote-latency legacy $(SHARED)/workloads/100User_testWorkLoad
