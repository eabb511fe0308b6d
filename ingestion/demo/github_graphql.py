"""GitHub's GraphQL API (``POST /graphql``) over an :class:`~ingestion.demo.org.Org`, for the replay servers.

The executable schema is GitHub's own public SDL (``github_schema.graphql``, MIT, see
``github_schema.LICENSE.md``) built with graphql-core, so a query real GitHub would reject (an unknown field, a
wrong argument) is rejected here too. Resolvers render the same organisation the REST simulator serves, from its
REST payloads (workflow runs' check suites and their check runs: github_graphql_checks.py). Every query is
priced with GitHub's documented formula (github_graphql_cost.py) and refused above 500,000 nodes or without
``first``/``last``; its price is charged to a points budget returned in ``rateLimit { cost remaining resetAt }`` and
the ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from graphql import (
    ExecutionContext,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    Undefined,
    execute,
    is_leaf_type,
    is_non_null_type,
    parse,
    validate,
)

from ingestion.demo.github_api import RepoData
from ingestion.demo.github_graphql_checks import node_resolvers
from ingestion.demo.github_graphql_cost import (
    MAX_NODES,
    PaginationError,
    PointsBudget,
    priced,
    schema,
)
from ingestion.demo.org import Org

ROUTES = ("/graphql", "/api/graphql")  # api.github.com/graphql; GitHub Enterprise Server: HOST/api/graphql
Json = dict[str, Any]
Resolver = Callable[..., Any]
_CLOSING = re.compile(r"(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)")


def respond(org: Org, body: bytes, budget: PointsBudget) -> tuple[int, Json, dict[str, str]]:
    """Answer one ``POST /graphql``: (HTTP status, JSON body, headers), as api.github.com answers."""
    try:
        request = json.loads(body or b"{}")
        query = request["query"]
    except (ValueError, KeyError, TypeError):
        return 400, {"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"}, {}
    try:
        document = parse(query, no_location=True)
    except GraphQLError as exc:
        return 200, {"errors": [exc.formatted]}, budget.headers()
    variables = request.get("variables") or {}
    errors = _rejections(query)
    if errors:
        return 200, {"errors": errors}, budget.headers()
    try:
        cost, nodes, shape = priced(document, variables)
    except PaginationError as exc:
        return 200, {"errors": [{"type": exc.kind, "message": str(exc)}]}, budget.headers()
    if nodes > MAX_NODES:
        message = (f"This query requests up to {nodes:,} possible nodes which exceeds the maximum limit of "
                   f"{MAX_NODES:,}.")
        return 200, {"errors": [{"type": "MAX_NODE_LIMIT_EXCEEDED", "message": message}]}, budget.headers()
    if not budget.charge(cost):
        message = "API rate limit already exceeded for user ID 1."
        return 200, {"errors": [{"type": "RATE_LIMITED", "message": message}]}, budget.headers()
    budget.record(shape, cost)
    root = _Root(org, cost, nodes, budget)
    result = execute(schema(), document, root_value=root.fields(), variable_values=variables,
                     execution_context_class=_Execution)
    payload: Json = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    return 200, payload, budget.headers()


# ---------------------------------------------------------------- validation and execution, at replay speed

# A query's literals (strings, numbers) as the validator sees them: only their kind matters to it (a `String` is
# any string: GitHub's custom scalars such as `DateTime` are plain strings in the SDL-built schema).
_LITERALS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"|(?<![\w.])-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w.])')


def _kind(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.startswith('"'):
        return '""'
    if match.group(1) or match.group(2):
        return "0.0"
    return "0" if abs(int(text)) < 2**31 else text  # an `Int` beyond 32 bits stays, to be refused


def _rejections(query: str) -> list[Json]:
    """What the schema's validation says of the query (nothing if GitHub would run it). The sources' queries
    carry their arguments as literals, so a sync sends thousands of texts of a few shapes: a shape (the text with
    each literal replaced by an empty one of its kind) is validated once."""
    if not _shape_rejected(_LITERALS.sub(_kind, query)):
        return []
    document = parse(query)  # with locations, for GitHub's error format
    return [error.formatted for error in validate(schema(), document)]


@functools.lru_cache(maxsize=1024)
def _shape_rejected(shape: str) -> bool:
    try:
        return bool(validate(schema(), parse(shape, no_location=True)))
    except GraphQLError:
        return True


class _Execution(ExecutionContext):
    """graphql-core's executor, with a short path for most of a response's fields: a scalar or enum read from a
    dict, with no resolver and no arguments, serialized as `complete_leaf_value` would. Anything else (a
    resolver, arguments, a null, `__typename`) takes graphql-core's own path, errors included."""

    def execute_field(self, parent_type: GraphQLObjectType, source: Any, field_nodes: list[FieldNode],
                      path: Any) -> Any:
        node = field_nodes[0]
        if type(source) is dict and not node.arguments:
            field = parent_type.fields.get(node.name.value)
            if field is not None and field.resolve is None:
                kind = field.type.of_type if is_non_null_type(field.type) else field.type
                value = source.get(node.name.value)
                if value is not None and is_leaf_type(kind) and not callable(value):
                    try:
                        serialized = kind.serialize(value)
                    except Exception:  # noqa: BLE001 - graphql-core's path reports it, located, as GitHub would
                        serialized = None
                    if serialized is not None and serialized is not Undefined:
                        return serialized
        return super().execute_field(parent_type, source, field_nodes, path)


