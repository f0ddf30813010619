# PressFlow 新闻发布审批流程平台 — developer entry points.
#
#   make run     build the venv + front-end assets, migrate/deploy/seed, serve on $PORT (8000)
#   make test    ruff + mypy (engine/) + pytest on TEST_WORKERS=2 processes (PYTEST_ARGS="-k foo -x" to narrow)
#   make lint    ruff only;  make typecheck  mypy (engine/)
#   make assets  npm ci (only when package-lock.json changed) + scripts/build_assets.mjs
#   make system-libs  the system libraries of PDF rendering (Pango for WeasyPrint), installed when missing
#   make bench   the benchmark suite (bench/, see bench/README.md): one table + bench-results.json
#   make stress  the hardening tests at full size: 100 race rounds, 50 kills, 1,000+ fuzzed requests, every user
#   make clean   remove .venv, node_modules, webapp/static/vendor, instance/
#
# Every target is idempotent: the venv is rebuilt only when pyproject.toml changes,
# node_modules only when package-lock.json / package.json change, and the asset build
# skips itself when its inputs are unchanged.

PYTHON ?= python3
NPM ?= npm
NODE ?= node
PORT ?= 8000
PYTEST_ARGS ?=
# pytest-xdist processes for `make test` (0: one process); files stay whole on one worker.
TEST_WORKERS ?= 2
BENCH_ARGS ?=

VENV := .venv
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.pressflow-installed
VENDOR_DIR := webapp/static/vendor

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

.PHONY: help venv assets translations i18n-update system-libs run serve init test lint typecheck bench stress clean

help:
	@echo "targets: run test lint typecheck assets bench stress venv clean"
	@echo "  PORT=$(PORT) PYTHON=$(PYTHON) PYTEST_ARGS='$(PYTEST_ARGS)'"

# --- Python environment -------------------------------------------------------------
venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# --- Front-end assets ---------------------------------------------------------------
ifneq ($(wildcard package.json),)
assets: $(NODE_STAMP)
	$(NODE) scripts/build_assets.mjs

$(NODE_STAMP): package-lock.json package.json
	$(NPM) ci --no-audit --no-fund
	@touch $@
else
assets:
	@echo "no package.json: skipping front-end assets"
endif

# --- System libraries of PDF rendering -------------------------------------------------------
# WeasyPrint (the approval sheet's PDF, webapp/pdf.py) loads Pango, HarfBuzz and fontconfig through cffi. No CJK
# system font is needed: the PDF embeds Noto Sans SC from npm (see assets). Installed with apt-get when missing and
# run as root (CI, containers); otherwise the command to run is printed and the PDF link says it is unavailable.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1

system-libs:
	@if $(PYTHON) -c "import ctypes.util as u, sys; sys.exit(not all(map(u.find_library, ('pango-1.0', 'pangoft2-1.0', 'harfbuzz', 'harfbuzz-subset', 'fontconfig'))))"; then \
	  echo "PDF rendering: system libraries present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "PDF rendering: installing $(PDF_LIBS)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PDF_LIBS) >/dev/null; \
	else \
	  echo "PDF rendering: system libraries missing; as root run: apt-get install $(PDF_LIBS)"; \
	fi

# --- Translations (.po committed, .mo compiled here) --------------------------------------
CATALOGUES := $(wildcard webapp/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

translations: $(COMPILED)

# --use-fuzzy: a catalogue written with --omit-header has no header, which babel reads as "fuzzy" and would skip;
# fuzzy entries themselves are ruled out by tests/unit/test_translations.py.
webapp/translations/%/LC_MESSAGES/messages.mo: webapp/translations/%/LC_MESSAGES/messages.po $(VENV_STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d webapp/translations -l $* --statistics

# Re-extract every text and merge it into the catalogues (then translate the new entries).
i18n-update: $(VENV_STAMP)
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k lazy_gettext -o webapp/translations/messages.pot \
	  --no-location --omit-header --sort-output .
	$(VENV)/bin/pybabel -q update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching \
	  --omit-header

# --- Run ------------------------------------------------------------------------------
init: $(VENV_STAMP) assets translations system-libs
	$(VENV)/bin/pressflow init --demo --samples

run: init
	exec $(VENV)/bin/pressflow serve --port $(PORT) --with-worker

serve: run

# --- Quality ----------------------------------------------------------------------------
test: $(VENV_STAMP) assets translations system-libs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(VENV_STAMP)
	$(VENV)/bin/mypy

bench: $(VENV_STAMP)
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

# `make test` runs tests/hardening in a reduced size; this runs it at the figures of issue 12 and prints them.
# With TEST_DATABASE_URL set, on PostgreSQL as well.
stress: $(VENV_STAMP) assets translations
	PRESSFLOW_STRESS=1 $(VENV)/bin/pytest tests/hardening -q $(PYTEST_ARGS)

# --- Housekeeping -----------------------------------------------------------------------
clean:
	rm -rf $(VENV) node_modules $(VENDOR_DIR) instance/ \
	  .pytest_cache .ruff_cache .mypy_cache test-artifacts *.egg-info
