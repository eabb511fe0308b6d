# Two commands from a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export RUNTIME__DLTHUB_TELEMETRY := false
export GX_ANALYTICS_ENABLED := false
export DEBIAN_FRONTEND := noninteractive

# Debian packages the tests drive for real (headless browser for the report; PostgreSQL server, psql and
# pgjdbc for the Metabase/publish-postgres tests, which also use the machine's Java 17); installed only when missing.
DEBIAN_PACKAGES := chromium postgresql libpostgresql-jdbc-java

.PHONY: demo test lint test-spark bench bouncer clean setup system-packages

setup: $(STAMP)

# uv (from PyPI, pinned) installs the same packages as pip in a fifth of the time (README "Tests"); bytecode is
# compiled at install, as pip does, so no process compiles the libraries again. pip is the fallback.
UV_VERSION := 0.13.9
define install
	$(BIN)/pip install -qq --disable-pip-version-check uv==$(UV_VERSION) && \
		$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -e '$(1)' || \
		$(BIN)/pip install -qq --disable-pip-version-check -e '$(1)'
endef

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(call install,.[test])
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/yardstick demo

system-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -qq $$missing >/dev/null || \
		{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; }; \
	fi

# Linters with the committed configs (pyproject.toml [tool.ruff], .sqlfluff: dbt templater, so sqlfluff compiles the
# project, in its own target/sqlfluff/ and against a scratch DuckDB file there, never a warehouse).
LINT_DIR := target/sqlfluff
# the templater opens a dbt session: a throw-away person key, so linting never writes a secret into .dlt/
LINT = $(BIN)/ruff check . && mkdir -p $(LINT_DIR) && \
	DBT_TARGET_PATH=$(LINT_DIR) DBT_LOG_PATH=$(LINT_DIR)/logs YARDSTICK_WAREHOUSE=$(LINT_DIR)/scratch.duckdb \
	YARDSTICK_PERSON_KEY=lint-only-not-a-secret $(BIN)/sqlfluff lint --processes $(LINT_PROCESSES) models macros tests/*.sql
# two processes lint in 30 s instead of 45, for 8 s more CPU; beside the tests, one (the cores are theirs)
LINT_PROCESSES ?= 2

lint: $(STAMP)
	$(LINT)

# PYTEST_WORKERS=0 runs the tests in this process, one after the other (conftest.py shares the expensive builds
# between workers and hands each worker whole modules, slowest first). Three workers on two cores: a worker often
# waits (on a subprocess, a server, a lock, the disk), and a third one fills that time (README "Tests").
PYTEST_WORKERS ?= 3

# The linters run beside the tests (they fill the moments the workers wait); their output follows the tests', and
# either failing fails `make test`. (Not through $(MAKE): make runs such a line even for `make -n`.)
test: LINT_PROCESSES := 1
test: $(STAMP) system-packages
	@mkdir -p $(LINT_DIR)
	@( $(LINT) ) > $(LINT_DIR)/lint.log 2>&1 & linting=$$!; \
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS); tests=$$?; \
	wait $$linting; linted=$$?; cat $(LINT_DIR)/lint.log; \
	if [ $$linted -ne 0 ]; then echo "make lint failed (its output is above)"; fi; \
	[ $$tests -eq 0 ] && [ $$linted -eq 0 ]

# The same dbt project on Spark (dbt-spark's session method, pyspark on local[2], the machine's Java 17): the demo's
# raw data loaded into Spark tables, `dbt build --target spark`, the DORA marts compared with DuckDB's.
SPARK_STAMP := $(VENV)/.installed-spark
SPARK_EXTRAS := .[test,spark]

$(SPARK_STAMP): $(STAMP)
	$(call install,$(SPARK_EXTRAS))
	@touch $(SPARK_STAMP)

test-spark: $(SPARK_STAMP)
	@command -v java >/dev/null 2>&1 || $(MAKE) system-packages DEBIAN_PACKAGES=openjdk-17-jre-headless
	$(BIN)/python -m pytest -m spark tests/python/test_spark.py

# The project's rules (dbt-bouncer.yml, docs/architecture.md §10) on the dbt artifacts of the published warehouse
# (`make demo` first): `yardstick docs` writes target/manifest.json and target/catalog.json from a copy of it.
bouncer: $(STAMP)
	@test -f "$${YARDSTICK_WAREHOUSE:-warehouse.duckdb}" || \
		{ echo "no warehouse at $${YARDSTICK_WAREHOUSE:-warehouse.duckdb}: run make demo first"; exit 1; }
	$(BIN)/yardstick docs
	$(BIN)/dbt-bouncer run --config-file dbt-bouncer.yml

# Large-organisation benchmark (never part of `make test`): generate payloads, measure, summarise.
# BENCH_SCALES="0.01 0.1 1.0" to go further; results in bench/results/<date>-<scale>.md.
# The whole organisation (its sync through the sources does not fit in 30 minutes, so DuckDB loads the raw tables
# and the ingest ratios and API cost are measured on a part, 50 of 250 teams, through the sources; a second part of
# 25 teams tells the nightly sync's fixed cost apart in the projected nightly ÷ full):
#   make bench BENCH_SCALES=1.0 BENCH_RUN_ARGS="--raw native --sources-part 0.1,0.2"
BENCH_SCALES ?= 0.01 0.1
BENCH_DATA ?= bench/data
BENCH_GENERATE_ARGS ?=
BENCH_RUN_ARGS ?=

bench: $(STAMP)
	@for s in $(BENCH_SCALES); do \
		bench/generate --scale $$s --out $(BENCH_DATA)/$$s $(BENCH_GENERATE_ARGS) && \
		bench/run --scale $$s --data $(BENCH_DATA)/$$s $(BENCH_RUN_ARGS) || exit 1; \
	done
	$(BIN)/python -m bench.summary

clean:
	rm -rf $(VENV) target dbt_packages logs .yardstick warehouse.duckdb* warehouse.private.duckdb* report *.egg-info bench/data