# ---------------------------------------------------------------- resolvers (dicts; callables take arguments)

def connection(items: list[Any], render: Callable[[Any], Any], first: int | None = None, after: str | None = None,
               last: int | None = None, before: str | None = None, *, order: _Order | None = None) -> Json:
    """A Relay connection over `items` (already filtered and ordered); only the page is rendered. With an
    `order` the cursors hold the sort key of their node, as GitHub's do (`cursor:v2:` + key): a cursor stays
    valid when nodes are added or move, so a walk can resume from it in a later run."""
    start = _position(items, after, order, inclusive=False) if after else 0
    stop = _position(items, before, order, inclusive=True) if before else len(items)
    window = list(range(start, max(stop, start)))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    edges = [{"cursor": _cursor(i, items[i], order), "node": render(items[i])} for i in window]
    return {
        "totalCount": len(items), "edges": edges, "nodes": [edge["node"] for edge in edges],
        "pageInfo": {"hasNextPage": bool(window) and window[-1] < len(items) - 1 if first is not None or not last
                     else stop < len(items),
                     "hasPreviousPage": bool(window) and window[0] > 0,
                     "startCursor": edges[0]["cursor"] if edges else None,
                     "endCursor": edges[-1]["cursor"] if edges else None},
    }


class _Order:
    """How a connection is sorted: the key of a node and the direction."""

    def __init__(self, key: Callable[[Any], list[Any]], descending: bool) -> None:
        self.key, self.descending = key, descending


def _cursor(index: int, item: Any, order: _Order | None) -> str:
    value = json.dumps(order.key(item)) if order else str(index)
    return base64.b64encode(f"cursor:v2:{value}".encode()).decode()


def _position(items: list[Any], cursor: str, order: _Order | None, *, inclusive: bool) -> int:
    """The index just after (`inclusive`: at) the cursor's node."""
    try:
        value = base64.b64decode(cursor).decode().split(":", 2)[2]
        if order is None:
            return int(value) + (0 if inclusive else 1)
        key = json.loads(value)
    except (ValueError, IndexError):
        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.") from None
    for index, item in enumerate(items):
        mine = order.key(item)
        beyond = mine < key if order.descending else mine > key
        if beyond or (inclusive and mine == key):
            return index
    return len(items)


def _paged(items: list[Any], render: Callable[[Any], Any]) -> Resolver:
    def resolve(_info: Any, first: int | None = None, after: str | None = None, last: int | None = None,
                before: str | None = None, **_filters: Any) -> Json:
        return connection(items, render, first, after, last, before)
    return resolve


def _actor(user: Any) -> Json | None:
    if not isinstance(user, Mapping):
        return None
    kind = "Bot" if user.get("type") == "Bot" else "User"
    return {"__typename": kind, "login": user.get("login"), "databaseId": user.get("id"),
            "id": user.get("node_id"), "url": user.get("html_url")}


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value)).astimezone(UTC)


