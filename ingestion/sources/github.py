"""GitHub REST v3 sources: pull requests (with their commits and reviews), default-branch commits,
deployments with statuses and issues (pull requests excluded) into `raw_github`; GitHub Actions workflow runs
and their jobs into `raw_github_actions`.

Config (dlt conventions): `sources.github.base_url` (GitHub Enterprise: `https://HOST/api/v3`),
`sources.github.repositories` (JSON list of "owner/repo"), `sources.github.start_date`, and the secret
`sources.github.access_token` (fine-grained token with read access to pull requests, contents, issues,
deployments and actions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from ingestion.errors import SourceError
from ingestion.sources.client import ApiClient
from ingestion.sources.endpoints import Endpoint, Incremental, Walk, resources, tables, with_lookback
from ingestion.sources.github_actions_graphql import check_run_pages
from ingestion.sources.github_discovery import expand_repositories, is_pattern
from ingestion.sources.github_graphql import graphql_resources
from ingestion.sources.github_graphql_client import GraphQLClient, RunBudget
from ingestion.sources.github_walk import PROGRESS_TABLE
from ingestion.sources.projection import TableSpec, fields
from ingestion.timestamps import isoformat_z, start_date_from

TOOL = "GitHub"
PER_PAGE = 100
REVIEW_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"})
DEPLOYMENT_STATES = frozenset({"error", "failure", "inactive", "in_progress", "queued", "pending", "success",
                               "waiting"})

# Raw table columns: (name, payload path, type, required, allowed values). Endpoints are data.
PULL_REQUEST = fields(
    ("id", "id", "bigint", True), ("number", "number", "bigint", True), ("title", "title"), ("body", "body"),
    ("state", "state", "text", True, frozenset({"open", "closed"})), ("draft", "draft", "bool"),
    ("user_login", "user.login"), ("head_ref", "head.ref"), ("head_sha", "head.sha"), ("base_ref", "base.ref"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp", True),
    ("closed_at", "closed_at", "timestamp"), ("merged_at", "merged_at", "timestamp"),
    ("merge_commit_sha", "merge_commit_sha"), ("merged_by_login", "merged_by.login"),
    ("additions", "additions", "bigint"), ("deletions", "deletions", "bigint"),
    ("changed_files", "changed_files", "bigint"), ("commits", "commits", "bigint"),
    ("label_names", "label_names"), ("closing_issue_numbers", "closing_issue_numbers"),
)
COMMIT = fields(
    ("sha", "sha", "text", True), ("parent_shas", "parents"), ("message", "commit.message"),
    ("author_name", "commit.author.name"), ("author_email", "commit.author.email"), ("author_login", "author.login"),
    ("authored_at", "commit.author.date", "timestamp"), ("committer_email", "commit.committer.email"),
    ("committed_at", "commit.committer.date", "timestamp"),
)
REVIEW = fields(
    ("id", "id", "bigint", True), ("user_login", "user.login"), ("state", "state", "text", True, REVIEW_STATES),
    ("submitted_at", "submitted_at", "timestamp"), ("commit_id", "commit_id"),
)
DEPLOYMENT = fields(
    ("id", "id", "bigint", True), ("sha", "sha", "text", True), ("ref", "ref"), ("task", "task"),
    ("environment", "environment", "text", True), ("description", "description"),
    ("creator_login", "creator.login"), ("production_environment", "production_environment", "bool"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp"),
)
DEPLOYMENT_STATUS = fields(
    ("id", "id", "bigint", True), ("state", "state", "text", True, DEPLOYMENT_STATES), ("environment", "environment"),
    ("description", "description"), ("creator_login", "creator.login"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp"),
)
WORKFLOW_RUN = fields(
    ("id", "id", "bigint", True), ("name", "name"), ("workflow_id", "workflow_id", "bigint"), ("path", "path"),
    ("head_sha", "head_sha", "text", True), ("head_branch", "head_branch"), ("event", "event"),
    ("status", "status"), ("conclusion", "conclusion"), ("run_number", "run_number", "bigint"),
    ("run_attempt", "run_attempt", "bigint"), ("actor_login", "actor.login"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp"),
    ("run_started_at", "run_started_at", "timestamp"),
    ("check_suite_node_id", "check_suite_node_id"),  # the run's jobs through GraphQL (github_actions_graphql.py)
)

ISSUE = fields(
    ("id", "id", "bigint", True), ("number", "number", "bigint", True), ("title", "title"), ("body", "body"),
    ("state", "state", "text", True, frozenset({"open", "closed"})),
    ("state_reason", "state_reason", "text", False, frozenset({"completed", "not_planned", "reopened", "duplicate"})),
    ("user_login", "user.login"), ("assignee_login", "assignee.login"), ("label_names", "label_names"),
    ("milestone_title", "milestone.title"), ("milestone_due_on", "milestone.due_on", "timestamp"),
    ("created_at", "created_at", "timestamp", True),
    ("updated_at", "updated_at", "timestamp", True), ("closed_at", "closed_at", "timestamp"),
)
WORKFLOW_JOB = fields(
    ("id", "id", "bigint", True), ("run_id", "run_id", "bigint", True), ("run_attempt", "run_attempt", "bigint"),
    ("name", "name", "text", True), ("workflow_name", "workflow_name"), ("head_sha", "head_sha"),
    ("head_branch", "head_branch"), ("status", "status", "text", True), ("conclusion", "conclusion"),
    ("created_at", "created_at", "timestamp"), ("started_at", "started_at", "timestamp"),
    ("completed_at", "completed_at", "timestamp"), ("runner_name", "runner_name"),
    ("steps_count", "steps_count", "bigint"),
)

PULL_REQUEST_LIST_ITEM = fields(("number", "number", "bigint", True), ("updated_at", "updated_at", "timestamp", True))




def _with_label_names(item: Any, *_: Any) -> Any:
    """An issue with its label names as one comma-separated text field (labels are objects in the payload)."""
    if not isinstance(item, dict):
        return item
    labels = item.get("labels") or []
    names = [label.get("name") if isinstance(label, dict) else label for label in labels]
    return {**item, "label_names": ",".join(str(name) for name in names if name) or None}


def _with_steps_count(job: Any, *_: Any) -> Any:
    return {**job, "steps_count": len(job.get("steps") or [])} if isinstance(job, dict) else job


def _not_a_pull_request(item: Any) -> bool:
    """The issues list also returns pull requests (they carry a `pull_request` key): those are left to the pull
    request endpoints."""
    return not (isinstance(item, dict) and "pull_request" in item)


def _pr_child(kind: str, spec: tuple, primary_key: tuple[str, ...], id_path: str = "id") -> Endpoint:
    # one request per pull request (and per deployment) for its children: dlt's worker threads fetch them
    # concurrently, which halves a large organisation's first sync (bench/README.md)
    return Endpoint(f"pull_request_{kind}", "/repos/{key}/pulls/{parent[number]}/" + kind, spec, primary_key,
                    key_column="repository", parent={"pull_request_number": "number"},
                    params={"per_page": PER_PAGE}, id_path=id_path, parallel=True)


# The endpoint tables (per repository; look-backs are the defaults of the sources' `*_lookback_hours`).
PULL_REQUESTS = Endpoint(  # updated since the cursor: the list newest first, each changed one read in detail
    "pull_requests", "/repos/{key}/pulls", PULL_REQUEST, key_column="repository",
    params={"state": "all", "sort": "updated", "direction": "desc", "per_page": PER_PAGE},
    list_fields=PULL_REQUEST_LIST_ITEM, detail="/repos/{key}/pulls/{record[number]}", prepare=_with_label_names,
    incremental=Incremental("updated_at", newest_first=True, after=">", resumable=True),
    children=(_pr_child("commits", COMMIT, ("repository", "pull_request_number", "sha"), "sha"),
              _pr_child("reviews", REVIEW, ("id",))),
)
COMMITS = Endpoint(  # every commit reachable from the default branch, by committer date
    "commits", "/repos/{key}/commits", COMMIT, ("repository", "sha"), key_column="repository", id_path="sha",
    params={"since": None, "per_page": PER_PAGE},
    incremental=Incremental("committed_at", param="since", resumable=True),
)
DEPLOYMENTS = Endpoint(  # newest first, down to the cursor minus a look-back (statuses settle after a run)
    "deployments", "/repos/{key}/deployments", DEPLOYMENT, key_column="repository", params={"per_page": PER_PAGE},
    incremental=Incremental("created_at", lookback=timedelta(hours=48), newest_first=True, after=">=",
                            resumable=True),
    children=(Endpoint("deployment_statuses", "/repos/{key}/deployments/{parent[id]}/statuses", DEPLOYMENT_STATUS,
                       key_column="repository", parent={"deployment_id": "id"}, params={"per_page": PER_PAGE},
                       parallel=True),),
)
ISSUES = Endpoint(  # `since` is inclusive: the issue the cursor was taken from comes back and is skipped
    "issues", "/repos/{key}/issues", ISSUE, key_column="repository", keep=_not_a_pull_request,
    prepare=_with_label_names,
    params={"state": "all", "since": None, "sort": "updated", "direction": "asc", "per_page": PER_PAGE},
    incremental=Incremental("updated_at", param="since", after=">"),
)
WORKFLOW_RUNS = Endpoint(  # created since the cursor minus a look-back (runs finish later); the jobs of the runs
    # that changed since the jobs' own cursor (the look-back re-reads settled runs, whose jobs are not re-read)
    "workflow_runs", "/repos/{key}/actions/runs", WORKFLOW_RUN, key_column="repository",
    data_selector="workflow_runs", params={"created": None, "per_page": PER_PAGE},
    incremental=Incremental("created_at", param="created", param_format=lambda since: f">={isoformat_z(since)}",
                            lookback=timedelta(hours=48), resumable=True),
    children=(Endpoint("workflow_jobs", "/repos/{key}/actions/runs/{parent[id]}/jobs", WORKFLOW_JOB,
                       key_column="repository", data_selector="jobs", params={"per_page": PER_PAGE},
                       prepare=_with_steps_count, incremental=Incremental("updated_at", fallback="created_at")),),
)

# Every raw table this module writes: dataset → table → (columns, primary key). Empty tables are created
# from this so models can always read them.
TABLES: dict[str, dict[str, TableSpec]] = {
    "raw_github": {**tables(PULL_REQUESTS, COMMITS, DEPLOYMENTS, ISSUES),
                   "sync_progress": PROGRESS_TABLE},  # each repository's first sync: complete or partial
    "raw_github_actions": {**tables(WORKFLOW_RUNS), "sync_progress": PROGRESS_TABLE},
}


def _client(base_url: str, access_token: str, **options: Any) -> ApiClient:
    """`options`: `conditional` (If-None-Match with stored ETags), `budget` (client.py)."""
    return ApiClient(
        TOOL, base_url, BearerTokenAuth(access_token), HeaderLinkPaginator(),
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}, **options,
    )


@dlt.source(name="github", section="github", max_table_nesting=0)
def github_source(
    repositories: list[str] = dlt.config.value,
    access_token: str = dlt.secrets.value,
    base_url: str = "https://api.github.com",
    start_date: str | None = None,
    deployment_lookback_hours: int = 48,
    full_refresh: bool = False,
    api: str = "graphql",
    include_archived: bool = False,
    include_forks: bool = False,
    exclude_repositories: list[str] | None = None,
    max_requests_per_run: int | None = None,
) -> Sequence[DltResource]:
    """Pull requests with commits and reviews, default-branch commits, deployments with statuses, issues;
    through GraphQL (`api="graphql"`, the default) or REST (`api="rest"`): the same tables and rows.
    `owner/*` entries of `repositories` are discovered (github_discovery.py)."""
    if api not in ("graphql", "rest"):
        raise SourceError(f"SOURCES__GITHUB__API must be graphql or rest, not {api!r}")
    budget = RunBudget(max_requests_per_run)  # GraphQL points plus REST requests (discovery's too)
    repositories = _discover(repositories, base_url, access_token, include_archived, include_forks,
                             exclude_repositories, budget, api)
    start = start_date_from(start_date)
    raw = TABLES["raw_github"]
    if api == "graphql":
        client = GraphQLClient(base_url, access_token, budget=budget)
        specs = {"pull_request": PULL_REQUEST, "commit": COMMIT, "review": REVIEW, "issue": ISSUE,
                 "deployment": DEPLOYMENT, "deployment_status": DEPLOYMENT_STATUS}
        return graphql_resources(client, repositories, start, tables=raw, specs=specs, full_refresh=full_refresh,
                                 deployment_lookback_hours=deployment_lookback_hours)
    # conditional requests (a 304 costs nothing), but not for the deployments list: its unchanged deployments are
    # read again for their statuses
    api = _client(base_url, access_token, conditional=lambda path: not path.endswith("/deployments"), budget=budget)
    walk = Walk(api, "github", start, keys=lambda: repositories, full_refresh=full_refresh, progress=True)
    deployments = with_lookback(DEPLOYMENTS, timedelta(hours=deployment_lookback_hours))
    return [resource for endpoint in (PULL_REQUESTS, COMMITS, deployments, ISSUES)
            for resource in resources(walk, endpoint)]


def _discover(repositories: list[str], base_url: str, access_token: str, include_archived: bool,
              include_forks: bool, exclude: list[str] | None, budget: RunBudget | None = None,
              api: str = "graphql") -> list[str]:
    """The configured repositories with every `owner/*` expanded and the exclusions applied (REST: the
    repository lists; GraphQL: `repositoryOwner.repositories`)."""
    if not any(is_pattern(r) for r in repositories):
        return expand_repositories(repositories, None, exclude=exclude)
    client = GraphQLClient(base_url, access_token, budget=budget) if api == "graphql" \
        else _client(base_url, access_token, budget=budget)
    return expand_repositories(repositories, client, include_archived=include_archived,
                               include_forks=include_forks, exclude=exclude)


@dlt.source(name="github_actions", section="github", max_table_nesting=0)
def github_actions_source(
    repositories: list[str] = dlt.config.value,
    access_token: str = dlt.secrets.value,
    base_url: str = "https://api.github.com",
    start_date: str | None = None,
    run_lookback_hours: int = 48,
    full_refresh: bool = False,
    include_archived: bool = False,
    include_forks: bool = False,
    exclude_repositories: list[str] | None = None,
    api: str = "graphql",
    max_requests_per_run: int | None = None,
) -> Sequence[DltResource]:
    """GitHub Actions workflow runs, created since the cursor minus a look-back (runs finish later), and the
    jobs of the runs that changed since the last sync: through GraphQL, 148 runs a query, when `api="graphql"`
    (github_actions_graphql.py), else one REST request per run. Lists are asked conditionally (a 304 costs
    nothing); `max_requests_per_run` bounds the run (discovery, runs and jobs): a sync it stops resumes next run."""
    budget = RunBudget(max_requests_per_run)
    repositories = _discover(repositories, base_url, access_token, include_archived, include_forks,
                             exclude_repositories, budget, api)
    walk = Walk(_client(base_url, access_token, conditional=True, budget=budget), "github",
                start_date_from(start_date), keys=lambda: repositories, full_refresh=full_refresh, progress=True)
    runs = with_lookback(WORKFLOW_RUNS, timedelta(hours=run_lookback_hours))
    if api != "graphql":
        return resources(walk, runs)
    # the runs through REST (100 a page), their jobs through GraphQL: 148 runs' jobs a point, pooled across pages
    batch = check_run_pages(GraphQLClient(base_url, access_token, budget=budget))
    return resources(walk, replace(runs, children=(replace(runs.children[0], prepare=None, batch=batch),)))
