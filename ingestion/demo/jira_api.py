"""Jira REST (v2/v3) and agile API routes for the replay server, under the ``/jira`` prefix.

Search, as each deployment serves it today (a small JQL subset: ``project in (…)`` / ``project = X``,
``updated >= "yyyy/MM/dd HH:mm"``, ``ORDER BY updated|created ASC|DESC``; ``expand=changelog`` embeds at most
``changelog_limit`` histories, the newest):

- Cloud (``cloud=True``): ``/rest/api/3/search/jql``, the enhanced search: ``nextPageToken``/``isLast`` paging with
  no ``startAt`` and no ``total``, only the ``fields`` named in the request (issue ids alone when none are), and
  unbounded JQL refused. The old ``/rest/api/{2,3}/search`` answers ``410 Gone``, as Atlassian's does since 2025.
- Data Center (``cloud=False``): ``/rest/api/2/search`` with ``startAt``/``maxResults``/``total`` paging.

Also ``/rest/api/{v}/issue/{id|key}/changelog`` (``isLast`` paging), ``/rest/api/{v}/status``,
``/rest/agile/1.0/board?projectKeyOrId=`` and ``/rest/agile/1.0/board/{id}/sprint``. Errors use Jira's
``{"errorMessages": […], "errors": {}}`` shape; auth is basic (e-mail + API token) or a bearer PAT.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ingestion.timestamps import parse_timestamp

EMAIL = "demo@example.com"
TOKEN = "demo-jira-token"
MAX_RESULTS = 100

Json = dict[str, Any]
Reply = tuple[int, Any, dict[str, str]]


@dataclass
class JiraData:
    """Every payload the Jira site would return: full issues (``changelog.histories`` complete, oldest
    first), statuses, boards (``{"id", "name", "type", "location": {"projectKey"}}``) and sprints per board."""

    issues: list[Json] = field(default_factory=list)
    statuses: list[Json] = field(default_factory=list)
    boards: list[Json] = field(default_factory=list)
    sprints: dict[int, list[Json]] = field(default_factory=dict)
    changelog_limit: int = 100
    cloud: bool = True


def _error(status: int, *messages: str) -> Reply:
    return status, {"errorMessages": list(messages), "errors": {}}, {}


def authorised(header: str | None, email: str = EMAIL, token: str = TOKEN) -> bool:
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() == token
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode() == f"{email}:{token}"
        except ValueError:
            return False
    return False


def handle(data: JiraData | None, method: str, path: str, query: dict[str, list[str]],
           auth_header: str | None) -> Reply:
    """Answer one request like Jira would."""
    if not authorised(auth_header):
        return 401, "Client must be authenticated to access this resource.", {"Content-Type": "text/plain"}
    if method not in ("GET", "HEAD"):
        return _error(405, "Method not allowed")
    data = data or JiraData()
    path = path.rstrip("/")
    if re.fullmatch(r"/rest/api/[23]/search", path):
        if data.cloud:
            return _error(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                               "API. A full migration guideline is available at "
                               "https://developer.atlassian.com/changelog/#CHANGE-2046")
        return _search(data, query)
    if re.fullmatch(r"/rest/api/3/search/jql", path) and data.cloud:
        return _search_jql(data, query)
    if match := re.fullmatch(r"/rest/api/[23]/issue/([^/]+)/changelog", path):
        return _changelog(data, match.group(1), query)
    if re.fullmatch(r"/rest/api/[23]/status", path):
        return 200, data.statuses, {}
    if path == "/rest/agile/1.0/board":
        key = _first(query, "projectKeyOrId")
        boards = [b for b in data.boards if key is None or (b.get("location") or {}).get("projectKey") == key]
        return _values_page(boards, query, 50)
    if match := re.fullmatch(r"/rest/agile/1.0/board/(\d+)/sprint", path):
        board = int(match.group(1))
        if not any(b["id"] == board for b in data.boards):
            return _error(404, f"Board {board} does not exist or you do not have permission to see it.")
        return _values_page(data.sprints.get(board, []), query, 50)
    return _error(404, "null for uri: " + path)


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _window(query: dict[str, list[str]], default: int) -> tuple[int, int]:
    try:
        start = max(int(_first(query, "startAt") or 0), 0)
        size = min(max(int(_first(query, "maxResults") or default), 1), MAX_RESULTS)
    except ValueError:
        start, size = 0, default
    return start, size


def _values_page(items: list[Json], query: dict[str, list[str]], default: int) -> Reply:
    start, size = _window(query, default)
    chunk = items[start:start + size]
    return 200, {"maxResults": size, "startAt": start, "total": len(items),
                 "isLast": start + len(chunk) >= len(items), "values": chunk}, {}


_CLAUSE_PROJECT = re.compile(r'project\s*(?:in\s*\(([^)]*)\)|=\s*"?([A-Za-z0-9_]+)"?)', re.IGNORECASE)
_CLAUSE_UPDATED = re.compile(r'updated\s*>=\s*"([^"]+)"', re.IGNORECASE)
_ORDER = re.compile(r"order\s+by\s+(updated|created)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)


def _parse_jql(jql: str) -> tuple[set[str] | None, datetime | None, str, bool]:
    """(projects, updated since, order field, descending); raises ValueError on anything else."""
    text = jql.strip()
    order, descending = "created", False
    if match := _ORDER.search(text):
        order, descending = match.group(1).lower(), (match.group(2) or "asc").lower() == "desc"
        text = text[:match.start()].strip()
    projects: set[str] | None = None
    since: datetime | None = None
    for clause in filter(None, (c.strip() for c in re.split(r"\s+AND\s+", text, flags=re.IGNORECASE))):
        if match := _CLAUSE_PROJECT.fullmatch(clause):
            listed = match.group(1) if match.group(1) is not None else match.group(2)
            projects = {p.strip().strip('"') for p in listed.split(",")}
        elif match := _CLAUSE_UPDATED.fullmatch(clause):
            since = datetime.strptime(match.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=UTC)
        else:
            raise ValueError(clause)
    return projects, since, order, descending


def _matching(data: JiraData, jql: str, *, bounded: bool) -> list[Json] | Reply:
    """The issues a JQL query selects, in its order; or the error reply Jira would send."""
    try:
        projects, since, order, descending = _parse_jql(jql)
    except ValueError as err:
        return _error(400, f"Error in the JQL Query: The character or clause '{err}' is not supported.")
    if bounded and projects is None and since is None:
        return _error(400, "Unbounded JQL queries are not allowed here. Please add a search restriction to your "
                           "query.")
    issues = [i for i in data.issues
              if (projects is None or i["fields"]["project"]["key"] in projects)
              and (since is None or _when(i["fields"].get("updated")) >= since)]
    issues.sort(key=lambda i: (_when(i["fields"].get(order)), int(i["id"])), reverse=descending)
    return issues


def _search_jql(data: JiraData, query: dict[str, list[str]]) -> Reply:
    """Cloud's enhanced search: an opaque ``nextPageToken`` and ``isLast``; only the named fields."""
    issues = _matching(data, _first(query, "jql") or "", bounded=True)
    if isinstance(issues, tuple):
        return issues
    token = _first(query, "nextPageToken")
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError:
        return _error(400, "The provided next page token is invalid or expired.")
    _, size = _window(query, 50)
    chunk = issues[start:start + size]
    names = [n for raw in query.get("fields", []) for n in raw.split(",") if n]
    expand = "changelog" in (_first(query, "expand") or "")
    body: Json = {"issues": [_fields_named(_with_changelog(i, data.changelog_limit) if expand
                                           else _without_changelog(i), names) for i in chunk],
                  "isLast": start + len(chunk) >= len(issues)}
    if not body["isLast"]:
        body["nextPageToken"] = base64.urlsafe_b64encode(str(start + len(chunk)).encode()).decode()
    return 200, body, {}


