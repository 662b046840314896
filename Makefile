# kalem — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# uv installs exactly what uv.lock says (`--locked`: a lock that no longer matches pyproject.toml is an error),
# and writes every package's bytecode once (`--compile-bytecode`): where PYTHONDONTWRITEBYTECODE is set, no
# process writes it, and each `kalem` process would compile every module again at start-up (seconds of CPU).
SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --inexact --compile-bytecode
KALEM_PORT ?= 8000
KALEM_RECEIVER_PORT ?= 8001
export KALEM_DATABASE_URL ?= sqlite:///var/kalem.db

.PHONY: run test lint bench install install-test lock fidelity openapi postgres-binaries chromium graphql-http clean

# A bare venv (no pip: uv installs into it), and uv in it, installed by the system's pip.
$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)

$(UV): | $(BIN)/python
	$(PYTHON) -m pip --python $(BIN)/python install --quiet uv==0.13.9

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(SYNC) --quiet
	touch $@

$(VENV)/.installed-test: pyproject.toml uv.lock | $(UV)
	$(SYNC) --quiet --extra test
	touch $@ $(VENV)/.installed

## make lock: re-resolve uv.lock after a change to the dependencies in pyproject.toml (ranges stay there)
lock: | $(UV)
	$(UV) lock

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: install, migrate the embedded SQLite database, load demo data once, serve on :8000 with a
## webhook worker and the demo's webhook receiver (:8001) beside it; Ctrl-C, or SIGINT or SIGTERM to make,
## stops all three
run: install
	@mkdir -p var
	$(BIN)/kalem db upgrade
	@echo "--- demo credentials and story orders (var/demo-tokens.txt) ---"
	@$(BIN)/kalem demo --receiver-url http://127.0.0.1:$(KALEM_RECEIVER_PORT)/hooks
	@# `exec`: make's own child starts and stops the three (make passes SIGTERM on to it; it watches make
	@# for the SIGINT make keeps to itself), see kalem/devtools/run.py
	KALEM_WEBHOOK_ALLOW_PRIVATE_URLS=true exec $(BIN)/python -m kalem.devtools.run \
		--port $(KALEM_PORT) --receiver-port $(KALEM_RECEIVER_PORT)

## make lint: ruff (lint and import order) and mypy (types, strict on the domain); `make test` runs it first
lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## make test: install test needs (PostgreSQL from Debian if missing), lint, and run the whole suite on SQLite and
## PostgreSQL
test: install-test lint postgres-binaries chromium graphql-http
	@# kalem's own bytecode too (see SYNC): the tests start and restart many `kalem` processes
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m pytest -n 2 -q -p no:cacheprovider

## make fidelity: render docs/fidelity.md from the golden tests' manifest (tests/golden/manifest/*.toml)
fidelity: install-test
	$(BIN)/python -m tests.golden.manifest > docs/fidelity.md

## chromium: Debian's headless Chromium for the hub's browser tests (Playwright drives it; no `playwright install`)
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing chromium from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

## graphql-http: the GraphQL-over-HTTP audit suite (npm), for tests/dialects/test_graphql_over_http.py
GRAPHQL_HTTP := .cache/node/node_modules/graphql-http/package.json
graphql-http: $(GRAPHQL_HTTP)
$(GRAPHQL_HTTP):
	npm install --silent --no-audit --no-fund --no-save --prefix .cache/node graphql-http@1.23.1 graphql@16.15.0

postgres-binaries:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL server binaries from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

## make openapi: write the OpenAPI document the server publishes to docs/openapi.json (a test holds them equal)
openapi: install
	$(BIN)/kalem openapi > docs/openapi.json

## make bench: every benchmark in bench/, figures written to docs/performance.md
bench: install-test postgres-binaries
	@command -v wrk >/dev/null || { echo "installing wrk (the HTTP load generator) from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .cache .mypy_cache .ruff_cache
