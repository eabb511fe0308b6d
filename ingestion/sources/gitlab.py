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

from collections.abc import Mapping, Sequence
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from ingestion.sources.client import ApiClient
from ingestion.sources.endpoints import Endpoint, Incremental, Walk, resources, tables, with_lookback
from ingestion.sources.projection import TableSpec, fields
from ingestion.timestamps import start_date_from

TOOL = "GitLab"
PER_PAGE = 100
MR_STATES = frozenset({"opened", "closed", "merged", "locked"})
CI_STATUSES = frozenset({"created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending",
                         "running", "success", "failed", "canceling", "canceled", "skipped", "manual", "scheduled"})

MERGE_REQUEST = fields(
    ("id", "id", "bigint", True), ("iid", "iid", "bigint", True), ("project_id", "project_id", "bigint"),
    ("title", "title"), ("description", "description"), ("state", "state", "text", True, MR_STATES),
    ("draft", "draft", "bool"), ("author_username", "author.username"), ("source_branch", "source_branch"),
    ("target_branch", "target_branch"), ("sha", "sha"), ("merge_commit_sha", "merge_commit_sha"),
    ("squash_commit_sha", "squash_commit_sha"), ("merged_by_username", "merged_by.username"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp", True),
    ("merged_at", "merged_at", "timestamp"), ("closed_at", "closed_at", "timestamp"),
)
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


def _changed(table: str, fields_: tuple, *, params: Mapping[str, Any] | None = None, **more: Any) -> Endpoint:
    """A project listing of records updated since the cursor minus the look-back, oldest first."""
    return Endpoint(table, "{key}/" + table, fields_, key_column="project",
                    params={"updated_after": None, "order_by": "updated_at", "sort": "asc", "per_page": PER_PAGE,
                            **(params or {})},
                    incremental=Incremental("updated_at", fallback="created_at", param="updated_after",
                                            lookback=timedelta(hours=48)), **more)


def _mr_child(kind: str, fields_: tuple, primary_key: tuple[str, ...], id_path: str = "id") -> Endpoint:
    return Endpoint(f"merge_request_{kind}", "{key}/merge_requests/{parent[iid]}/" + kind, fields_, primary_key,
                    key_column="project", parent={"merge_request_iid": "iid"}, params={"per_page": PER_PAGE},
                    id_path=id_path)


# The endpoint table: per project, what changed since the cursor, and the children of each changed record.
ENDPOINTS = (
    _changed("merge_requests", MERGE_REQUEST, params={"state": "all"}, children=(
        _mr_child("commits", COMMIT, ("project", "merge_request_iid", "sha")),
        _mr_child("notes", NOTE, ("id",)),
    )),
    Endpoint("commits", "{key}/repository/commits", COMMIT, ("project", "sha"), key_column="project",
             params={"per_page": PER_PAGE}, incremental=Incremental("committed_at", param="since")),
    _changed("pipelines", PIPELINE, detail="{key}/pipelines/{record[id]}", list_fields=PIPELINE_LIST_ITEM,
             children=(Endpoint("jobs", "{key}/pipelines/{parent[id]}/jobs", JOB, key_column="project",
                                parent={"pipeline_id": "id"}, params={"per_page": PER_PAGE,
                                                                      "include_retried": "true"}),)),
    _changed("deployments", DEPLOYMENT),
)
TABLES: dict[str, dict[str, TableSpec]] = {"raw_gitlab": tables(*ENDPOINTS)}


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
    lookback = timedelta(hours=lookback_hours)
    walk = Walk(api, "gitlab", start_date_from(start_date), keys=lambda: projects, key_in_path=project_path,
                full_refresh=full_refresh)
    return [resource for endpoint in ENDPOINTS for resource in resources(walk, with_lookback(endpoint, lookback))]
