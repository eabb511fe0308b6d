"""A first sync bounded by SOURCES__GITHUB__MAX_REQUESTS_PER_RUN stops cleanly with what it has, shows each
repository complete or partial, and the following runs resume it: the result equals an uninterrupted sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from table_rows import build_marts, same_tables, two_warehouses

from ingestion.demo.generator import generate_org
from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ingest_source
from yardstick.status import sync_progress

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

RAW = ("pull_requests", "pull_request_commits", "pull_request_reviews", "commits", "deployments",
       "deployment_statuses", "issues")


def test_a_sync_interrupted_at_its_budget_resumes_to_the_same_warehouse(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(generate_org(teams=1, weeks=4, end=date(2026, 11, 16)))
    whole, parts = two_warehouses(tmp_path)
    ingest_source("github", whole)
    uninterrupted = server.graphql_budget.used

    budget = 5
    monkeypatch.setenv("SOURCES__GITHUB__MAX_REQUESTS_PER_RUN", str(budget))
    spent, progress = [], []
    for _night in range(12):
        before = server.graphql_budget.used
        ingest_source("github", parts)
        spent.append(server.graphql_budget.used - before)
        progress.append(sync_progress(parts))
        if all(state == "complete" for state in progress[-1].values()):
            break
    assert len(spent) >= 3, spent  # it did not fit in one run
    # the budget, overshot by the query that crossed it and the follow-ups completing pages already fetched
    assert all(points <= budget + 2 for points in spent)
    first = progress[0]
    assert set(first) == {"acme/payments-api", "acme/payments-web"}
    assert any(state.startswith("partial (") and " of " in state for state in first.values()), first
    assert progress[-1] == {"acme/payments-api": "complete", "acme/payments-web": "complete"}
    # resuming re-reads little: the bulk first pages (a query per list: 4) and the page a budget cut short
    assert sum(spent) <= uninterrupted + (4 + 2) * len(spent), (spent, uninterrupted)

    same_tables(whole, parts, "raw_github", RAW)
    marts = build_marts(whole, parts)  # and so the marts, built from them
    assert len(marts) > 5
    same_tables(whole, parts, "marts", marts)
