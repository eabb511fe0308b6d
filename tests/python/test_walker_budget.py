"""The endpoint walker (GitHub Actions, and the `github` source with SOURCES__GITHUB__API=rest) spends the run's
budget (SOURCES__GITHUB__MAX_REQUESTS_PER_RUN): a first sync that does not fit stops cleanly with what it fetched
loaded, `yardstick status` shows each repository partial then complete, and the following runs resume it
without fetching anything twice: the raw tables (and, for the REST path, the marts built from them) end equal to an
uninterrupted sync's, against the replay server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from table_rows import build_marts, same_tables, two_warehouses

from ingestion.demo.generator import generate_org
from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ingest_source
from ingestion.sources.endpoints import CHILD_WORKERS
from yardstick.status import sync_progress

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

REPOS = {"acme/payments-api", "acme/payments-web"}


def _counted(server: ReplayServer, since: int) -> list[str]:
    """The REST requests GitHub would count since request number `since` (a 304 is not counted)."""
    return [r.path for r in server.requests[since:] if r.prefix == "github" and r.path != "/graphql"
            and r.status != 304]


def _nights(server: ReplayServer, source: str, warehouse: Path, limit: int) -> tuple[list[list[str]], list[dict]]:
    """Runs of `source` until every repository is complete: the requests each counted, the status after each."""
    spent, progress = [], []
    for _night in range(25):
        mark = len(server.requests)
        ingest_source(source, warehouse)  # stops cleanly at the budget: no error
        spent.append(_counted(server, mark))
        progress.append(sync_progress(warehouse))
        if progress[-1] and all(state == "complete" for state in progress[-1].values()):
            break
    assert len(spent) >= 3, [len(paths) for paths in spent]  # it did not fit in one run
    return spent, progress


def test_a_budget_stopped_actions_sync_resumes_to_the_same_tables(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = serve(generate_org(teams=1, weeks=4, end=date(2026, 11, 16)))
    monkeypatch.setenv("SOURCES__GITHUB__API", "rest")  # the REST jobs child (GraphQL: test_github_actions_graphql)
    whole, parts = two_warehouses(tmp_path)
    ingest_source("github_actions", whole)
    uninterrupted = _counted(server, 0)
    assert sync_progress(whole) == dict.fromkeys(REPOS, "complete")

    monkeypatch.setenv("SOURCES__GITHUB__MAX_REQUESTS_PER_RUN", "60")
    capsys.readouterr()
    spent, progress = _nights(server, "github_actions", parts, 60)
    assert all(len(paths) <= 60 for paths in spent), [len(paths) for paths in spent]  # never past the budget
    assert "github: workflow_runs: this run's request budget is spent" in capsys.readouterr().err
    first = progress[0]
    assert set(first) == REPOS
    assert any(state.startswith("partial (") and " of " in state and "workflow runs" in state
               for state in first.values()), first
    assert progress[-1] == dict.fromkeys(REPOS, "complete")

    # nothing fetched twice: every run's jobs once; the run lists again only where a run resumed them
    fetched = Counter(path for paths in spent for path in paths)
    jobs = {path: n for path, n in fetched.items() if path.endswith("/jobs")}
    assert len(jobs) == sum(1 for path in uninterrupted if path.endswith("/jobs")) and set(jobs.values()) == {1}
    lists = sum(n for path, n in fetched.items() if path.endswith("/actions/runs"))
    listed = sum(1 for path in uninterrupted if path.endswith("/actions/runs"))
    assert lists <= listed + 2 * len(spent), (lists, listed, len(spent))

    same_tables(whole, parts, "raw_github_actions", ("workflow_runs", "workflow_jobs"), nonempty=True)

    # the next nightly is incremental as usual: the look-back's run list, no jobs of settled runs again
    mark = len(server.requests)
    ingest_source("github_actions", parts)
    assert not [path for path in _counted(server, mark) if path.endswith("/jobs")]
    assert sync_progress(parts) == dict.fromkeys(REPOS, "complete")


def test_a_budget_stopped_rest_sync_resumes_to_the_same_tables(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(generate_org(teams=1, weeks=4, end=date(2026, 11, 16)))
    monkeypatch.setenv("SOURCES__GITHUB__API", "rest")
    whole, parts = two_warehouses(tmp_path)
    ingest_source("github", whole)
    uninterrupted = _counted(server, 0)

    budget = 120
    monkeypatch.setenv("SOURCES__GITHUB__MAX_REQUESTS_PER_RUN", str(budget))
    spent, progress = _nights(server, "github", parts, budget)
    # pull requests' commits and reviews are read by a few threads: those in flight when it ran out may finish
    assert all(len(paths) <= budget + CHILD_WORKERS - 1 for paths in spent), [len(paths) for paths in spent]
    assert any(state.startswith("partial (") for state in progress[0].values()), progress[0]
    assert progress[-1] == dict.fromkeys(REPOS, "complete")

    # nothing fetched twice but a list page where a run resumed, and what was in flight when the budget ran out
    again = sum(Counter(path for paths in spent for path in paths).values()) - len(set(uninterrupted))
    assert again <= (2 + 2 * CHILD_WORKERS) * len(spent), (again, len(spent))

    same_tables(whole, parts, "raw_github", ("pull_requests", "pull_request_commits", "pull_request_reviews",
                                             "commits", "deployments", "deployment_statuses", "issues"), nonempty=True)

    marts = build_marts(whole, parts)  # and so the marts, built from them
    assert len(marts) > 5
    same_tables(whole, parts, "marts", marts)


def test_a_budget_stopped_actions_sync_with_graphql_jobs_resumes_to_the_same_tables(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The jobs of a page's runs come in one GraphQL query with the page: a budget that stops it leaves the page
    to the next sync, and the nights end with the tables of an uninterrupted sync."""
    server = serve(generate_org(teams=1, weeks=4, end=date(2026, 11, 16)))
    whole, parts = two_warehouses(tmp_path)
    ingest_source("github_actions", whole)
    assert not [path for path in _counted(server, 0) if path.endswith("/jobs")]
    monkeypatch.setenv("SOURCES__GITHUB__MAX_REQUESTS_PER_RUN", "3")  # a head page, a page resumed, its jobs
    spent, progress = _nights(server, "github_actions", parts, 3)
    assert progress[-1] == dict.fromkeys(REPOS, "complete")
    same_tables(whole, parts, "raw_github_actions", ("workflow_runs", "workflow_jobs"), nonempty=True)
