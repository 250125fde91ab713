# The two commands a newcomer needs: `make run` and `make test` (`make test-fast` while working).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app main_service
RUN_DEPS := $(VENV)/.run-deps-installed
DEPS := $(VENV)/.deps-installed
APT_RUNTIME := libharfbuzz-subset0
APT_TEST := poppler-utils chromium curl
APT_TEST_FAST := poppler-utils curl
# Bytecode caches, and pytest's cache of rewritten modules, save seconds at every start.
PYTEST := PYTHONDONTWRITEBYTECODE= $(PY) -m pytest
# The fast loop leaves out what takes minutes: Postgres (--backends sqlite), the
# browser, the tests that start processes (slow) and the fault-injection suite.
FAST_ARGS := -n 2 --backends sqlite -m "not slow and not browser and not resilience" \
  --ignore=tests/resilience --ignore=tests/browser -p no:playwright

.PHONY: run test test-fast lint format bench system-packages clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_DEPS): $(PY) requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(RUN_DEPS)

$(DEPS): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(RUN_DEPS) $(DEPS)

# Debian packages: WeasyPrint's font subsetter at run time; for the tests, PDF
# reading, the browser and curl (README examples). Installed only when root and missing.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: missing Debian packages:$$missing (install them to run every test)"; fi; \
	fi

run: $(RUN_DEPS)
	@$(MAKE) --no-print-directory system-packages APT_PACKAGES="$(APT_RUNTIME)"
	$(FLASK) db upgrade
	$(FLASK) ensure-admin
	$(PY) scripts/run_all.py

test: $(DEPS)
	@$(MAKE) --no-print-directory system-packages APT_PACKAGES="$(APT_RUNTIME) $(APT_TEST)"
	@# The fault-injection suite (tests/resilience) runs beside the rest: it restarts a
	@# Postgres cluster of its own and kills only processes it started; most of its time is
	@# spent waiting (outages, leases, backoff). Its output and figures are printed after.
	@mkdir -p test-artifacts; \
	$(PYTEST) -m resilience tests/resilience $(PYTEST_ARGS) > test-artifacts/resilience.log 2>&1 & resilience=$$!; \
	$(PYTEST) -n 2 -m "not resilience" --ignore=tests/resilience $(PYTEST_ARGS); main=$$?; \
	wait $$resilience; faults=$$?; \
	echo "---------------- tests/resilience (ran beside the rest) ----------------"; \
	cat test-artifacts/resilience.log; \
	test $$main -eq 0 -a $$faults -eq 0

# SQLite only, no browser, no process starts, no faults (SPEC §17 wants 90 s on two cores: on two idle
# cores it took 86 s by pytest's count, 90 s with make, about 165 CPU-seconds; longer when they are shared).
test-fast: $(DEPS)
	@$(MAKE) --no-print-directory system-packages APT_PACKAGES="$(APT_RUNTIME) $(APT_TEST_FAST)"
	$(PYTEST) $(FAST_ARGS) $(PYTEST_ARGS)

lint: $(DEPS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEPS)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(DEPS)
	@$(MAKE) --no-print-directory system-packages APT_PACKAGES="$(APT_RUNTIME) wrk" && $(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