class _Root:
    def __init__(self, org: Org, cost: int, nodes: int, budget: PointsBudget) -> None:
        self.org, self.cost, self.nodes, self.budget = org, cost, nodes, budget

    def fields(self) -> Json:
        return {"repository": self.repository, "organization": self.owner, "user": self.owner,
                "repositoryOwner": self.owner, "rateLimit": self.rate_limit, **node_resolvers(self.org, _paged)}

    def rate_limit(self, _info: Any, dryRun: bool = False) -> Json:
        reset = datetime.fromtimestamp(self.budget.reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"cost": self.cost, "limit": self.budget.limit, "nodeCount": self.nodes,
                "remaining": self.budget.remaining, "resetAt": reset, "used": self.budget.used}

    def repository(self, _info: Any, owner: str, name: str, followRenames: bool = True) -> Json | None:
        data = self.org.github.get(f"{owner}/{name}")
        return _Repository(data).node() if data is not None else None

    def owner(self, _info: Any, login: str) -> Json | None:
        repos = [data for full, data in sorted(self.org.github.items())
                 if full.split("/", 1)[0].lower() == login.lower()]
        if not repos:
            return None
        kind = "Organization" if login.lower() == self.org.owner.lower() else "User"

        def repositories(_info: Any, first: int | None = None, after: str | None = None, last: int | None = None,
                         before: str | None = None, isFork: bool | None = None,
                         isArchived: bool | None = None, **_filters: Any) -> Json:
            chosen = [r for r in repos if (isFork is None or bool(r.repository.get("fork")) == isFork)
                      and (isArchived is None or bool(r.repository.get("archived")) == isArchived)]
            return connection(chosen, lambda r: _Repository(r).node(), first, after, last, before)

        return {"__typename": kind, "login": login, "repositories": repositories}


