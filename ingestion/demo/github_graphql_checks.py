"""GitHub Actions in the replay server's GraphQL: `nodes(ids:)` / `node(id:)` on a workflow run's `CheckSuite`
(the REST run's `check_suite_node_id`) and its `checkRuns`, rendered from the very jobs the REST
`/actions/runs/{id}/jobs` route serves (a check run's `databaseId` is the job id), so both APIs give the same
jobs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from ingestion.demo.org import Org

Json = dict[str, Any]
Paged = Callable[[list[Any], Callable[[Any], Any]], Callable[..., Json]]

_LOCK = threading.Lock()
_SUITES: dict[int, tuple[Org, dict[str, tuple[str, int]]]] = {}  # id(org) → (org, suite node id → (repo, run id))


def _suites(org: Org, *, rebuild: bool = False) -> dict[str, tuple[str, int]]:
    """Every workflow run of the organisation, (repository, run id), by its check suite's node id. Built on first
    use (the bench's file-backed repositories are then read once and let go), and again when an id is not
    found: a test may serve a new organisation state between syncs."""
    with _LOCK:
        entry = _SUITES.get(id(org))
        if entry is None or entry[0] is not org or rebuild:
            index = {}
            for full in sorted(org.github):
                index.update((run["check_suite_node_id"], (full, run["id"]))
                             for run in org.github[full].workflow_runs if run.get("check_suite_node_id"))
            entry = _SUITES[id(org)] = (org, index)
        return entry[1]


def _run(org: Org, node_id: str) -> tuple[Any, Json] | None:
    """The repository data and the run of a check suite node id, or None."""
    for rebuild in (False, True):
        found = _suites(org, rebuild=rebuild).get(node_id)
        data = org.github.get(found[0]) if found else None
        run = next((r for r in data.workflow_runs if r["id"] == found[1]), None) if data and found else None
        if run is not None:
            return data, run
    return None


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def check_run(job: Json, paged: Paged) -> Json:
    return {
        "__typename": "CheckRun", "id": job.get("node_id"), "databaseId": job.get("id"), "name": job.get("name"),
        "status": _upper(job.get("status")), "conclusion": _upper(job.get("conclusion")),
        "startedAt": job.get("started_at"), "completedAt": job.get("completed_at"),
        "url": job.get("html_url"), "permalink": job.get("html_url"), "detailsUrl": job.get("html_url"),
        "steps": paged(job.get("steps") or [], lambda step: {
            "name": step.get("name"), "number": step.get("number"), "status": _upper(step.get("status")),
            "conclusion": _upper(step.get("conclusion")), "startedAt": step.get("started_at"),
            "completedAt": step.get("completed_at")}),
    }


def check_suite(data: Any, run: Json, paged: Paged) -> Json:
    jobs = data.workflow_jobs.get(run["id"], [])  # the latest attempt's jobs (`checkType: LATEST`)
    runs = paged(jobs, lambda job: check_run(job, paged))
    return {
        "__typename": "CheckSuite", "id": run.get("check_suite_node_id"), "databaseId": run.get("check_suite_id"),
        "status": _upper(run.get("status")), "conclusion": _upper(run.get("conclusion")),
        "createdAt": run.get("created_at"), "updatedAt": run.get("updated_at"),
        "commit": {"oid": run.get("head_sha")},
        "branch": {"name": run["head_branch"], "prefix": "refs/heads/"} if run.get("head_branch") else None,
        "workflowRun": {"id": run.get("node_id"), "databaseId": run.get("id"), "runNumber": run.get("run_number"),
                        "event": run.get("event"), "createdAt": run.get("created_at"),
                        "updatedAt": run.get("updated_at"), "url": run.get("html_url"),
                        "workflow": {"name": run.get("name"), "databaseId": run.get("workflow_id")}},
        "checkRuns": runs,  # `filterBy` is taken and ignored
    }


def node_resolvers(org: Org, paged: Paged) -> Json:
    """The root fields `nodes` and `node` (check suites; any other id resolves to null, as an unknown id)."""
    def one(node_id: str) -> Json | None:
        found = _run(org, node_id)
        return check_suite(*found, paged) if found else None

    def nodes(_info: Any, ids: Iterable[str]) -> list[Json | None]:
        return [one(i) for i in ids]

    def node(_info: Any, id: str) -> Json | None:  # noqa: A002 (GitHub's argument name)
        return one(id)

    return {"nodes": nodes, "node": node}
