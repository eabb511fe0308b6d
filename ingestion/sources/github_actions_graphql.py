"""GitHub Actions jobs through GraphQL: the jobs of up to 148 workflow runs per query instead of one REST request
per run.

A workflow run is a `CheckSuite` (the REST run's `check_suite_node_id`) and its jobs are the suite's check runs.
One query asks 148 suites (two `nodes(ids: [...])` lists, 100 ids at most each) for their latest check runs
(`filterBy: {checkType: LATEST}`, as REST's default `filter=latest`), 100 each: GitHub's formula charges one
request per connection for every node that holds it, 148 requests, one point (149 would round to one too, but
148 fills pages of 100 runs exactly: endpoint_batches.py). A suite with more than 100 check runs is paged to the end by follow-up
queries (`node(id:)`, one point each) before the batch is published, so a run's jobs are never half loaded.
A check run's database id (the REST job id) is read from its node id, as a deployment status's is: the schema's
`CheckRun.databaseId` is a 32-bit `Int`, and github.com's job ids passed 2^31 in 2024.

The runs are still listed through REST (100 a page); this step replaces only the `workflow_jobs` child and
fills the same raw table, with the same rows but two columns:

- taken from the run (the REST job copies them from its run): `run_id`, `run_attempt`, `workflow_name`,
  `head_sha`, `head_branch`; and `created_at`, the run's creation time, since a check run has none (REST's is
  when the job was queued: the same moment or later, later for a re-run attempt or a job waiting on another; no
  model past staging reads it);
- left null: `runner_name` (GraphQL has no runner) and `steps_count`. A check run's `steps { totalCount }` is a
  connection under every check run: 100 suites × 100 check runs would be 10,000 requests, 100 points a query
  instead of one. `int_build_jobs` passes both on and no mart reads either; `API=rest` keeps them.

A run without a `check_suite_node_id` (never seen on github.com) gets its jobs through REST as before.

The endpoint walker reads it as a batch child of each page of runs (`Endpoint.batch`): the runs of a page that
changed since the jobs' mark wait, pooled with other repositories' pages, until 3,700 runs wait or the listing
ends (endpoint_batches.py), so a nightly with a few new runs in each of many repositories costs one query per
148 runs, not one per repository; the queries spend the run's budget, and a page whose jobs the budget stopped
is read again by the next sync (endpoints.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ingestion.sources.endpoint_batches import BATCH_QUERY
from ingestion.sources.endpoints import Endpoint, Walk
from ingestion.sources.github_graphql import database_id
from ingestion.sources.github_graphql_client import GraphQLClient, PageSize
from ingestion.sources.github_graphql_queries import MAX_FIRST, literal
from ingestion.timestamps import isoformat_z

SUITES_PER_QUERY = BATCH_QUERY  # 148 suites: two `nodes(ids:)` lists (100 ids at most each), 148 requests
CHECK_RUNS_FIRST = MAX_FIRST  # check runs per suite and query (one request per suite whatever `first`)
PATH = "/graphql CheckSuite.checkRuns"  # the endpoint named in the quarantine

CHECK_RUNS = """checkRuns(first: %(first)s, after: %(after)s, filterBy: {checkType: LATEST}) {
  pageInfo { hasNextPage endCursor }
  nodes { id name status conclusion startedAt completedAt }
}"""


def suites_query(ids: Sequence[str], first: int) -> str:
    """The latest check runs of each suite (one query: `nodes(ids:)` lists `n0`, `n1`, … of 100 ids at most)."""
    runs = CHECK_RUNS % {"first": first, "after": literal(None)}
    lists = " ".join(f"n{k}: nodes(ids: [{', '.join(literal(i) for i in ids[at:at + MAX_FIRST])}]) "
                     f"{{ ... on CheckSuite {{ id {runs} }} }}" for k, at in enumerate(range(0, len(ids), MAX_FIRST)))
    return f"query {{ rateLimit {{ cost remaining resetAt }} {lists} }}"


def suite_page_query(suite: str, after: str, first: int) -> str:
    """The check runs of one suite after `after`."""
    runs = CHECK_RUNS % {"first": first, "after": literal(after)}
    return f"query {{ rateLimit {{ cost remaining resetAt }} node(id: {literal(suite)}) {{ ... on CheckSuite {{ {runs} }} }} }}"


class CheckRuns:
    """Fetches the latest check runs of check suites, 100 suites a query, each suite paged to the end."""

    def __init__(self, client: GraphQLClient) -> None:
        self.client = client
        self.size = PageSize(ceiling=SUITES_PER_QUERY)  # suites per query: halves on a 502/504 or timeout
        self.page = PageSize(ceiling=CHECK_RUNS_FIRST)  # a follow-up's check runs

    def of(self, suites: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """suite id → its check runs (a suite GitHub does not know is absent). Raises BudgetExhausted before the
        first query when the run's budget is spent; the follow-ups of a started batch are always made."""
        found: dict[str, list[dict[str, Any]]] = {}
        pending = list(dict.fromkeys(suites))
        more: list[tuple[str, str]] = []
        first = True
        while pending:
            sent: list[str] = []

            def build(n: int) -> tuple[str, dict[str, Any]]:
                sent[:] = pending[:n]
                return suites_query(sent, CHECK_RUNS_FIRST), {}

            data = self.client.query(build, self.size, force=not first)
            first = False
            for node in (n for key, listed in data.items() if key.startswith("n") for n in listed or []):
                if isinstance(node, Mapping) and node.get("id"):
                    connection = node.get("checkRuns") or {}
                    found[node["id"]] = list(connection.get("nodes") or [])
                    more.extend(_next(node["id"], connection))
            pending = pending[len(sent):]
        while more:
            suite, after = more.pop()
            data = self.client.query(lambda n, s=suite, a=after: (suite_page_query(s, a, n), {}), self.page,
                                     force=True)
            connection = (data.get("node") or {}).get("checkRuns") or {}
            found.setdefault(suite, []).extend(connection.get("nodes") or [])
            more.extend(_next(suite, connection))
        return found


