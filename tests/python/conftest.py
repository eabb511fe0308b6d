"""Shared fixtures: a replay server for an organisation, sources configured to read from it through dlt's
own configuration (environment variables), and fast retries; the warehouses several modules read, built once per
`pytest` run (also across pytest-xdist workers) and shared read-only."""

from __future__ import annotations

import fcntl
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from dbt_unit_tests import UNIT_TESTS_OFF, data_tests_off, with_data_tests
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from postgres_server import Postgres, running_postgres

from ingestion.demo.org import Org
from ingestion.demo.server import ReplayServer
from yardstick.demo import source_settings
from yardstick.refresh import Progress

START = "2026-01-01"
# every test's person key (an explicit key: nothing is generated into a .dlt/secrets.toml); set at import, before
# session fixtures build warehouses
TEST_PERSON_KEY = "yardstick-tests-person-key"
os.environ["YARDSTICK_PERSON_KEY"] = TEST_PERSON_KEY

PROJECT = Path(__file__).resolve().parents[2]

# dbt's unit tests once per run, not in each of the suite's builds (dbt_unit_tests.py)
os.environ.update(UNIT_TESTS_OFF)
# no manifest.json and run_results.json after each of the suite's dbt runs (writing them took 0.6 s of a 1 s
# invocation); the commands whose artifacts the code reads write them anyway (yardstick/dbt.py ARTIFACT_COMMANDS)
os.environ["DBT_WRITE_JSON"] = "false"

# pyspark (installed by `make test-spark`) takes a process whose __main__ has no file, as in a pytest-xdist worker,
# for its own doctest run and calls sys.exit() when Great Expectations imports it (pyspark/sql/connect/utils.py)
if not hasattr(main := sys.modules["__main__"], "__file__") and getattr(main, "__spec__", None) is None:
    main.__file__ = "pytest-xdist worker"

# Three workers on two cores already run in parallel: within a worker, dbt's two threads and DuckDB's own only
# contend for the cores (a small warm build took 11% more CPU with them). Production keeps profiles.yml's threads.
os.environ.setdefault("YARDSTICK_DBT_THREADS", "1")  # profiles.yml (dbt itself reads no DBT_THREADS)
os.environ.setdefault("YARDSTICK_DUCKDB_THREADS", "1")

# pytest-xdist: two dbt runs at once must not share the project's target/ (partial parse, manifest, compiled SQL)
# nor logs/, so each worker (and the `yardstick` processes it starts) gets its own
if WORKER := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("DBT_TARGET_PATH", str(PROJECT / "target" / WORKER))
    os.environ.setdefault("DBT_LOG_PATH", str(PROJECT / "logs" / WORKER))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads a developer's .dlt config or leaves settings behind; retries are quick."""
    monkeypatch.chdir(tmp_path)
    # dlt reads the .dlt/ of the directory its run context was made in (an earlier test's, whose secrets.toml
    # may hold a person key): this test's own, as a process started here would
    Container()[PluggableRunContext].reload(str(tmp_path))
    for key in ("SOURCES__GITHUB__REPOSITORIES", "SOURCES__GITHUB__ACCESS_TOKEN", "SOURCES__PAGERDUTY__API_TOKEN",
                "SOURCES__JIRA__API_TOKEN", "SOURCES__GITLAB__PRIVATE_TOKEN", "SOURCES__JENKINS__API_TOKEN",
                "SOURCES__GIT__REPOSITORIES", "SOURCES__GITHUB_COPILOT__ORGANIZATIONS",
                "SOURCES__GITHUB_COPILOT__ACCESS_TOKEN", "SOURCES__GITHUB__API", "SOURCES__GITHUB__MAX_REQUESTS_PER_RUN",
                "SOURCES__GITHUB__EXCLUDE_REPOSITORIES", "SOURCES__GITHUB__INCLUDE_ARCHIVED",
                "SOURCES__GITHUB__INCLUDE_FORKS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture(scope="module", autouse=True)
def _dbt_data_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module that sets `DBT_DATA_TESTS = False` builds without dbt's data tests (dbt_unit_tests.py)."""
    if getattr(request.module, "DBT_DATA_TESTS", True):
        yield
        return
    with data_tests_off():
        yield


@pytest.fixture()
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Org], ReplayServer]]:
    """Start a replay server for an org and point the GitHub and PagerDuty sources at it."""
    servers: list[ReplayServer] = []

    def start(org: Org) -> ReplayServer:
        server = ReplayServer(org)
        server.start()
        servers.append(server)
        settings = source_settings(server, sorted(org.github), date.fromisoformat(START))
        for key, value in settings.items():
            monkeypatch.setenv(key, value)
        return server

    yield start
    for server in servers:
        server.stop()


