# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app main_service
DEPS := $(VENV)/.deps-installed
APT_PACKAGES := poppler-utils

.PHONY: run test lint format bench system-packages clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEPS): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEPS)

# Debian packages the tests read PDFs with; installed only when root and missing.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: missing Debian packages:$$missing (install them to run every test)"; fi; \
	fi

run: $(DEPS)
	$(FLASK) db upgrade
	$(FLASK) ensure-admin
	$(PY) scripts/run_all.py

test: $(DEPS) system-packages
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(DEPS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEPS)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(DEPS)
	@echo "Benchmarks (SPEC §9) arrive with the benchmarks issue; nothing is measured yet."

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
