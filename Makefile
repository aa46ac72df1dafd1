# policyresults: the two commands are `make run` and `make test`.
GO       ?= go
BIN      := bin/policyresults
ADDR     ?= 127.0.0.1:8080
PKGS     := ./...

.PHONY: run test build generate generate-check vet fuzz-smoke bench bench-full clean

## run: build, migrate the embedded database, seed the demo organisation if empty, print a token and serve
run: build
	./$(BIN) serve --addr $(ADDR) --demo

## test: every test, on SQLite and (where it answers, always in CI) PostgreSQL
test: vet
	$(GO) test -race -count=1 $(PKGS)

build:
	$(GO) build -o $(BIN) ./cmd/policyresults

## generate: regenerate gen/ from openapi.yaml
generate:
	$(GO) generate ./gen/...

## generate-check: fail when gen/ is stale against openapi.yaml
generate-check:
	@scripts/generate-check.sh

vet:
	$(GO) vet $(PKGS)

clean:
	rm -rf bin data
