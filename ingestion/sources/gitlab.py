"""GitLab REST v4 source (gitlab.com or self-hosted) into `raw_gitlab`.

Per project (`group/subgroup/name`, URL-encoded into `/projects/:id`): merge requests updated since the cursor
(`updated_after`, `order_by=updated_at`, `sort=asc`) with their commits and notes (system notes carry
approvals: "approved this merge request"); default-branch commits (`repository/commits?since=`); pipelines updated since the cursor, each read in detail (start,
finish, duration, user) with its jobs; deployments updated since the cursor with their environment.

Config: `sources.gitlab.base_url` (default `https://gitlab.com`; self-hosted: `https://gitlab.example.com`),
`sources.gitlab.projects` (JSON list of project paths), `sources.gitlab.start_date`, and the secret
`sources.gitlab.private_token` (a personal, group or project access token with `read_api`), sent as the
`PRIVATE-TOKEN` header. Pages follow GitLab's `Link` headers (offset pagination, `per_page=100`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from ingestion.sources.client import ApiClient
from ingestion.sources.cursors import Cursors
from ingestion.sources.projection import TableSpec, fields, project_rows, table_hints
from ingestion.timestamps import isoformat_z, start_date_from

TOOL = "GitLab"
PER_PAGE = 100
MR_STATES = frozenset({"opened", "closed", "merged", "locked"})
CI_STATUSES = frozenset({"created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending",
                         "running", "success", "failed", "canceling", "canceled", "skipped", "manual", "scheduled"})

PROJECT = fields(("project", "project", "text", True))
MERGE_REQUEST = fields(
    ("id", "id", "bigint", True), ("iid", "iid", "bigint", True), ("project_id", "project_id", "bigint"),
    ("title", "title"), ("description", "description"), ("state", "state", "text", True, MR_STATES),
    ("draft", "draft", "bool"), ("author_username", "author.username"), ("source_branch", "source_branch"),
    ("target_branch", "target_branch"), ("sha", "sha"), ("merge_commit_sha", "merge_commit_sha"),
    ("squash_commit_sha", "squash_commit_sha"), ("merged_by_username", "merged_by.username"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp", True),
    ("merged_at", "merged_at", "timestamp"), ("closed_at", "closed_at", "timestamp"),
)
MR_CHILD = PROJECT + fields(("merge_request_iid", "merge_request_iid", "bigint", True))
COMMIT = fields(
    ("sha", "id", "text", True), ("parent_ids", "parent_ids"), ("title", "title"), ("message", "message"),
    ("author_name", "author_name"), ("author_email", "author_email"),
    ("authored_at", "authored_date", "timestamp"), ("committer_email", "committer_email"),
    ("committed_at", "committed_date", "timestamp"),
)
NOTE = fields(
    ("id", "id", "bigint", True), ("body", "body"), ("author_username", "author.username"),
    ("is_system", "system", "bool"), ("created_at", "created_at", "timestamp", True),
)
PIPELINE = fields(
    ("id", "id", "bigint", True), ("iid", "iid", "bigint"), ("sha", "sha", "text", True), ("ref", "ref"),
    ("status", "status", "text", True, CI_STATUSES), ("source", "source"), ("user_username", "user.username"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp"),
    ("started_at", "started_at", "timestamp"), ("finished_at", "finished_at", "timestamp"),
)
PIPELINE_LIST_ITEM = fields(("id", "id", "bigint", True), ("updated_at", "updated_at", "timestamp"),
                            ("created_at", "created_at", "timestamp", True))
JOB = fields(
    ("id", "id", "bigint", True), ("name", "name", "text", True), ("stage", "stage"),
    ("status", "status", "text", True, CI_STATUSES), ("ref", "ref"), ("sha", "commit.id"),
    ("allow_failure", "allow_failure", "bool"), ("created_at", "created_at", "timestamp", True),
    ("started_at", "started_at", "timestamp"), ("finished_at", "finished_at", "timestamp"),
)
DEPLOYMENT = fields(
    ("id", "id", "bigint", True), ("iid", "iid", "bigint"), ("ref", "ref"), ("sha", "sha", "text", True),
    ("status", "status", "text", True), ("environment", "environment.name", "text", True),
    ("user_username", "user.username"), ("job_name", "deployable.name"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp"),
    ("finished_at", "deployable.finished_at", "timestamp"),
)

TABLES: dict[str, dict[str, TableSpec]] = {
    "raw_gitlab": {
        "merge_requests": (PROJECT + MERGE_REQUEST, ("id",)),
        "merge_request_commits": (MR_CHILD + COMMIT, ("project", "merge_request_iid", "sha")),
        "commits": (PROJECT + COMMIT, ("project", "sha")),
        "merge_request_notes": (MR_CHILD + NOTE, ("id",)),
        "pipelines": (PROJECT + PIPELINE, ("id",)),
        "jobs": (PROJECT + fields(("pipeline_id", "pipeline_id", "bigint", True)) + JOB, ("id",)),
        "deployments": (PROJECT + DEPLOYMENT, ("id",)),
    },
}


def _rows(items: Sequence[Any], spec: Any, endpoint: str, table: str, **extra: Any) -> list[dict]:
    return project_rows(items, spec, source="gitlab", endpoint=endpoint, table=table, extra=extra)


def discover_projects(api: ApiClient, entries: Sequence[str], *, include_archived: bool, include_forks: bool,
                      exclude: Sequence[str]) -> list[str]:
    """`entries` with every `group/*` replaced by the projects of that group and its subgroups
    (`/groups/:id/projects?include_subgroups=true`); archived projects and forks only on request;
    `exclude` globs match `group/name` case-insensitively. Order kept, no duplicates."""
    chosen: dict[str, None] = {}
    for entry in entries:
        if not entry.endswith("/*"):
            chosen[entry] = None
            continue
        path = f"/groups/{quote(entry[:-2], safe='')}/projects"
        params: dict[str, Any] = {"include_subgroups": "true", "per_page": PER_PAGE, "order_by": "path",
                                  "sort": "asc", **({} if include_archived else {"archived": "false"})}
        for page in api.pages(path, params=params):
            for item in page:
                if isinstance(item, dict) and (include_forks or not item.get("forked_from_project")):
                    chosen[str(item.get("path_with_namespace"))] = None
    patterns = [pattern.lower() for pattern in exclude]
    return [name for name in chosen if not any(fnmatchcase(name.lower(), pattern) for pattern in patterns)]


def project_path(name: str) -> str:
    """`/projects/<url-encoded path>`: GitLab takes `group%2Fname` wherever it takes a numeric id."""
    return f"/projects/{quote(name, safe='')}"


@dlt.source(name="gitlab", section="gitlab", max_table_nesting=0)
def gitlab_source(
    projects: list[str] = dlt.config.value,
    private_token: str = dlt.secrets.value,
    base_url: str = "https://gitlab.com",
    start_date: str | None = None,
    lookback_hours: int = 48,
    full_refresh: bool = False,
    include_archived: bool = False,
    include_forks: bool = False,
    exclude_projects: list[str] | None = None,
) -> Sequence[DltResource]:
    """Merge requests (commits, notes), pipelines (jobs) and deployments updated since the cursor.
    `group/*` in `projects` stands for every project of the group and its subgroups (read every run)."""
    api = ApiClient(TOOL, f"{base_url.rstrip('/')}/api/v4",
                    APIKeyAuth(name="PRIVATE-TOKEN", api_key=private_token, location="header"),
                    HeaderLinkPaginator())
    projects = discover_projects(api, projects, include_archived=include_archived, include_forks=include_forks,
                                 exclude=exclude_projects or ())
    start = start_date_from(start_date)
    raw = TABLES["raw_gitlab"]

    def changed(kind: str, spec: Any) -> Iterator[tuple[str, list[dict]]]:
        cursors = Cursors(start, full_refresh=full_refresh)
        return _changed(api, cursors, projects, timedelta(hours=lookback_hours), kind, spec)

    @dlt.resource(name="merge_requests", **table_hints(raw["merge_requests"]))
    def merge_requests() -> Iterator[list[dict]]:
        yield from (rows for _, rows in changed("merge_requests", MERGE_REQUEST))

    @dlt.transformer(name="merge_request_commits", data_from=merge_requests,
                     **table_hints(raw["merge_request_commits"]))
    def merge_request_commits(mrs: list[dict]) -> Iterator[list[dict]]:
        yield _mr_children(api, mrs, "commits", COMMIT)

    @dlt.transformer(name="merge_request_notes", data_from=merge_requests, **table_hints(raw["merge_request_notes"]))
    def merge_request_notes(mrs: list[dict]) -> Iterator[list[dict]]:
        yield _mr_children(api, mrs, "notes", NOTE)

    @dlt.resource(name="commits", **table_hints(raw["commits"]))
    def commits() -> Iterator[list[dict]]:
        """Default-branch commits committed since the cursor (`repository/commits?since=`)."""
        yield from _commits(api, Cursors(start, full_refresh=full_refresh), projects)

    @dlt.resource(name="pipelines", **table_hints(raw["pipelines"]))
    def pipelines() -> Iterator[list[dict]]:
        """The pipeline list lacks start, finish and user: each changed pipeline is read in detail."""
        for name, rows in changed("pipelines", PIPELINE_LIST_ITEM):
            yield _pipeline_details(api, name, rows)

    @dlt.transformer(name="jobs", data_from=pipelines, **table_hints(raw["jobs"]))
    def jobs(pipelines_: list[dict]) -> Iterator[list[dict]]:
        for pipeline in pipelines_:
            yield _pipeline_jobs(api, pipeline)

    @dlt.resource(name="deployments", **table_hints(raw["deployments"]))
    def deployments() -> Iterator[list[dict]]:
        yield from (rows for _, rows in changed("deployments", DEPLOYMENT))

    return merge_requests, merge_request_commits, merge_request_notes, commits, pipelines, jobs, deployments


def _changed(api: ApiClient, cursors: Cursors, projects: Sequence[str], lookback: timedelta, kind: str,
             spec: Any, cursor_field: str = "updated_at") -> Iterator[tuple[str, list[dict]]]:
    """(project, validated rows) of one list endpoint, updated since the cursor minus a look-back."""
    for name in projects:
        since = cursors.start(name, lookback)
        path = f"{project_path(name)}/{kind}"
        params = {"updated_after": isoformat_z(since), "order_by": "updated_at", "sort": "asc",
                  "per_page": PER_PAGE}
        if kind == "merge_requests":
            params["state"] = "all"
        for page in api.pages(path, params=params):
            rows = _rows(page, spec, path, kind, project=name)
            yield name, rows
            cursors.advance(name, (row[cursor_field] or row["created_at"] for row in rows))


def _mr_children(api: ApiClient, mrs: list[dict], kind: str, spec: Any) -> list[dict]:
    out = []
    for mr in mrs:
        path = f"{project_path(mr['project'])}/merge_requests/{mr['iid']}/{kind}"
        for page in api.pages(path, params={"per_page": PER_PAGE}):
            out.extend(_rows(page, spec, path, f"merge_request_{kind}", project=mr["project"],
                             merge_request_iid=mr["iid"]))
    return out


def _pipeline_details(api: ApiClient, name: str, rows: list[dict]) -> list[dict]:
    details = []
    for row in rows:
        path = f"{project_path(name)}/pipelines/{row['id']}"
        details.extend(_rows([api.get(path)], PIPELINE, path, "pipelines", project=name))
    return details


def _pipeline_jobs(api: ApiClient, pipeline: dict) -> list[dict]:
    path = f"{project_path(pipeline['project'])}/pipelines/{pipeline['id']}/jobs"
    return [row for page in api.pages(path, params={"per_page": PER_PAGE, "include_retried": "true"})
            for row in _rows(page, JOB, path, "jobs", project=pipeline["project"], pipeline_id=pipeline["id"])]


def _commits(api: ApiClient, cursors: Cursors, projects: Sequence[str]) -> Iterator[list[dict]]:
    for name in projects:
        path = f"{project_path(name)}/repository/commits"
        params = {"since": isoformat_z(cursors.start(name)), "per_page": PER_PAGE}
        for page in api.pages(path, params=params):
            rows = _rows(page, COMMIT, path, "commits", project=name)
            cursors.advance(name, (row["committed_at"] for row in rows))
            yield rows