def shared_build(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """Run `build(directory)` once per pytest run and return the directory. Under pytest-xdist each worker has
    its own session, so the directory lives under the run's basetemp root (shared by the workers) and a file
    lock makes the first worker build while the others wait for it. A failed build is recorded, so the other
    workers fail at once with its traceback instead of building again."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # .../pytest-N/popen-gwK → .../pytest-N
    directory = root / "shared" / name
    directory.mkdir(parents=True, exist_ok=True)
    done, failed = directory / ".built", directory / ".failed"
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.exists():
            pytest.fail(f"building the shared {name} failed in another worker:\n{failed.read_text()}")
        if not done.exists():
            try:
                with with_data_tests():  # every data test on the shared warehouses, whichever module asks first
                    build(directory)
            except BaseException:
                failed.write_text(traceback.format_exc())
                raise
            done.touch()
    return directory


@pytest.fixture(scope="session")
def scenario_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written March 2026 scenario (scenarios.py) ingested from a replay server, built, checked and
    published once per run (a full dbt build takes a while). Tests read it, or copy it to change it."""
    from scenarios import march_2026

    from ingestion.demo import copilot_api
    from yardstick.demo import environment
    from yardstick.refresh import refresh

    def build(directory: Path) -> None:
        scenario = march_2026()
        with ReplayServer(scenario.org) as server, environment({
            **source_settings(server, sorted(scenario.org.github), date.fromisoformat(START)),
            **copilot_api.source_settings(server.url + "/copilot", "acme", "2026-03-02", "2026-03-15"),
            "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
        }):
            refresh(directory / "warehouse.duckdb", from_scratch=True, progress=Progress(quiet=True))

    return shared_build(tmp_path_factory, "scenario", build) / "warehouse.duckdb"


# the demo organisation the tests share (test_readme), as of a pinned day
DEMO = {"teams": 2, "weeks": 8, "seed": 3, "today": date(2026, 12, 2)}


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`yardstick demo --teams 2 --weeks 8 --seed 3` (run_demo: every tool, product events, this checkout's git
    history), built once per run and shared read-only; its directory is the demo's working directory."""
    from yardstick.demo import run_demo

    def build(directory: Path) -> None:
        run_demo(directory / "warehouse.duckdb", **DEMO, progress=Progress(quiet=True))

    return shared_build(tmp_path_factory, "demo", build) / "warehouse.duckdb"


@pytest.fixture()
def quiet() -> Progress:
    return Progress(quiet=True)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL server from Debian's packages on 127.0.0.1 (postgres_server.py), one per test module."""
    try:
        with running_postgres() as server:
            yield server
    except RuntimeError as exc:
        pytest.fail(str(exc))


# Most expensive modules first (full dbt builds each; figures in the README's "Tests" section), so that on
# pytest-xdist's workers the long ones start at once and the short ones fill in behind them.
# test_demo_story starts first: its worker builds the shared demo that test_demo_product and test_readme read later.
SLOW_FIRST = ["test_demo_story", "test_nightly", "test_readers", "test_incremental_equals_full", "test_team_metrics",
              "test_maturity_demo",
              "test_postgres_portability", "test_bench", "test_postgres", "test_semantic_layer",
              "test_mixed_tools", "test_beyond_dora", "test_github_graphql", "test_github_copilot",
              "test_demo_product", "test_product_analytics", "test_report", "test_dora_end_to_end", "test_goals",
              "test_publish", "test_readme"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__ if item.module else "", len(rank)))


# Modules of many independent tests and no expensive module-scoped build: their tests are spread over the workers
# one by one (test_bad_inputs: ~40 tests of ~10 s, ingest only), so they fill in behind the long modules.
SPREAD = {"test_bad_inputs"}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Whole modules per worker (their module-scoped builds run once; SPREAD modules test by test), in collection
    order, and a worker gets its next module only when it is down to its last test: xdist's own file scheduler
    hands a second module to a worker whose first has two tests left, which would queue test_nightly behind
    test_readers on one worker."""
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return nodeid if Path(module).stem in SPREAD else module

        def _reschedule(self, node) -> None:  # type: ignore[no-untyped-def]
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) > 1:  # the worker holds its last test back until
                return                                          # it knows what comes next
            self._assign_work_unit(node)

    config.option.loadscopereorder = False
    return ModuleScheduling(config, log)
