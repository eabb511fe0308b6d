"""Jenkins source into `raw_jenkins`: the builds of the configured jobs.

Each job (`folder/name`, → `/job/folder/job/name`) is read with
`api/json?tree=_class,jobs[fullName]` first: folders and multibranch projects list child jobs, which are
followed; a buildable job's history comes from
`api/json?tree=allBuilds[number,result,building,timestamp,duration,fullDisplayName,actions[…]]{from,to}`,
newest first, a range of 100 at a time, until a range comes back short or older than the cursor (minus a
look-back, because builds finish after they start). A build's commit is the `lastBuiltRevision.SHA1` of its
git `BuildData` action, its repository the action's first remote URL. Which jobs are deployments is decided in
the models by the dbt var `deployment_pattern`.

Config: `sources.jenkins.base_url`, `sources.jenkins.jobs` (JSON list of full job names),
`sources.jenkins.start_date`, `sources.jenkins.username` and the secret `sources.jenkins.api_token` (a user API
token; the user needs Overall/Read and Job/Read).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

from ingestion.errors import PayloadError
from ingestion.sources.client import ApiClient
from ingestion.sources.cursors import Cursors
from ingestion.sources.projection import TableSpec, fields, guarded, project, table_hints
from ingestion.timestamps import start_date_from

TOOL = "Jenkins"
RANGE = 100
RESULTS = frozenset({"SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED"})
BUILD_TREE = ("allBuilds[number,result,building,timestamp,duration,fullDisplayName,"
              "actions[lastBuiltRevision[SHA1,branch[name]],remoteUrls,causes[shortDescription]]]")

BUILD = fields(
    ("id", "id", "text", True), ("job", "job", "text", True), ("number", "number", "bigint", True),
    ("display_name", "fullDisplayName"), ("result", "result", "text", False, RESULTS),
    ("is_building", "building", "bool"), ("started_at", "started_at", "timestamp", True),
    ("duration_ms", "duration", "bigint"), ("sha", "sha"), ("branch", "branch"), ("remote_url", "remote_url"),
    ("cause", "cause"),
)

TABLES: dict[str, dict[str, TableSpec]] = {"raw_jenkins": {"builds": (BUILD, ("id",))}}


def job_path(name: str) -> str:
    return "".join(f"/job/{quote(part, safe='')}" for part in name.strip("/").split("/"))


def flatten(build: Any, job: str, endpoint: str) -> dict[str, Any]:
    """Lift the fields we keep out of Jenkins' `actions` list and turn the epoch-millisecond start into ISO."""
    if not isinstance(build, Mapping):
        raise PayloadError("jenkins", endpoint, None, "expected a JSON object")
    record_id = f"{job}#{build.get('number')}"
    moment = build.get("timestamp")
    if moment is not None and (isinstance(moment, bool) or not isinstance(moment, int)):
        raise PayloadError("jenkins", endpoint, record_id, f"field 'timestamp': expected epoch milliseconds, "
                                                           f"got {moment!r}")
    flat: dict[str, Any] = {**build, "id": record_id, "job": job}
    if moment is not None:
        flat["started_at"] = datetime.fromtimestamp(moment / 1000, UTC).isoformat()
    for action in build.get("actions") or []:
        if not isinstance(action, Mapping):
            continue
        revision = action.get("lastBuiltRevision")
        if isinstance(revision, Mapping) and "sha" not in flat:
            flat["sha"] = revision.get("SHA1")
            branches = revision.get("branch") or []
            flat["branch"] = branches[0].get("name") if branches and isinstance(branches[0], Mapping) else None
            urls = action.get("remoteUrls") or []
            flat["remote_url"] = urls[0] if urls else None
        causes = action.get("causes")
        if causes and isinstance(causes[0], Mapping) and "cause" not in flat:
            flat["cause"] = causes[0].get("shortDescription")
    return project(flat, BUILD, source="jenkins", endpoint=endpoint)


@dlt.source(name="jenkins", section="jenkins", max_table_nesting=0)
def jenkins_source(
    base_url: str = dlt.config.value,
    jobs: list[str] = dlt.config.value,
    username: str = dlt.config.value,
    api_token: str = dlt.secrets.value,
    start_date: str | None = None,
    lookback_hours: int = 24,
    full_refresh: bool = False,
) -> DltResource:
    """Builds of the configured jobs (and of every job inside configured folders / multibranch projects)."""
    api = ApiClient(TOOL, base_url, HttpBasicAuth(username, api_token), SinglePagePaginator())
    start = start_date_from(start_date)

    def buildable(name: str, depth: int = 0) -> Iterator[str]:
        path = f"{job_path(name)}/api/json"
        body = api.get(path, params={"tree": "_class,jobs[fullName,name]"})
        children = body.get("jobs") if isinstance(body, Mapping) else None
        if children and depth < 5:
            for child in children:
                yield from buildable(f"{name}/{child['name']}", depth + 1)
        else:
            yield name

    @dlt.resource(name="builds", **table_hints(TABLES["raw_jenkins"]["builds"]))
    def builds() -> Iterator[list[dict]]:
        cursors = Cursors(start, full_refresh=full_refresh)
        for configured in jobs:
            for name in buildable(configured):
                since = cursors.start(name, timedelta(hours=lookback_hours))
                path = f"{job_path(name)}/api/json"
                low = 0
                while True:
                    body = api.get(path, params={"tree": f"{BUILD_TREE}{{{low},{low + RANGE}}}"})
                    page = body.get("allBuilds") if isinstance(body, Mapping) else None
                    if not isinstance(page, list):
                        raise PayloadError("jenkins", path, name, "no 'allBuilds' list in the answer")
                    rows = guarded(page, "builds", partial(flatten, job=name, endpoint=path),
                                   lambda build, job=name: f"{job}#{build.get('number')}"
                                   if isinstance(build, Mapping) else None)
                    fresh = [row for row in rows if row["started_at"] >= since]
                    yield fresh
                    cursors.advance(name, (row["started_at"] for row in fresh if not row["is_building"]))
                    if len(page) < RANGE or len(fresh) < len(rows):
                        break
                    low += RANGE

    return builds
