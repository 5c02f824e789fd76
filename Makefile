# The two set-up commands of the README: `make demo` and `make test`.
# Both work on a fresh Debian machine, as root or as a user with sudo.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8888

.PHONY: demo test install prereqs js chromium postgresql lint unit jstest e2e screenshots bench clean

# A fresh Debian lacks venv and Node.js; bring them from Debian's packages when missing.
prereqs:
	@command -v npm >/dev/null && $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	  python3 python3-venv python3-pip nodejs npm >/dev/null; }

$(VENV)/bin/activate: | prereqs
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip

node_modules/.bin/esbuild: package.json | prereqs
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	touch $@

js: node_modules/.bin/esbuild
	npm run --silent build

install: $(VENV)/bin/activate js
	$(PIP) install -q -e '.[test,embeddings,spacy,postgres]'

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The PostgreSQL store's tests start their own server from Debian's binaries (not a service).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

demo: install
	@echo "nblabel demo: open the URL printed below (JupyterLab on $(HOST):$(PORT))"
	$(VENV)/bin/jupyter lab --no-browser --ip=$(HOST) --port=$(PORT) \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) example_notebooks/01_quickstart.ipynb

lint: install
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(VENV)/bin/ruff format --check src tests benchmarks tools
	$(VENV)/bin/lint-imports --no-cache

unit: install postgresql
	$(PY) -m pytest -q tests -m "not browser"

jstest: node_modules/.bin/esbuild
	node --test js/lib/ js/crowd/

e2e: install chromium
	$(PY) -m pytest -q tests -m browser

test: install chromium postgresql lint jstest
	$(PY) -m pytest -q tests

# The browser tests save their pictures into the ignored test-screenshots/, so `make test`
# changes no tracked file; this runs the ones that take a picture again, saving into docs/img.
screenshots: install chromium
	$(PY) -m pytest -q tests/e2e -m screenshots --screenshot-dir docs/img

# Benchmarks are modules of the `benchmarks` package, run from the repository root.
bench: install chromium
	$(PY) -m benchmarks.ui_latency
	$(PY) -m benchmarks.scale

clean:
	rm -rf $(VENV) node_modules src/nblabel/static
