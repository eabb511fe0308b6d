"""Shared fixtures: a replay server for an organisation, sources configured to read from it through dlt's
own configuration (environment variables), and fast retries."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
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


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads a developer's .dlt config or leaves settings behind; retries are quick."""
    monkeypatch.chdir(tmp_path)
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


@pytest.fixture(scope="session")
def scenario_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written March 2026 scenario (scenarios.py) ingested from a replay server, built, checked and
    published once per session (a full dbt build takes a while). Tests read it, or copy it to change it."""
    from scenarios import march_2026

    from ingestion.demo import copilot_api
    from yardstick.demo import environment
    from yardstick.refresh import refresh

    path = tmp_path_factory.mktemp("scenario") / "warehouse.duckdb"
    scenario = march_2026()
    with ReplayServer(scenario.org) as server, environment({
        **source_settings(server, sorted(scenario.org.github), date.fromisoformat(START)),
        **copilot_api.source_settings(server.url + "/copilot", "acme", "2026-03-02", "2026-03-15"),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    }):
        refresh(path, from_scratch=True, progress=Progress(quiet=True))
    return path


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
