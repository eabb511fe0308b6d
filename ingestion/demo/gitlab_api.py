"""GitLab REST v4 routes for the replay server, under the ``/gitlab`` prefix (so ``base_url`` is
``http://127.0.0.1:<port>/gitlab`` exactly like a self-hosted instance at a sub-path).

Serves ``/api/v4/projects/:id`` (numeric id or URL-encoded path) ``/merge_requests`` (+ ``/:iid/commits``,
``/:iid/notes``), ``/repository/commits`` (``since``), ``/pipelines`` (list items, ``/:id`` details, ``/:id/jobs``) and ``/deployments``, with
``updated_after`` / ``order_by`` / ``sort`` filters and GitLab's offset pagination headers (``X-Page``,
``X-Next-Page``, ``X-Total``, ``Link``). Auth is the ``PRIVATE-TOKEN`` header (or a bearer token); errors use
GitLab's ``{"message": "404 Project Not Found"}`` shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

from ingestion.timestamps import parse_timestamp

TOKEN = "demo-gitlab-token"
PIPELINE_LIST_KEYS = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at",
                      "web_url")

Json = dict[str, Any]
Reply = tuple[int, Any, dict[str, str]]


@dataclass
class GitLabProject:
    """Every payload one GitLab project would return (pipelines as their detail objects)."""

    id: int
    merge_requests: list[Json] = field(default_factory=list)
    merge_request_commits: dict[int, list[Json]] = field(default_factory=dict)
    merge_request_notes: dict[int, list[Json]] = field(default_factory=dict)
    pipelines: list[Json] = field(default_factory=list)
    jobs: dict[int, list[Json]] = field(default_factory=dict)
    deployments: list[Json] = field(default_factory=list)
    commits: list[Json] = field(default_factory=list)  # default branch, newest first
    archived: bool = False
    forked_from: str | None = None  # the upstream project's path when this project is a fork


@dataclass
class GitLabData:
    projects: dict[str, GitLabProject] = field(default_factory=dict)  # path → project


def _message(status: int, text: str) -> Reply:
    return status, {"message": text}, {}


def handle(data: GitLabData | None, method: str, path: str, query: dict[str, list[str]],
           headers: Any) -> Reply:
    token = headers.get("PRIVATE-TOKEN") or (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
    if token != TOKEN:
        return _message(401, "401 Unauthorized")
    if method not in ("GET", "HEAD"):
        return _message(405, "405 Method Not Allowed")
    if group := re.fullmatch(r"/api/v4/groups/([^/]+)/projects", path.rstrip("/")):
        return _group_projects(data or GitLabData(), unquote(group.group(1)), _Pager(headers, path, query), query)
    match = re.fullmatch(r"/api/v4/projects/([^/]+)(/.*)?", path.rstrip("/"))
    if not match:
        return 404, {"error": "404 Not Found"}, {}
    ident = unquote(match.group(1))
    projects = (data or GitLabData()).projects
    repo = projects.get(ident) or next((p for p in projects.values() if str(p.id) == ident), None)
    if repo is None:
        return _message(404, "404 Project Not Found")
    return _project_route(repo, match.group(2) or "", _Pager(headers, path, query), query)


def _project_route(repo: GitLabProject, rest: str, page: _Pager, query: dict[str, list[str]]) -> Reply:
    """One route under /api/v4/projects/:id."""
    if rest == "/merge_requests":
        items = _changed(repo.merge_requests, query)
        state = _first(query, "state") or "all"
        return page.reply([m for m in items if state == "all" or m["state"] == state])
    if hit := re.fullmatch(r"/merge_requests/(\d+)/(commits|notes)", rest):
        table = repo.merge_request_commits if hit.group(2) == "commits" else repo.merge_request_notes
        if not any(m["iid"] == int(hit.group(1)) for m in repo.merge_requests):
            return _message(404, "404 Not found")
        return page.reply(table.get(int(hit.group(1)), []))
    if rest == "/pipelines":
        return page.reply([{k: p.get(k) for k in PIPELINE_LIST_KEYS} for p in _changed(repo.pipelines, query)])
    if hit := re.fullmatch(r"/pipelines/(\d+)(/jobs)?", rest):
        pipeline = next((p for p in repo.pipelines if p["id"] == int(hit.group(1))), None)
        if pipeline is None:
            return _message(404, "404 Not found")
        return page.reply(repo.jobs.get(pipeline["id"], [])) if hit.group(2) else (200, pipeline, {})
    if rest == "/repository/commits":
        since = _first(query, "since")
        after = parse_timestamp(since.replace("Z", "+00:00")) if since else None
        return page.reply([c for c in repo.commits if after is None or _when(c["committed_date"]) >= after])
    if rest == "/deployments":
        return page.reply(_changed(repo.deployments, query))
    return 404, {"error": "404 Not Found"}, {}


def _group_projects(data: GitLabData, group: str, page: _Pager, query: dict[str, list[str]]) -> Reply:
    """`GET /groups/:id/projects`: the group's projects (`include_subgroups=true`: its subgroups' too),
    `archived=true|false` filters; a fork carries `forked_from_project`."""
    subgroups = (_first(query, "include_subgroups") or "").lower() == "true"
    archived = (_first(query, "archived") or "").lower()
    found = [(name, p) for name, p in sorted(data.projects.items())
             if name.rsplit("/", 1)[0] == group or (subgroups and name.startswith(group + "/"))]
    if not any(name.startswith(group + "/") for name in data.projects):
        return _message(404, "404 Group Not Found")
    items = [{"id": p.id, "path_with_namespace": name, "archived": p.archived,
              **({"forked_from_project": {"path_with_namespace": p.forked_from}} if p.forked_from else {})}
             for name, p in found if archived not in ("true", "false") or p.archived == (archived == "true")]
    return page.reply(items)


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _when(value: Any) -> datetime:
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)


def _changed(items: list[Json], query: dict[str, list[str]]) -> list[Json]:
    """`updated_after` filter and `order_by` (created_at | updated_at) / `sort` (asc | desc)."""
    after = _first(query, "updated_after")
    since = parse_timestamp(after.replace("Z", "+00:00")) if after else None
    order = _first(query, "order_by") or "created_at"
    out = [i for i in items if since is None or _when(i.get("updated_at") or i.get("created_at")) >= since]
    key = "updated_at" if order == "updated_at" else "created_at"
    out.sort(key=lambda i: (_when(i.get(key) or i.get("created_at")), i["id"]),
             reverse=(_first(query, "sort") or "desc") == "desc")
    return out


class _Pager:
    """GitLab offset pagination: `page` / `per_page` (max 100) and its headers."""

    def __init__(self, headers: Any, path: str, query: dict[str, list[str]]) -> None:
        self.base = f"http://{headers.get('Host')}/gitlab{path}"
        self.query = query
        try:
            self.page = max(int(_first(query, "page") or 1), 1)
            self.per_page = min(max(int(_first(query, "per_page") or 20), 1), 100)
        except ValueError:
            self.page, self.per_page = 1, 20

    def url(self, page: int) -> str:
        pairs = [(k, v) for k, values in self.query.items() if k != "page" for v in values] + [("page", str(page))]
        return f"{self.base}?{urlencode(pairs)}"

    def reply(self, items: list[Json]) -> Reply:
        pages = max((len(items) + self.per_page - 1) // self.per_page, 1)
        chunk = items[(self.page - 1) * self.per_page:self.page * self.per_page]
        following = self.page + 1 if self.page < pages else None
        headers = {"X-Page": str(self.page), "X-Per-Page": str(self.per_page), "X-Total": str(len(items)),
                   "X-Total-Pages": str(pages), "X-Next-Page": str(following or ""),
                   "X-Prev-Page": str(self.page - 1 if self.page > 1 else "")}
        links = []
        if self.page > 1:
            links.append(f'<{self.url(self.page - 1)}>; rel="prev"')
        if following:
            links.append(f'<{self.url(following)}>; rel="next"')
        links += [f'<{self.url(1)}>; rel="first"', f'<{self.url(pages)}>; rel="last"']
        headers["Link"] = ", ".join(links)
        return 200, chunk, headers


def source_settings(base_url: str, projects: list[str], start: str) -> dict[str, str]:
    """Environment settings pointing the GitLab source at a replay server's ``/gitlab`` prefix."""
    return {"SOURCES__GITLAB__BASE_URL": base_url, "SOURCES__GITLAB__PROJECTS": json.dumps(projects),
            "SOURCES__GITLAB__PRIVATE_TOKEN": TOKEN, "SOURCES__GITLAB__START_DATE": start}
