# Two commands set everything up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
AXE_VERSION := 4.14.1
AXE := .cache/axe-core-$(AXE_VERSION)/axe.min.js
# Debian packages the app and its tests need (PDF rendering, browser tests, the pdfkit engine).
APT_RUN := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
APT_TEST := chromium wkhtmltopdf postgresql

.PHONY: run serve install install-test system-deps system-deps-test db-upgrade referential demo \
        test test-pg lint translations translations-update bench clean

run: install db-upgrade referential demo serve

# The links and QR codes the demo prints point where the app is served; with HOST=0.0.0.0
# (phones on the same network) that is the machine's first address. NTC_PUBLIC_URL wins.
LINK_HOST = $(if $(filter 0.0.0.0,$(HOST)),$(firstword $(shell hostname -I 2>/dev/null) 127.0.0.1),$(HOST))
run demo serve: export NTC_PUBLIC_URL ?= http://$(LINK_HOST):$(PORT)

serve:
	$(FLASK) run --host $(HOST) --port $(PORT)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: system-deps $(VENV)/.installed translations

install-test: system-deps-test $(VENV)/.installed-test translations $(AXE)

# apt-get only when something is missing, so a second run costs nothing.
system-deps:
	@scripts/apt-ensure $(APT_RUN)

system-deps-test:
	@scripts/apt-ensure $(APT_RUN) $(APT_TEST)

$(AXE):
	mkdir -p .cache
	cd .cache && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  mkdir -p axe-core-$(AXE_VERSION) && tar xzf axe-core-$(AXE_VERSION).tgz && \
	  cp package/axe.min.js axe-core-$(AXE_VERSION)/ && rm -rf package axe-core-$(AXE_VERSION).tgz

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d ntc_jury/translations -f >/dev/null

# Re-extract the French source strings and merge them into the English catalogue.
translations-update: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o ntc_jury/translations/messages.pot ntc_jury
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i ntc_jury/translations/messages.pot -d ntc_jury/translations
	$(PY) scripts/fill_french_plurals.py

db-upgrade: $(VENV)/.installed
	$(FLASK) db upgrade

referential: db-upgrade
	$(FLASK) referential load seed/referentials/tp-00338-v07.yaml

demo: referential
	$(FLASK) demo

test: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

# The same suite against the local PostgreSQL server (started and prepared if needed).
test-pg: install-test
	NTC_TEST_DATABASE_URL="$$(scripts/pg-test-db)" $(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.installed-test
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