class _Repository:
    """One repository's GraphQL nodes, rendered from its REST payloads."""

    def __init__(self, data: RepoData) -> None:
        self.data = data
        self.issue_numbers = {issue["number"]: issue for issue in data.issues if isinstance(issue, dict)}

    def node(self) -> Json:
        repo = self.data.repository
        head = self.data.commits[0] if self.data.commits else None
        branch = repo.get("default_branch") or "main"
        return {
            "__typename": "Repository", "id": repo.get("node_id"), "databaseId": repo.get("id"),
            "name": repo.get("name"), "nameWithOwner": self.data.full_name, "isArchived": bool(repo.get("archived")),
            "isFork": bool(repo.get("fork")), "isPrivate": bool(repo.get("private")),
            "createdAt": repo.get("created_at"), "updatedAt": repo.get("updated_at"),
            "pushedAt": repo.get("pushed_at"), "url": repo.get("html_url"),
            "defaultBranchRef": {"__typename": "Ref", "name": branch, "prefix": "refs/heads/",
                                 "target": self.commit(head) if head else None},
            "pullRequests": self.pull_requests, "pullRequest": self.pull_request, "issues": self.issues,
            "deployments": self.deployments, "object": self.git_object,
        }

    # -- pull requests
    def pull_requests(self, _info: Any, first: int | None = None, after: str | None = None, last: int | None = None,
                      before: str | None = None, states: Iterable[str] | None = None,
                      orderBy: Mapping[str, str] | None = None, **_filters: Any) -> Json:
        pulls = [p for p in self.data.pulls if not states or _pull_state(p) in set(states)]
        pulls, order = _ordered(pulls, orderBy, {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at"})
        return connection(pulls, self.pull, first, after, last, before, order=order)

    def pull_request(self, _info: Any, number: int) -> Json | None:
        found = [p for p in self.data.pulls if p.get("number") == number]
        return self.pull(found[0]) if found else None

    def pull(self, p: Json) -> Json:
        number = p.get("number")
        merged = p.get("merged_at") is not None
        sha = p.get("merge_commit_sha")
        return {
            "__typename": "PullRequest", "id": p.get("node_id"), "databaseId": p.get("id"),
            "fullDatabaseId": str(p.get("id")), "number": number, "title": p.get("title"),
            "body": p.get("body") or "", "state": _pull_state(p), "isDraft": bool(p.get("draft")),
            "author": _actor(p.get("user")), "headRefName": (p.get("head") or {}).get("ref"),
            "headRefOid": (p.get("head") or {}).get("sha"), "baseRefName": (p.get("base") or {}).get("ref"),
            "createdAt": p.get("created_at"), "updatedAt": p.get("updated_at"), "closedAt": p.get("closed_at"),
            "mergedAt": p.get("merged_at"), "merged": merged, "closed": p.get("state") == "closed",
            "mergeCommit": {"oid": sha} if merged and sha else None,
            "potentialMergeCommit": {"oid": sha} if not merged and sha else None,
            "mergedBy": _actor(p.get("merged_by")), "additions": p.get("additions"),
            "deletions": p.get("deletions"), "changedFiles": p.get("changed_files"),
            "url": p.get("html_url"),
            "labels": _paged(p.get("labels") or [], lambda label: {"name": label.get("name"),
                                                                  "id": label.get("node_id")}),
            "commits": _paged(self.data.pull_commits.get(number, []),
                              lambda c: {"commit": self.commit(c), "id": c.get("node_id")}),
            "reviews": self.reviews(number),
            "closingIssuesReferences": _paged(self.closing_issues(p), self.issue),
        }

    def reviews(self, number: int) -> Resolver:
        reviews = self.data.pull_reviews.get(number, [])

        def resolve(info: Any, states: Iterable[str] | None = None, **page: Any) -> Json:
            chosen = [r for r in reviews if not states or r.get("state") in set(states)]
            return _paged(chosen, self.review)(info, **page)
        return resolve

    @staticmethod
    def review(r: Json) -> Json:
        return {"id": r.get("node_id"), "databaseId": r.get("id"), "fullDatabaseId": str(r.get("id")),
                "author": _actor(r.get("user")), "state": r.get("state"), "submittedAt": r.get("submitted_at"),
                "body": r.get("body") or "", "commit": {"oid": r["commit_id"]} if r.get("commit_id") else None}

    def closing_issues(self, p: Json) -> list[Json]:
        numbers = dict.fromkeys(int(n) for n in _CLOSING.findall(f"{p.get('title')} {p.get('body') or ''}"))
        return [self.issue_numbers[n] for n in numbers if n in self.issue_numbers]

    # -- commits
    def git_object(self, _info: Any, oid: str | None = None, expression: str | None = None) -> Json | None:
        """`object(oid:)`: a commit of the repository (its default branch's or a pull request's), else null."""
        found = _indexed(self.data, _commits_by_sha).get(oid) if oid else None
        return self.commit(found) if found is not None else None

    def commit(self, c: Json) -> Json:
        detail = c.get("commit") or {}
        author, committer = detail.get("author") or {}, detail.get("committer") or {}
        user = c.get("author")
        parents = c.get("parents") or []
        return {
            "__typename": "Commit", "id": c.get("node_id"), "oid": c.get("sha"), "message": detail.get("message"),
            "author": {"name": author.get("name"), "email": author.get("email"), "date": author.get("date"),
                       "user": {"login": user["login"]} if isinstance(user, Mapping) else None},
            "committer": {"name": committer.get("name"), "email": committer.get("email"),
                          "date": committer.get("date")},
            "authoredDate": author.get("date"), "committedDate": committer.get("date"),
            "parents": _paged(parents, lambda parent: {"oid": parent.get("sha")}),
            "history": self.history,
        }

    def history(self, _info: Any, first: int | None = None, after: str | None = None, last: int | None = None,
                before: str | None = None, since: str | None = None, until: str | None = None,
                **_filters: Any) -> Json:
        """The default branch's history, newest first, by committer date (`since`/`until` inclusive)."""
        dated, keys = _indexed(self.data, _history)
        low, high = _at(since) if since else None, _at(until) if until else None
        chosen = [c for at, c in dated if (low is None or at >= low) and (high is None or at <= high)]
        order = _Order(lambda c: keys[c["sha"]], descending=True)
        return connection(chosen, self.commit, first, after, last, before, order=order)

    # -- issues
    def issues(self, _info: Any, first: int | None = None, after: str | None = None, last: int | None = None,
               before: str | None = None, states: Iterable[str] | None = None,
               orderBy: Mapping[str, str] | None = None, filterBy: Mapping[str, Any] | None = None,
               **_filters: Any) -> Json:
        since = (filterBy or {}).get("since")
        chosen = [i for i in self.data.issues if isinstance(i, dict)
                  and (not states or _upper(i.get("state")) in set(states))
                  and (since is None or _at(i["updated_at"]) >= _at(since))]
        chosen, order = _ordered(chosen, orderBy, {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at"})
        return connection(chosen, self.issue, first, after, last, before, order=order)

    @staticmethod
    def issue(i: Json) -> Json:
        assignees = i.get("assignees") or ([i["assignee"]] if i.get("assignee") else [])
        milestone = i.get("milestone")
        return {
            "__typename": "Issue", "id": i.get("node_id"), "databaseId": i.get("id"),
            "fullDatabaseId": str(i.get("id")), "number": i.get("number"), "title": i.get("title"),
            "body": i.get("body") or "", "state": _upper(i.get("state")), "stateReason": _upper(i.get("state_reason")),
            "author": _actor(i.get("user")), "createdAt": i.get("created_at"), "updatedAt": i.get("updated_at"),
            "closedAt": i.get("closed_at"), "url": i.get("html_url"),
            "milestone": {"title": milestone.get("title"), "dueOn": milestone.get("due_on")}
            if isinstance(milestone, Mapping) else None,
            "assignees": _paged(assignees, _actor),
            "labels": _paged(i.get("labels") or [], lambda label: {"name": label.get("name")}),
        }

    # -- deployments
    def deployments(self, _info: Any, first: int | None = None, after: str | None = None, last: int | None = None,
                    before: str | None = None, environments: Iterable[str] | None = None,
                    orderBy: Mapping[str, str] | None = None, **_filters: Any) -> Json:
        chosen = [d for d in self.data.deployments if not environments or d.get("environment") in set(environments)]
        chosen, order = _ordered(chosen, orderBy or {"field": "CREATED_AT", "direction": "ASC"},
                                 {"CREATED_AT": "created_at"})
        return connection(chosen, self.deployment, first, after, last, before, order=order)

    def deployment(self, d: Json) -> Json:
        statuses = self.data.deployment_statuses.get(d.get("id"), [])
        return {
            "id": d.get("node_id"), "databaseId": d.get("id"), "commitOid": d.get("sha"),
            "ref": {"__typename": "Ref", "name": d["ref"], "prefix": "refs/heads/"} if d.get("ref") else None,
            "task": d.get("task"), "environment": d.get("environment"),
            "originalEnvironment": d.get("original_environment"), "description": d.get("description"),
            "creator": _actor(d.get("creator")), "createdAt": d.get("created_at"), "updatedAt": d.get("updated_at"),
            "statuses": _paged(statuses, self.status),
        }

    @staticmethod
    def status(s: Json) -> Json:
        return {"id": s.get("node_id"), "state": _upper(s.get("state")), "environment": s.get("environment"),
                "description": s.get("description"), "creator": _actor(s.get("creator")),
                "createdAt": s.get("created_at"), "updatedAt": s.get("updated_at"), "logUrl": s.get("log_url")}


_INDEXES: dict[tuple[int, str], tuple[Any, Any]] = {}  # (id(repository data), index) → (weak ref to it, index)
_INDEXES_LOCK = threading.Lock()
_INDEXES_KEPT = 16  # indexes kept at once (lookups come a few repositories at a time)


def _indexed(data: Any, build: Callable[[Any], Any]) -> Any:
    """`build(data)`, once per repository data object and index (the bench's file-backed repositories are
    re-read after leaving their cache, and get new indexes then)."""
    key = (id(data), build.__name__)
    with _INDEXES_LOCK:
        entry = _INDEXES.get(key)
        if entry is None or entry[0]() is not data:
            while len(_INDEXES) >= _INDEXES_KEPT:
                del _INDEXES[next(iter(_INDEXES))]
            entry = _INDEXES[key] = (weakref.ref(data), build(data))
        return entry[1]


def _commits_by_sha(data: Any) -> dict[str, Json]:
    """Every commit of a repository by SHA (the default branch's and its pull requests')."""
    index = {c["sha"]: c for items in data.pull_commits.values() for c in items if isinstance(c, dict)}
    index.update(data.all_commits)
    return index


def _history(data: Any) -> tuple[list[tuple[datetime, Json]], dict[str, list[str]]]:
    """The default branch's commits with their committer dates, newest first (ties: the larger SHA first), and
    each commit's sort key by SHA (its cursor's content)."""
    dated = [(_at(c["commit"]["committer"]["date"]), c) for c in data.commits]
    keys = {c["sha"]: [at.isoformat(), c["sha"]] for at, c in dated}
    return sorted(dated, key=lambda pair: keys[pair[1]["sha"]], reverse=True), keys


def _pull_state(p: Mapping[str, Any]) -> str:
    if p.get("merged_at"):
        return "MERGED"
    return "CLOSED" if p.get("state") == "closed" else "OPEN"


def _ordered(items: list[Json], order_by: Mapping[str, str] | None,
             keys: Mapping[str, str]) -> tuple[list[Json], _Order | None]:
    """Items in the order GitHub's `orderBy` gives (ties by database id) and that order; without one, as
    stored (index cursors)."""
    if not order_by:
        return items, None
    field = keys.get(order_by.get("field", ""), "created_at")
    order = _Order(lambda item: [str(item.get(field)), item.get("id") or 0], order_by.get("direction") == "DESC")
    return sorted(items, key=order.key, reverse=order.descending), order
