"""GitHub's limits against the replay server: conditional requests (ETag / If-None-Match, a 304 is free) and waits that follow GitHub's headers (Retry-After, X-RateLimit-Reset),
asked of an injectable sleep: no test waits for real."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from ingestion.demo.generator import generate_org
from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ingest_source
from ingestion.sources import client

ACTIONS = ("workflow_runs", "workflow_jobs")


def _org() -> object:
    return generate_org(teams=1, weeks=4, end=date(2026, 11, 16))


def _counted(server: ReplayServer, since: int, part: str = "") -> int:
    """REST requests GitHub would count since request number `since` (a 304 is not counted)."""
    return sum(1 for r in server.requests[since:] if r.prefix == "github" and r.path != "/graphql"
               and r.status != 304 and part in r.path)


def _not_modified(server: ReplayServer, since: int) -> int:
    return sum(1 for r in server.requests[since:] if r.status == 304)


def test_a_sync_with_nothing_changed_gets_304s_loads_nothing_and_counts_less(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(_org())
    warehouse = tmp_path / "w.duckdb"
    ingest_source("github_actions", warehouse)  # first sync: from start_date
    assert _not_modified(server, 0) == 0
    mark = len(server.requests)
    ingest_source("github_actions", warehouse)  # from the cursor less the look-back: new URLs, their ETags kept
    second = _counted(server, mark)
    assert second > 0
    mark = len(server.requests)
    loaded = ingest_source("github_actions", warehouse)  # the same URLs again, nothing changed
    assert _not_modified(server, mark) > 0
    assert _counted(server, mark, "/actions/runs") == 0  # every runs page answered 304: nothing counted
    assert not any(loaded.get(f"raw_github_actions.{table}") for table in ACTIONS), loaded
    assert _counted(server, mark) < second

    # the REST path of the `github` source too: its pull-request list asked again, unchanged, is a 304
    monkeypatch.setenv("SOURCES__GITHUB__API", "rest")
    ingest_source("github", warehouse)
    mark = len(server.requests)
    ingest_source("github", warehouse)
    pulls = [r.status for r in server.requests[mark:] if r.path.endswith("/pulls")]
    assert pulls and set(pulls) == {304}
    # deployments are listed in full (their statuses are re-read for the look-back), never conditionally
    assert {r.status for r in server.requests[mark:] if r.path.endswith("/deployments")} == {200}


def test_waits_are_the_ones_github_asks_for(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(_org())
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # no real waiting: record it, and let the reset "happen"
        waits.append(seconds)
        server.rate_limit = 10**6
        server.reset_rate_limit()

    monkeypatch.setattr(client, "sleep", sleep)
    monkeypatch.setattr(client, "clock", lambda: server._reset_at - 100.0)  # 100 s before the reset

    server.fail("/actions/runs", 429, times=1, retry_after=42)  # a secondary limit: Retry-After
    ingest_source("github_actions", tmp_path / "a.duckdb")
    assert waits == [42.0]

    server.rate_limit = 3  # the primary limit: the fourth request is refused until X-RateLimit-Reset
    server.reset_rate_limit()
    ingest_source("github_actions", tmp_path / "b.duckdb")
    assert waits == [42.0, 101.0]
    assert [r.status for r in server.requests].count(403) == 1

    server.fail("/graphql", 429, times=1, retry_after=7)  # GraphQL's secondary limit, the same sleep
    ingest_source("github", tmp_path / "c.duckdb")
    assert waits == [42.0, 101.0, 7.0]