def _next(suite: str, connection: Mapping[str, Any]) -> list[tuple[str, str]]:
    info = connection.get("pageInfo") or {}
    return [(suite, info["endCursor"])] if info.get("hasNextPage") and info.get("endCursor") else []


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _stamp(value: Any) -> Any:
    return isoformat_z(value) if isinstance(value, datetime) else value


def job(check_run: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    """A check run as the REST job the raw table projects (see the module docstring for each column)."""
    return {
        "id": database_id(check_run.get("id")), "run_id": run.get("id"), "run_attempt": run.get("run_attempt"),
        "name": check_run.get("name"), "workflow_name": run.get("name"), "head_sha": run.get("head_sha"),
        "head_branch": run.get("head_branch"), "status": _lower(check_run.get("status")),
        "conclusion": _lower(check_run.get("conclusion")), "created_at": _stamp(run.get("created_at")),
        "started_at": check_run.get("startedAt"), "completed_at": check_run.get("completedAt"),
        "runner_name": None, "steps_count": None,
    }


def check_run_pages(client: GraphQLClient) -> Callable[[Walk, Endpoint, list[dict[str, Any]]], list[list[Any]]]:
    """The jobs of many runs at once (of several repositories' pages: the walker pools them), as a walker reads a
    child's raw pages: (walk, jobs endpoint, runs) → per run, [(records, path, key, constant columns)]; raises
    BudgetExhausted before its first query when the run's budget is spent (no run's jobs were read)."""
    fetch = CheckRuns(client)

    def pages(walk: Walk, jobs: Endpoint, runs: list[dict[str, Any]]) -> list[list[Any]]:
        return _pages(walk, fetch, jobs, runs)
    return pages


def _pages(walk: Walk, fetch: CheckRuns, jobs: Endpoint,
           runs: list[dict[str, Any]]) -> list[list[tuple[list[Any], str, Any, dict[str, Any]]]]:
    """The jobs of `runs` as (records, path, key, constant columns), a list per run."""
    suites = fetch.of([run["check_suite_node_id"] for run in runs if run.get("check_suite_node_id")])
    out = []
    for run in runs:
        key = run.get(jobs.key_column)
        extra = {**({jobs.key_column: key} if jobs.key_column else {}),
                 **{column: run[source] for column, source in jobs.parent.items()}}
        suite = run.get("check_suite_node_id")
        if suite:
            out.append([([job(check_run, run) for check_run in suites.get(suite, [])], PATH, key, extra)])
            continue
        path = walk.path(jobs.path, key, parent=run)  # no check suite id: the run's jobs through REST
        out.append([([jobs.prepare(item, key, path) if jobs.prepare else item for item in page], path, key, extra)
                    for page in walk.api.pages(path, params=dict(jobs.params), data_selector=jobs.data_selector)])
    return out
