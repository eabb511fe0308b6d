"""`owner/*` discovery: every repository of the organisation, archived ones and forks left out unless asked for,
exclusion globs, and a repository created later picked up by the next run with its whole history."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.demo.org import Org, OrgBuilder
from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ingest_source

DAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _org(repos: list[str], *, archived: tuple[str, ...] = ("acme/old",), forks: tuple[str, ...] = ("acme/fork",)) -> Org:
    b = OrgBuilder()
    for n, repo in enumerate(repos):
        opened = DAY + timedelta(days=n)
        b.pull_request(repo, author="ana", title=f"Change {repo}", opened_at=opened,
                       commit_times=[opened], merged_at=opened + timedelta(hours=2))
    org = b.build()
    for repo in archived:
        if repo in org.github:
            org.github[repo].repository["archived"] = True
    for repo in forks:
        if repo in org.github:
            org.github[repo].repository["fork"] = True
    return org


ALL = ["acme/api", "acme/web", "acme/old", "acme/fork", "acme/sandbox-1"]


def _repositories(warehouse: Path, table: str = "raw_github.pull_requests") -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r for (r,) in con.sql(f"select distinct repository from {table} order by 1").fetchall()]


@pytest.mark.parametrize("api", ["graphql", "rest"])
def test_owner_star_expands_to_the_organisations_active_repositories(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: str
) -> None:
    serve(_org(ALL))
    monkeypatch.setenv("SOURCES__GITHUB__API", api)
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps(["acme/*"]))
    monkeypatch.setenv("SOURCES__GITHUB__EXCLUDE_REPOSITORIES", json.dumps(["ACME/sandbox-*"]))
    ingest_source("github", tmp_path / "w.duckdb")
    ingest_source("github_actions", tmp_path / "w.duckdb")
    assert _repositories(tmp_path / "w.duckdb") == ["acme/api", "acme/web"]


def test_archived_and_forks_on_request_and_explicit_names_kept(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(_org(ALL))
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps(["acme/*", "acme/sandbox-1"]))
    monkeypatch.setenv("SOURCES__GITHUB__INCLUDE_ARCHIVED", "true")
    ingest_source("github", tmp_path / "a.duckdb")
    assert _repositories(tmp_path / "a.duckdb") == ["acme/api", "acme/old", "acme/sandbox-1", "acme/web"]
    monkeypatch.setenv("SOURCES__GITHUB__INCLUDE_FORKS", "true")
    monkeypatch.setenv("SOURCES__GITHUB__EXCLUDE_REPOSITORIES", json.dumps(["acme/old"]))
    ingest_source("github", tmp_path / "b.duckdb")
    assert _repositories(tmp_path / "b.duckdb") == ["acme/api", "acme/fork", "acme/sandbox-1", "acme/web"]


def test_a_repository_created_later_is_picked_up_with_its_history(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(_org(["acme/api"]))
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps(["acme/*"]))
    warehouse = tmp_path / "w.duckdb"
    ingest_source("github", warehouse)
    assert _repositories(warehouse) == ["acme/api"]
    # a repository that appears between two runs has no cursor yet: its history from start_date comes in
    server.set_org(_org(["acme/api", "acme/new"]))
    before = len(server.requests)
    ingest_source("github", warehouse)
    assert _repositories(warehouse) == ["acme/api", "acme/new"]
    assert _repositories(warehouse, "raw_github.commits") == ["acme/api", "acme/new"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select count(*) from raw_github.pull_requests").fetchone()[0] == 2
    assert not [r for r in server.requests[before:] if r.path != "/graphql"]
