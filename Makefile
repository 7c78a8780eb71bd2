# Two commands on a fresh machine with Python 3.11+:
#   make up     set up .venv and run the whole stack (server, Envoy, dashboard) on embedded defaults
#   make test   set up .venv (with test tools and Debian's chromium) and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: up test setup setup-dev browser proto lint bench clean

$(VENV)/.runtime: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "CTS needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

up: setup
	$(BIN)/cts up

# Debian's chromium for the browser test (never a browser downloaded by a test tool).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "chromium not installed and no apt-get: the browser test will be skipped"; fi

test: setup-dev browser
	$(BIN)/python -m pytest

proto: setup-dev
	$(BIN)/python proto/generate.py

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup-dev
	$(BIN)/python bench/api_latency.py
	$(BIN)/python bench/exchange_access.py
	$(BIN)/python bench/engines.py
	$(BIN)/python bench/recovery.py
	$(BIN)/python bench/logs.py
	$(BIN)/python bench/monitoring.py
	$(BIN)/python bench/throttled.py
	$(BIN)/python bench/hardening.py
	$(BIN)/python bench/overview.py
	$(BIN)/python bench/fanout.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
