# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
# Each creates .venv when it is missing and installs the project into it; the second run is fast
# because the install is redone only when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ketaplan-installed
TOOLS := .cache/.interop-tools
SOURCES := ketaplan tests benchmarks docs/examples

.PHONY: demo test test-deep lint format bench profile clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# The main job: a real patient calendar from a built-in protocol, at the demo clinic (New York,
# US holidays) for the demo patient (weekday mornings, a week of travel in January).
demo: $(STAMP)
	$(BIN)/ketaplan plan iv-ketamine-standard --start 2026-12-01 --time 09:00 \
		--until 2027-06-30 --clinic demo --patient demo --now 2026-11-21T09:00
	@mkdir -p out
	$(BIN)/ketaplan plan iv-ketamine-standard --start 2026-12-01 --time 09:00 \
		--until 2027-06-30 --clinic demo --patient demo --format ics \
		--now 2026-11-21T09:00 -o out/demo-patient.ics
	@echo "The patient's calendar is $(CURDIR)/out/demo-patient.ics (import it into any calendar app)."
	$(BIN)/ketaplan plan iv-ketamine-standard --start 2026-12-01 --time 09:00 \
		--until 2027-06-30 --clinic demo --patient demo --format html \
		--now 2026-11-21T09:00 -o out/demo-timeline.html
	@echo "The patient's timeline is $(CURDIR)/out/demo-timeline.html (open it in a browser)."

lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy

# ical.js (npm) and libical3 (apt) for the interoperability tests; tried once, then cached.
$(TOOLS): tests/interop/setup.sh
	@bash tests/interop/setup.sh
	@mkdir -p .cache && touch $@

test: lint $(TOOLS)
	$(BIN)/pytest -q

# The property tests with many more examples (HYPOTHESIS_PROFILE=deep).
test-deep: lint $(TOOLS)
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest -q

# The benchmarks at full size (minutes); prints the table and writes benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# One benchmark at full size under pyinstrument (a call tree of where the time goes):
# `make profile BENCH=export`; the names are those of `python -m benchmarks --only`.
BENCH ?= plan_clinic
profile: $(STAMP)
	$(BIN)/pyinstrument -m benchmarks --child $(BENCH) --scale full

format: $(STAMP)
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

clean:
	rm -rf $(VENV) .cache out .mypy_cache .ruff_cache .pytest_cache .hypothesis
