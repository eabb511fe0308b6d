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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlparse

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from requests import Request, Response

from ingestion.errors import PayloadError
from ingestion.sources.client import ApiClient
from ingestion.sources.endpoints import Endpoint, Incremental, Walk, resources, tables
from ingestion.sources.projection import TableSpec, fields
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
    return flat


class BuildRanges(BasePaginator):
    """Jenkins' `{from,to}` build ranges in the `tree` parameter, newest first, until a range comes back short;
    an answer without an `allBuilds` list is a PayloadError."""

    def __init__(self, size: int = RANGE) -> None:
        super().__init__()
        self.size, self.low = size, 0

    def init_request(self, request: Request) -> None:
        self.update_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        if not isinstance(body, Mapping) or not isinstance(body.get("allBuilds"), list):
            raise PayloadError("jenkins", urlparse(response.url).path, None, "no 'allBuilds' list in the answer")
        self.low += self.size
        self._has_next_page = len(body["allBuilds"]) >= self.size

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "tree": f"{BUILD_TREE}{{{self.low},{self.low + self.size}}}"}


def _build_id(build: Any, job: str) -> str | None:
    return f"{job}#{build.get('number')}" if isinstance(build, Mapping) else None


# The endpoint table: each job's builds, newest first, down to the cursor minus a look-back.
BUILDS = Endpoint(
    "builds", "{key}/api/json", BUILD, data_selector="allBuilds", paginator=BuildRanges, prepare=flatten,
    record_id=_build_id,
    incremental=Incremental("started_at", lookback=timedelta(hours=24), newest_first=True, after=">=",
                            advance_if=lambda row: not row["is_building"]),
)
TABLES: dict[str, dict[str, TableSpec]] = {"raw_jenkins": tables(BUILDS)}


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
    def buildable(name: str, depth: int = 0) -> Iterator[str]:
        path = f"{job_path(name)}/api/json"
        body = api.get(path, params={"tree": "_class,jobs[fullName,name]"})
        children = body.get("jobs") if isinstance(body, Mapping) else None
        if children and depth < 5:
            for child in children:
                yield from buildable(f"{name}/{child['name']}", depth + 1)
        else:
            yield name

    endpoint = replace(BUILDS, incremental=replace(BUILDS.incremental, lookback=timedelta(hours=lookback_hours)))
    walk = Walk(api, "jenkins", start_date_from(start_date), keys=lambda: (name for configured in jobs
                                                                         for name in buildable(configured)),
                key_in_path=job_path, full_refresh=full_refresh)
    return resources(walk, endpoint)[0]
