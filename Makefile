# Alertdesk. `make run` starts everything; `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.11 || command -v python3)
export PYTHONPATH := $(CURDIR)
export XDG_RUNTIME_DIR ?= /tmp/alertdesk-runtime-$(shell id -u)
PYTEST_ARGS ?=

.PHONY: help setup setup-dev system-deps oidc-provider alerta-peer lint run test test-db bench screenshots clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.run-deps: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-deps: $(VENV)/.run-deps requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.run-deps ## create .venv and install the pinned requirements

setup-dev: $(VENV)/.dev-deps

system-deps: ## install what the suite needs beyond pip (Debian chromium, prometheus-alertmanager)
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v prometheus-alertmanager >/dev/null 2>&1 || missing="$$missing prometheus-alertmanager"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (the browser and Alertmanager tests need them)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v chromium >/dev/null 2>&1 || { echo "chromium could not be installed"; exit 1; }
	@command -v prometheus-alertmanager >/dev/null 2>&1 || { echo "prometheus-alertmanager could not be installed"; exit 1; }

lint: setup-dev ## ruff everywhere, mypy --strict on core/ and api/, the import contracts (.importlinter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --strict --ignore-missing-imports core api
	$(VENV)/bin/lint-imports --no-cache

run: setup ## start database, API (:8000), worker and UI (:8501); Ctrl-C stops all
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	$(PY) -m dashboard run

tests/oidc/node_modules: tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

alerta-peer: .alerta-venv/bin/gunicorn ## Alerta 9.1 in a venv of its own: the bench's side-by-side peer (not needed otherwise)

.alerta-venv/bin/gunicorn:
	python3 -m venv .alerta-venv
	.alerta-venv/bin/pip install -q alerta-server==9.1.0 gunicorn==27.0.1 psycopg2-binary==2.9.13

oidc-provider: tests/oidc/node_modules ## the OpenID Provider the SSO test runs (npm, node 20)

test: setup-dev system-deps oidc-provider lint ## lint, then the whole suite on a real PostgreSQL (embedded unless ALERTDESK_TEST_DATABASE_URL)
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	$(PY) -m pytest $(PYTEST_ARGS)

test-db: setup-dev ## only the database tests (CI runs them against the service PostgreSQL too)
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	$(PY) -m pytest tests/unit tests/integration tests/api $(PYTEST_ARGS)

bench: setup-dev ## load 1M alerts (first time; SCALE=10: 10M in a database of its own) and print benchmark figures as JSON
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	ALERTDESK_BENCH_SCALE=$(or $(SCALE),1) $(PY) -m bench.run

screenshots: setup-dev system-deps ## screenshots of the running app (make run in another shell)
	$(PY) scripts/screenshots.py

clean: ## remove the venv and local data (asks nothing: be sure)
	rm -rf $(VENV) .alertdesk .pytest_cache
