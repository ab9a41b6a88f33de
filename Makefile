# Two commands for a newcomer: `make demo` and `make test`. Both install everything first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

CHROMIUM := /usr/bin/chromium

.PHONY: install demo test lint format lock clean browser bench

# --compile-bytecode: this machine sets PYTHONDONTWRITEBYTECODE=1, so without .pyc files written at
# install every run would compile its imports from source.
$(STAMP): requirements.lock pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the report's browser test (Playwright cannot download browsers here).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null

browser: $(CHROMIUM)

demo: install
	$(BIN)/therapy-audit demo

test: install $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Speed and memory at 100 thousand, 1 million and 10 million lines (README, Performance); data is
# cached in bench-cache/. BENCH_SIZES=100000,1000000 for a quicker run.
BENCH_SIZES ?= 100000,1000000,10000000
bench: install
	PYTHONPATH=. $(BIN)/python -m tests.benchmarks.bench --sizes $(BENCH_SIZES)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-resolve the lock after editing requirements.in (needs network access to the package index).
lock: install
	$(BIN)/uv pip compile --quiet --python-version 3.11 requirements.in -o requirements.lock

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
