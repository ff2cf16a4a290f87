# DayTrader. `make run` brings the whole system up on this machine;
# `make test` runs every test against real parts. See README.md.
SHELL := /bin/bash
GO ?= go
BIN := bin/daytrader
SHARED ?= ../shared
export DATABASE_URL ?= $(shell scripts/postgres.sh url)

.PHONY: run test bench chaos build deps postgres generate clean stop

build:
	$(GO) build -o $(BIN) ./cmd/daytrader

deps:
	@scripts/deps.sh

postgres: deps
	@scripts/postgres.sh start >/dev/null

## run: Postgres + embedded Temporal (+ its UI) + quote emulator + worker + web. Ctrl-C stops.
run: postgres build
	$(BIN) dev

## test: every package's tests; Postgres, Temporal, Chromium and xmllint are real.
test: postgres
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

## bench: the 100-user course workload on a fresh embedded stack, legacy quote latency.
bench: postgres build
	$(BIN) workload run --embedded --quote-latency legacy --validate-xsd $(SHARED)/spec/logfile.xsd $(SHARED)/workloads/100User_testWorkLoad

## chaos: the fault-injection tests (worker kill -9, stack restart, Postgres outage, slow quotes),
## bigger than in `make test`, plus the ledger check over the 100-user course workload.
chaos: postgres build
	CHAOS_USERS=50 CHAOS_LINES=20000 CHAOS_KILLS=4 $(GO) test -count=1 -timeout 30m -run 'Chaos|Fault' -v ./internal/chaos/
	CHAOS_WORKLOAD=100User_testWorkLoad $(GO) test -count=1 -timeout 30m -run TestChaosLedger -v ./internal/chaos/

## generate: regenerate templ's Go code (web/TestGeneratedTemplatesAreCurrent fails when it is stale).
generate:
	$(GO) tool templ generate

stop:
	scripts/postgres.sh stop

clean:
	rm -rf bin