def _fields_named(issue: Json, names: list[str]) -> Json:
    """Only the requested fields, as the enhanced search returns them (none named: the id alone)."""
    if not names:
        return {"id": issue["id"]}
    if "*all" in names or "*navigable" in names:
        return issue
    kept = {k: v for k, v in issue["fields"].items() if k in names}
    return {**{k: v for k, v in issue.items() if k != "fields"}, "fields": kept}


def _search(data: JiraData, query: dict[str, list[str]]) -> Reply:
    issues = _matching(data, _first(query, "jql") or "", bounded=False)
    if isinstance(issues, tuple):
        return issues
    start, size = _window(query, 50)
    chunk = issues[start:start + size]
    expand = "changelog" in (_first(query, "expand") or "")
    return 200, {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(issues),
                 "issues": [_with_changelog(i, data.changelog_limit) if expand else _without_changelog(i)
                            for i in chunk]}, {}


def _when(value: Any) -> datetime:
    """A stored timestamp for filtering and sorting; a malformed one (tests break payloads on purpose) sorts
    last and always matches, so the client gets to see it."""
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        return datetime.max.replace(tzinfo=UTC)


def _without_changelog(issue: Json) -> Json:
    return {k: v for k, v in issue.items() if k != "changelog"}


def _with_changelog(issue: Json, limit: int) -> Json:
    histories = (issue.get("changelog") or {}).get("histories") or []
    shown = histories[-limit:] if len(histories) > limit else histories
    return {**issue, "changelog": {"startAt": 0, "maxResults": len(shown), "total": len(histories),
                                   "histories": shown}}


def _changelog(data: JiraData, ident: str, query: dict[str, list[str]]) -> Reply:
    for issue in data.issues:
        if ident in (issue["id"], issue["key"]):
            histories = (issue.get("changelog") or {}).get("histories") or []
            return _values_page(histories, query, 100)
    return _error(404, "Issue does not exist or you do not have permission to see it.")


def source_settings(base_url: str, projects: list[str], start: str) -> dict[str, str]:
    """Environment settings pointing the Jira source at a replay server's ``/jira`` prefix."""
    import json

    return {"SOURCES__JIRA__BASE_URL": base_url, "SOURCES__JIRA__PROJECTS": json.dumps(projects),
            "SOURCES__JIRA__EMAIL": EMAIL, "SOURCES__JIRA__API_TOKEN": TOKEN, "SOURCES__JIRA__START_DATE": start}
