# policyresults: the two commands are `make run` and `make test`.
GO       ?= go
BIN      := bin/policyresults
ADDR     ?= 127.0.0.1:8080
PKGS     := ./...

.PHONY: run test build generate generate-check vet lint-spec sdk-test docs-test console-test console-bench cli-test fuzz-smoke contract-fuzz soak fault-drill webhook-drill bench bench-full bench-smoke clean

## run: build, migrate the embedded database, seed the demo organisation if empty, print a token and serve
run: build
	./$(BIN) serve --addr $(ADDR) --demo

## test: every test: Go (-race, on SQLite and, where it answers, always in CI,
## PostgreSQL), then the spec lint, the TypeScript SDK and the /docs page in
## Chromium (these need Node.js: skipped with a note where it is missing, never in CI)
test: vet
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	@scripts/js-suite.sh

## build: the server (bin/policyresults) and the benchmarks' load generator (bin/policyresults-bench)
build:
	$(GO) build -o $(BIN) ./cmd/policyresults
	$(GO) build -o bin/policyresults-bench ./cmd/policyresults-bench

## generate: regenerate gen/, the TypeScript SDK's types, the embedded Redoc bundle and the console
generate:
	$(GO) generate ./gen/...
	scripts/sdk-generate.sh
	scripts/docs-build.sh
	scripts/console-build.sh

## generate-check: fail when gen/, sdk/typescript/src/schema.ts, web/docs/dist or web/console/dist is stale
generate-check:
	@scripts/generate-check.sh
	@scripts/sdk-generate.sh --check
	@scripts/docs-build.sh --check
	@scripts/console-build.sh --check

## lint-spec: Redocly lint of openapi.yaml with .redocly.yaml (no errors, no warnings)
lint-spec:
	@scripts/lint-spec.sh

## sdk-test: the TypeScript SDK against the real server
sdk-test:
	@scripts/sdk-test.sh

## docs-test: GET /docs in headless Chromium
docs-test:
	@scripts/docs-test.sh

## console-test: the web console's unit tests and every page in headless Chromium
console-test:
	@scripts/console-test.sh

## console-bench: the console in Chromium on the ~100k demo (BENCHMARKS.md, "The console")
console-bench:
	scripts/console-bench.sh

## cli-test: the real pulumi CLI (built from the Go module proxy at the version
## tools/pulumicli pins; minutes on a first build) against a demo server; not in make test or CI
cli-test:
	@scripts/cli-test.sh

vet:
	$(GO) vet $(PKGS)

## fuzz-smoke: every fuzz target for FUZZTIME (default 5s) each
fuzz-smoke:
	scripts/fuzz-smoke.sh

## contract-fuzz: the contract fuzz's long run, CHECKS (default 300) valid and invalid requests per
## operation on SQLite and PostgreSQL, with its figures (RELIABILITY.md); make test runs 6
contract-fuzz:
	$(GO) test -count=1 -v -timeout 60m -run '^TestContractFuzz$$' ./server/ -rapid.checks=$${CHECKS:-300}

## soak: 8 clients for 60 s on SQLite and PostgreSQL
soak:
	POLICYRESULTS_SOAK=60s $(GO) test -count=1 -run TestSoak -v -timeout 15m ./server/

## webhook-drill: webhook deliveries across a receiver outage and a server SIGKILL (EVALUATIONS, default 40)
webhook-drill:
	scripts/webhook-drill.sh

## fault-drill: kill the database's connections under load (MODE=restart restarts PostgreSQL: run alone)
fault-drill:
	MODE=$${MODE:-terminate} scripts/fault-pg-restart.sh

## bench: benchmark suite, ~100k issues on SQLite and PostgreSQL (about 3 minutes; BENCHMARKS.md)
bench:
	scripts/bench.sh small

## bench-full: 1M issues on PostgreSQL (builds policyresults_bench1m once, ~7-9 min, then reuses it)
bench-full:
	scripts/bench.sh full

## bench-smoke: the benchmark suite on tiny data for seconds (CI keeps it working; no speed asserted)
bench-smoke:
	scripts/bench.sh smoke

clean:
	rm -rf bin data
