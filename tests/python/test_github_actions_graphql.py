"""GitHub Actions jobs through GraphQL (`SOURCES__GITHUB__API=graphql`): the runs listed through REST, the jobs of
100 runs per query from their check suites' check runs. The same raw rows as the REST path (a run with more
jobs than a page included), a point per 100 runs instead of a request per run, and the run's budget spent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from table_rows import table_rows

from ingestion.demo.org import OrgBuilder
from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ingest_source
from ingestion.sources import github_actions_graphql

SHOP, INFRA = "acme/shop", "acme/infra"
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
# GraphQL has no runner, and a step count would cost 100 points a query: null (no mart reads them;
# github_actions_graphql.py)
REST_ONLY = {"runner_name", "steps_count"}


def _mixed_org() -> OrgBuilder:
    """Runs of every kind: CI (a build and a test job), a failed deploy (one job), a re-run (second attempt),
    a run still in progress, a pull-request run on a branch; in two repositories."""
    b = OrgBuilder("acme")
    for day in range(5):
        b.workflow_run(SHOP, name="CI", at=START + timedelta(days=day), conclusion="success")
    b.workflow_run(SHOP, name="CI", at=START + timedelta(days=1, hours=2), conclusion="failure", run_attempt=2)
    b.workflow_run(SHOP, name="CI", at=START + timedelta(days=2, hours=3), event="pull_request",
                   head_branch="feature/x", conclusion="cancelled")
    b.workflow_run(SHOP, name="Deploy", at=START + timedelta(days=3, hours=1), conclusion="failure")
    b.workflow_run(INFRA, name="CI", at=START + timedelta(days=4, hours=5), conclusion=None)  # in progress
    b.workflow_run(INFRA, name="Deploy production", at=START + timedelta(days=4, hours=6))
    return b


def _many_runs(count: int) -> OrgBuilder:
    """`count` CI runs of one repository, ten minutes apart (all within the runs' 48-hour look-back)."""
    b = OrgBuilder("acme")
    for n in range(count):
        b.workflow_run(SHOP, name="CI", at=START + timedelta(minutes=10 * n))
    return b


def _spread_runs(repositories: int, runs: int) -> OrgBuilder:
    """`runs` CI runs in each of `repositories` repositories (a nightly: a few new runs in many repositories)."""
    b = OrgBuilder("acme")
    for r in range(repositories):
        for n in range(runs):
            b.workflow_run(f"acme/repo{r:02d}", name="CI", at=START + timedelta(minutes=10 * n + r))
    return b


def _rows(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return table_rows(con, "raw_github_actions", table, skip=REST_ONLY)


def _count(warehouse: Path, sql: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchone()[0]


def _graphql_posts(server: ReplayServer, since: int = 0) -> int:
    return sum(1 for r in server.requests[since:] if r.method == "POST" and r.path == "/graphql")


def _job_requests(server: ReplayServer, since: int = 0) -> int:
    return sum(1 for r in server.requests[since:] if r.path.endswith("/jobs"))


@pytest.mark.parametrize("check_runs_per_page", [100, 1])
def test_graphql_jobs_are_the_rest_jobs_row_for_row(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, check_runs_per_page: int
) -> None:
    """With one check run a page every CI run (two jobs) has more jobs than a page: its suite is paged to the
    end by a follow-up query."""
    server = serve(_mixed_org().build())
    monkeypatch.setenv("SOURCES__GITHUB__API", "rest")
    rest = tmp_path / "rest.duckdb"
    ingest_source("github_actions", rest)
    runs = _count(rest, "select count(*) from raw_github_actions.workflow_runs")
    assert _job_requests(server) == runs == 10 and _graphql_posts(server) == 0

    monkeypatch.setenv("SOURCES__GITHUB__API", "graphql")
    monkeypatch.setattr(github_actions_graphql, "CHECK_RUNS_FIRST", check_runs_per_page)
    seen = len(server.requests)
    graphql = tmp_path / "graphql.duckdb"
    ingest_source("github_actions", graphql)
    assert _job_requests(server, seen) == 0
    # one query for both repositories' pages of runs (10 runs), plus a follow-up per two-job run when a page
    # holds one job
    two_job_runs = _count(rest, "select count(*) from (select run_id from raw_github_actions.workflow_jobs "
                                "group by run_id having count(*) = 2)")
    assert two_job_runs == 8
    assert _graphql_posts(server, seen) == 1 + (two_job_runs if check_runs_per_page == 1 else 0)

    jobs = _rows(graphql, "workflow_jobs")
    assert len(jobs) == 18  # 8 CI runs × 2 jobs + 2 deploy runs × 1 job
    assert jobs == _rows(rest, "workflow_jobs")
    assert _rows(graphql, "workflow_runs") == _rows(rest, "workflow_runs")
    # the two columns GraphQL leaves null (REST has them)
    for column in REST_ONLY:
        assert _count(graphql, f"select count({column}) from raw_github_actions.workflow_jobs") == 0
        assert _count(rest, f"select count({column}) from raw_github_actions.workflow_jobs") == 18
    # what REST and GraphQL agree on is not vacuous: attempts, an unfinished job, a branch
    assert _count(graphql, "select count(*) from raw_github_actions.workflow_jobs where run_attempt = 2") == 2
    assert _count(graphql, "select count(*) from raw_github_actions.workflow_jobs "
                           "where status = 'in_progress' and conclusion is null and completed_at is null") == 2
    assert _count(graphql, "select count(*) from raw_github_actions.workflow_jobs "
                           "where head_branch = 'feature/x' and conclusion = 'cancelled'") == 2


def test_the_jobs_of_k_runs_cost_a_point_per_hundred_runs(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    server = serve(_many_runs(250).build())
    warehouse = tmp_path / "w.duckdb"
    ingest_source("github_actions", warehouse)
    assert _count(warehouse, "select count(*) from raw_github_actions.workflow_jobs") == 500
    # three REST pages of runs (100, 100, 50) and one query of their check suites each: 3 points, not 250 requests
    assert sum(1 for r in server.requests if r.path.endswith("/actions/runs")) == 3
    assert _job_requests(server) == 0
    assert _graphql_posts(server) == 3
    assert server.graphql_budget.by_shape == {"checkRuns": [3, 3]}

    # a second sync with nothing new lists the runs again (look-back) and reads no run's jobs again
    seen = len(server.requests)
    ingest_source("github_actions", warehouse)
    assert _graphql_posts(server, seen) == 0


def test_the_jobs_queries_spend_the_runs_budget_and_the_next_sync_gets_the_rest(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(_many_runs(250).build())
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("SOURCES__GITHUB__MAX_REQUESTS_PER_RUN", "5")
    ingest_source("github_actions", warehouse)  # stops cleanly when the budget is spent
    assert _graphql_posts(server) == 2 and server.graphql_budget.used == 2
    assert _count(warehouse, "select count(distinct run_id) from raw_github_actions.workflow_jobs") == 200

    monkeypatch.delenv("SOURCES__GITHUB__MAX_REQUESTS_PER_RUN")
    ingest_source("github_actions", warehouse)
    assert _count(warehouse, "select count(distinct run_id) from raw_github_actions.workflow_jobs") == 250
    assert _count(warehouse, "select count(*) from raw_github_actions.workflow_jobs") == 500


def test_a_query_of_100_check_suites_costs_a_point_and_a_connection_below_their_check_runs_would_cost_100() -> None:
    """GitHub charges a connection once for every node that holds it, the nodes of `nodes(ids:)` included: the
    replay server prices the jobs query so, and the query is valid against GitHub's schema."""
    from graphql import parse, validate

    from ingestion.demo.github_graphql_cost import query_cost, schema

    ids = [f"suite-{n}" for n in range(100)]
    jobs = parse(github_actions_graphql.suites_query(ids, 100))
    assert validate(schema(), jobs) == []
    assert query_cost(jobs, {}) == (1, 100 * 100)  # 100 requests (one per suite); 10,000 check runs at most
    # the query the source sends: 148 suites in two `nodes(ids:)` lists (100 + 48), 148 requests, still a point
    full = parse(github_actions_graphql.suites_query([f"suite-{n}" for n in range(148)], 100))
    assert validate(schema(), full) == [] and query_cost(full, {}) == (1, 148 * 100)
    assert query_cost(parse(github_actions_graphql.suites_query([f"s-{n}" for n in range(150)], 100)), {})[0] == 2
    assert query_cost(parse(github_actions_graphql.suites_query(ids[:7], 100)), {}) == (1, 700)
    steps = parse(github_actions_graphql.suites_query(ids, 100).replace("completedAt }",
                                                                         "completedAt steps(first: 1) { totalCount } }"))
    assert validate(schema(), steps) == []
    assert query_cost(steps, {})[0] == 101  # + 100 × 100 requests: why `steps_count` is left null
    follow_up = parse(github_actions_graphql.suite_page_query("suite-1", "Y3Vyc29yOnYyOjE=", 100))
    assert validate(schema(), follow_up) == [] and query_cost(follow_up, {}) == (1, 100)


@pytest.mark.parametrize(("repositories", "runs", "queries"), [(3, 4, 1), (12, 9, 1), (20, 9, 2)])
def test_the_jobs_of_several_repositories_pages_share_queries(
    serve: Callable[..., ReplayServer], tmp_path: Path, repositories: int, runs: int, queries: int
) -> None:
    """A few new runs in each of many repositories: their pages wait for the jobs until a batch waits or the
    listing ends, so ceil(total runs / 148) queries, not one per repository (12 × 9 = 108 runs: one query;
    20 × 9 = 180: 148 and 32)."""
    server = serve(_spread_runs(repositories, runs).build())
    warehouse = tmp_path / "w.duckdb"
    ingest_source("github_actions", warehouse)
    assert sum(1 for r in server.requests if r.path.endswith("/actions/runs")) == repositories
    assert _graphql_posts(server) == queries == -(-repositories * runs // 148)
    assert server.graphql_budget.by_shape == {"checkRuns": [queries, queries]}
    assert _count(warehouse, "select count(distinct run_id) from raw_github_actions.workflow_jobs") \
        == repositories * runs
    assert _count(warehouse, "select count(distinct repository) from raw_github_actions.workflow_jobs") \
        == repositories


def test_waiting_pages_hold_back_their_query_from_the_budget_and_the_next_sync_reads_the_rest(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Budget 2: the first repository's page is listed and waits for its jobs; the point its query will cost is
    held back, so the second repository is not listed (else the jobs of a listed page could never be read) and
    the first one's jobs are. The next sync reads the other two repositories' jobs in one query and not the
    first one's again."""
    server = serve(_spread_runs(3, 5).build())
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("SOURCES__GITHUB__MAX_REQUESTS_PER_RUN", "2")
    ingest_source("github_actions", warehouse)
    assert sum(1 for r in server.requests if r.path.endswith("/actions/runs")) == 1
    assert _graphql_posts(server) == 1
    assert _count(warehouse, "select count(distinct run_id) from raw_github_actions.workflow_jobs") == 5

    monkeypatch.delenv("SOURCES__GITHUB__MAX_REQUESTS_PER_RUN")
    seen = len(server.requests)
    ingest_source("github_actions", warehouse)
    assert _graphql_posts(server, seen) == 1
    assert server.graphql_budget.by_shape == {"checkRuns": [2, 2]}
    assert _count(warehouse, "select count(distinct run_id) from raw_github_actions.workflow_jobs") == 15
    assert _count(warehouse, "select count(*) from raw_github_actions.workflow_jobs") == 15 * 2
