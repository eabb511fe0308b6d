"""GitHub REST v3 sources: pull requests (with their commits and reviews), default-branch commits,
deployments with statuses and issues (pull requests excluded) into `raw_github`; GitHub Actions workflow runs
and their jobs into `raw_github_actions`.

Config (dlt conventions): `sources.github.base_url` (GitHub Enterprise: `https://HOST/api/v3`),
`sources.github.repositories` (JSON list of "owner/repo"), `sources.github.start_date`, and the secret
`sources.github.access_token` (fine-grained token with read access to pull requests, contents, issues,
deployments and actions).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from ingestion.errors import SourceError
from ingestion.sources.client import ApiClient
from ingestion.sources.cursors import Cursors
from ingestion.sources.github_discovery import expand_repositories, is_pattern
from ingestion.sources.github_graphql import graphql_resources
from ingestion.sources.github_graphql_client import GraphQLClient, RunBudget
from ingestion.sources.github_walk import PROGRESS_TABLE
from ingestion.sources.projection import TableSpec, fields, project_rows, table_hints
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

REPO = fields(("repository", "repository", "text", True))
PR_CHILD = REPO + fields(("pull_request_number", "pull_request_number", "bigint", True))

# Every raw table this module writes: dataset → table → (columns, primary key). Empty tables are created
# from this so models can always read them.
TABLES: dict[str, dict[str, TableSpec]] = {
    "raw_github": {
        "pull_requests": (REPO + PULL_REQUEST, ("id",)),
        "pull_request_commits": (PR_CHILD + COMMIT, ("repository", "pull_request_number", "sha")),
        "pull_request_reviews": (PR_CHILD + REVIEW, ("id",)),
        "commits": (REPO + COMMIT, ("repository", "sha")),
        "deployments": (REPO + DEPLOYMENT, ("id",)),
        "deployment_statuses": (REPO + fields(("deployment_id", "deployment_id", "bigint", True)) + DEPLOYMENT_STATUS,
                                ("id",)),
        "issues": (REPO + ISSUE, ("id",)),
        "sync_progress": PROGRESS_TABLE,  # GraphQL path: each repository's first sync, complete or partial
    },
    "raw_github_actions": {"workflow_runs": (REPO + WORKFLOW_RUN, ("id",)),
                           "workflow_jobs": (REPO + WORKFLOW_JOB, ("id",))},
}


def _client(base_url: str, access_token: str) -> ApiClient:
    return ApiClient(
        TOOL, base_url, BearerTokenAuth(access_token), HeaderLinkPaginator(),
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    )


def _rows(items: list[Any], spec: Sequence[Any], endpoint: str, table: str, id_path: str = "id",
          **extra: Any) -> list[dict]:
    return project_rows(items, spec, source="github", endpoint=endpoint, table=table, extra=extra, id_path=id_path)


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
    repositories = _discover(repositories, base_url, access_token, include_archived, include_forks,
                             exclude_repositories)
    start = start_date_from(start_date)
    raw = TABLES["raw_github"]
    if api not in ("graphql", "rest"):
        raise SourceError(f"SOURCES__GITHUB__API must be graphql or rest, not {api!r}")
    if api == "graphql":
        client = GraphQLClient(base_url, access_token, budget=RunBudget(max_requests_per_run))
        specs = {"pull_request": PULL_REQUEST, "commit": COMMIT, "review": REVIEW, "issue": ISSUE,
                 "deployment": DEPLOYMENT, "deployment_status": DEPLOYMENT_STATUS}
        return graphql_resources(client, repositories, start, tables=raw, specs=specs, full_refresh=full_refresh,
                                 deployment_lookback_hours=deployment_lookback_hours)
    api = _client(base_url, access_token)

    @dlt.resource(name="pull_requests", **table_hints(raw["pull_requests"]))
    def pull_requests() -> Iterator[list[dict]]:
        """PRs updated since the last run (list sorted by `updated` desc, stopping at the cursor), each
        fetched in detail for its size and merger."""
        yield from _pull_requests(api, Cursors(start, full_refresh=full_refresh), repositories)

    # one request per pull request (and per deployment) for its children: dlt's worker threads fetch them
    # concurrently, which halves a large organisation's first sync (bench/README.md)
    @dlt.transformer(name="pull_request_commits", data_from=pull_requests, parallelized=True,
                     **table_hints(raw["pull_request_commits"]))
    def pull_request_commits(prs: list[dict]) -> Iterator[list[dict]]:
        for pr in prs:
            yield _pr_children(api, pr["repository"], pr["number"], "commits")

    @dlt.transformer(name="pull_request_reviews", data_from=pull_requests, parallelized=True,
                     **table_hints(raw["pull_request_reviews"]))
    def pull_request_reviews(prs: list[dict]) -> Iterator[list[dict]]:
        for pr in prs:
            yield _pr_children(api, pr["repository"], pr["number"], "reviews")

    @dlt.resource(name="commits", **table_hints(raw["commits"]))
    def commits() -> Iterator[list[dict]]:
        """Every commit reachable from the default branch, incrementally by committer date (`since`)."""
        yield from _commits(api, Cursors(start, full_refresh=full_refresh), repositories)

    @dlt.resource(name="deployments", **table_hints(raw["deployments"]))
    def deployments() -> Iterator[list[dict]]:
        """Deployments (newest first) created since the cursor minus a look-back, so statuses that settle
        after a run are picked up."""
        cursors = Cursors(start, full_refresh=full_refresh)
        yield from _deployments(api, cursors, repositories, timedelta(hours=deployment_lookback_hours))

    @dlt.transformer(name="deployment_statuses", data_from=deployments, parallelized=True,
                     **table_hints(raw["deployment_statuses"]))
    def deployment_statuses(deployments_: list[dict]) -> Iterator[list[dict]]:
        yield from (_deployment_statuses(api, deployment) for deployment in deployments_)

    @dlt.resource(name="issues", **table_hints(raw["issues"]))
    def issues() -> Iterator[list[dict]]:
        """Issues updated since the cursor (`since`, oldest first). The issues list also returns pull requests
        (they carry a `pull_request` key): those are left to the pull request resources."""
        yield from _issues(api, Cursors(start, full_refresh=full_refresh), repositories)

    return (pull_requests, pull_request_commits, pull_request_reviews, commits, deployments, deployment_statuses,
            issues)


def _discover(repositories: list[str], base_url: str, access_token: str, include_archived: bool,
              include_forks: bool, exclude: list[str] | None) -> list[str]:
    """The configured repositories with every `owner/*` expanded and the exclusions applied."""
    client = GraphQLClient(base_url, access_token) if any(is_pattern(r) for r in repositories) else None
    return expand_repositories(repositories, client, include_archived=include_archived,
                               include_forks=include_forks, exclude=exclude)


def _pull_requests(api: ApiClient, cursors: Cursors, repositories: Sequence[str]) -> Iterator[list[dict]]:
    for repo in repositories:
        since = cursors.start(repo)
        changed: list[dict] = []
        params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": PER_PAGE}
        path = f"/repos/{repo}/pulls"
        for page in api.pages(path, params=params):
            fresh = [pr for pr in _rows(page, PULL_REQUEST_LIST_ITEM, path, "pull_requests") if pr["updated_at"] > since]
            changed.extend(fresh)
            if len(fresh) < len(page):
                break
        for summary in changed:
            path = f"/repos/{repo}/pulls/{summary['number']}"
            rows = _rows([_with_label_names(api.get(path))], PULL_REQUEST, path, "pull_requests", repository=repo)
            yield rows
            cursors.advance(repo, (row["updated_at"] for row in rows))


def _commits(api: ApiClient, cursors: Cursors, repositories: Sequence[str]) -> Iterator[list[dict]]:
    for repo in repositories:
        params = {"since": isoformat_z(cursors.start(repo)), "per_page": PER_PAGE}
        for page in api.pages(f"/repos/{repo}/commits", params=params):
            rows = _rows(page, COMMIT, f"/repos/{repo}/commits", "commits", id_path="sha", repository=repo)
            cursors.advance(repo, (row["committed_at"] for row in rows))
            yield rows


def _deployments(api: ApiClient, cursors: Cursors, repositories: Sequence[str],
                 lookback: timedelta) -> Iterator[list[dict]]:
    for repo in repositories:
        since = cursors.start(repo, lookback)
        for page in api.pages(f"/repos/{repo}/deployments", params={"per_page": PER_PAGE}):
            rows = _rows(page, DEPLOYMENT, f"/repos/{repo}/deployments", "deployments", repository=repo)
            fresh = [row for row in rows if row["created_at"] >= since]
            yield fresh
            cursors.advance(repo, (row["created_at"] for row in fresh))
            if len(fresh) < len(rows):
                break


def _deployment_statuses(api: ApiClient, deployment: dict) -> list[dict]:
    repo = deployment["repository"]
    path = f"/repos/{repo}/deployments/{deployment['id']}/statuses"
    return [row for page in api.pages(path, params={"per_page": PER_PAGE})
            for row in _rows(page, DEPLOYMENT_STATUS, path, "deployment_statuses", repository=repo,
                                deployment_id=deployment["id"])]


def _issues(api: ApiClient, cursors: Cursors, repositories: Sequence[str]) -> Iterator[list[dict]]:
    for repo in repositories:
        since = cursors.start(repo)
        path = f"/repos/{repo}/issues"
        params = {"state": "all", "since": isoformat_z(since), "sort": "updated", "direction": "asc",
                  "per_page": PER_PAGE}
        for page in api.pages(path, params=params):
            items = [_with_label_names(item) for item in page
                     if not (isinstance(item, dict) and "pull_request" in item)]
            # `since` is inclusive: the issue the cursor was taken from comes back and is skipped
            rows = [row for row in _rows(items, ISSUE, path, "issues", repository=repo) if row["updated_at"] > since]
            cursors.advance(repo, (row["updated_at"] for row in rows))
            yield rows


def _with_label_names(item: Any) -> Any:
    """An issue with its label names as one comma-separated text field (labels are objects in the payload)."""
    if not isinstance(item, dict):
        return item
    labels = item.get("labels") or []
    names = [label.get("name") if isinstance(label, dict) else label for label in labels]
    return {**item, "label_names": ",".join(str(name) for name in names if name) or None}


def _pr_children(api: ApiClient, repo: str, number: int, kind: str) -> list[dict]:
    path = f"/repos/{repo}/pulls/{number}/{kind}"
    spec, id_path = (COMMIT, "sha") if kind == "commits" else (REVIEW, "id")
    return [row for page in api.pages(path, params={"per_page": PER_PAGE})
            for row in _rows(page, spec, path, f"pull_request_{kind}", id_path=id_path, repository=repo,
                                pull_request_number=number)]


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
) -> Sequence[DltResource]:
    """GitHub Actions workflow runs, created since the cursor minus a look-back (runs finish later), and the
    jobs of the runs that changed since the last sync."""
    repositories = _discover(repositories, base_url, access_token, include_archived, include_forks,
                             exclude_repositories)
    api = _client(base_url, access_token)
    start = start_date_from(start_date)

    @dlt.resource(name="workflow_runs", **table_hints(TABLES["raw_github_actions"]["workflow_runs"]))
    def workflow_runs() -> Iterator[list[dict]]:
        cursors = Cursors(start, full_refresh=full_refresh)
        for repo in repositories:
            since = cursors.start(repo, timedelta(hours=run_lookback_hours))
            params = {"created": f">={isoformat_z(since)}", "per_page": PER_PAGE}
            path = f"/repos/{repo}/actions/runs"
            for page in api.pages(path, params=params, data_selector="workflow_runs"):
                rows = _rows(page, WORKFLOW_RUN, path, "workflow_runs", repository=repo)
                cursors.advance(repo, (row["created_at"] for row in rows))
                yield rows

    seen_until: dict[str, datetime | None] = {}  # each repository's job cursor as it was when this sync began
    job_cursors: list[Cursors] = []  # made once per sync: a full refresh clears the marks only once

    @dlt.transformer(name="workflow_jobs", data_from=workflow_runs,
                     **table_hints(TABLES["raw_github_actions"]["workflow_jobs"]))
    def workflow_jobs(runs: list[dict]) -> Iterator[list[dict]]:
        """Jobs of each run updated since the last sync: the run list's look-back re-reads settled runs, whose
        jobs are not fetched again."""
        if not job_cursors:
            job_cursors.append(Cursors(start, full_refresh=full_refresh))
        cursors = job_cursors[0]
        for run in runs:
            repo = run["repository"]
            if repo not in seen_until:
                seen_until[repo] = cursors.mark(repo)
            changed_at = run["updated_at"] or run["created_at"]
            if seen_until[repo] is not None and changed_at <= seen_until[repo]:
                continue
            path = f"/repos/{repo}/actions/runs/{run['id']}/jobs"
            jobs = [{**job, "steps_count": len(job.get("steps") or [])} if isinstance(job, dict) else job
                    for page in api.pages(path, params={"per_page": PER_PAGE}, data_selector="jobs")
                    for job in page]
            yield _rows(jobs, WORKFLOW_JOB, path, "workflow_jobs", repository=repo)
            cursors.advance(repo, [changed_at])

    return workflow_runs, workflow_jobs
