"""GitHub collection through GraphQL (`SOURCES__GITHUB__API=graphql`, the default): the same raw tables and the
same rows as the REST path, for a fraction of the requests.

- Pull requests: a page of them per query, each with its reviews, commits (with parents), labels and
  closing-issue references; a nested connection that does not fit in the page (a PR with 250 commits) is paged
  to its end by follow-up queries on that pull request.
- Issues (`filterBy: {since}`), the default branch's history (`since`) and deployments with their statuses.
- GraphQL answers are turned back into the REST payload shapes and projected by the REST path's own field
  specs, so both paths validate and convert every field the same way.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from ingestion.sources._common import Cursors, isoformat_z, parse_timestamp, project, table_hints
from ingestion.sources.github_graphql_client import GraphQLClient, PageSize
from yardstick.errors import SourceError

PR_PAGE, CHILD_PAGE, LIST_PAGE = 25, 30, 100  # ceilings; the page size adapts below them

COMMIT_FIELDS = "oid message author { name email date user { login } } committer { email date } " \
                "parents(first: 5) { nodes { oid } }"
REVIEW_FIELDS = "fullDatabaseId author { login } state submittedAt commit { oid }"
PR_FIELDS = f"""
  fullDatabaseId number title body state isDraft author {{ login }} headRefName headRefOid baseRefName
  createdAt updatedAt closedAt mergedAt mergeCommit {{ oid }} potentialMergeCommit {{ oid }} mergedBy {{ login }}
  additions deletions changedFiles
  labels(first: 50) {{ nodes {{ name }} }}
  closingIssuesReferences(first: 10) {{ nodes {{ number }} }}
  commits(first: $children) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ commit {{ {COMMIT_FIELDS} }} }} }}
  reviews(first: $children) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {REVIEW_FIELDS} }} }}
"""
PULL_REQUESTS = f"""
query($owner: String!, $name: String!, $first: Int!, $children: Int!, $after: String) {{
  rateLimit {{ cost remaining resetAt }}
  repository(owner: $owner, name: $name) {{
    pullRequests(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {PR_FIELDS} }}
    }}
  }}
}}"""
PR_CHILDREN = """
query($owner: String!, $name: String!, $number: Int!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      %s(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { %s } }
    }
  }
}"""
HISTORY = f"""
query($owner: String!, $name: String!, $first: Int!, $after: String, $since: GitTimestamp) {{
  rateLimit {{ cost remaining resetAt }}
  repository(owner: $owner, name: $name) {{
    defaultBranchRef {{ target {{ ... on Commit {{
      history(first: $first, after: $after, since: $since) {{
        pageInfo {{ hasNextPage endCursor }} nodes {{ {COMMIT_FIELDS} }}
      }}
    }} }} }}
  }}
}}"""
ISSUES = """
query($owner: String!, $name: String!, $first: Int!, $after: String, $since: DateTime) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    issues(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: ASC}, filterBy: {since: $since}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        fullDatabaseId number title body state stateReason author { login } assignees(first: 1) { nodes { login } }
        labels(first: 50) { nodes { name } } milestone { title } createdAt updatedAt closedAt
      }
    }
  }
}"""
DEPLOYMENTS = """
query($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    deployments(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId commitOid ref { name } task environment description creator { login } createdAt updatedAt
        statuses(first: 30) {
          pageInfo { hasNextPage endCursor }
          nodes { id state environment description creator { login } createdAt updatedAt }
        }
      }
    }
  }
}"""


def graphql_resources(client: GraphQLClient, repositories: Sequence[str], start: datetime, *,
                      tables: Mapping[str, Any], specs: Mapping[str, Any], full_refresh: bool,
                      deployment_lookback_hours: int) -> list[DltResource]:
    """The `github` source's resources on GraphQL: pull requests (with their commits and reviews), commits,
    deployments (with statuses) and issues; `specs` are the REST path's field specs, `tables` its tables."""
    sizes = {name: PageSize(ceiling) for name, ceiling in
             (("pulls", PR_PAGE), ("children", CHILD_PAGE), ("list", LIST_PAGE))}
    fetch = _Fetcher(client, sizes, specs)

    # One query answers for several tables: a hidden resource (named as the REST one, so both paths keep the
    # same cursors) yields {table: rows} bundles and one transformer per table picks its rows.
    @dlt.resource(name="pull_requests", selected=False)
    def pull_request_pages() -> Iterator[dict[str, list[dict]]]:
        cursors = Cursors(start, full_refresh=full_refresh)
        for repo in repositories:
            since = cursors.start(repo)
            for page in fetch.pull_requests(repo, since):
                yield page
                cursors.advance(repo, (row["updated_at"] for row in page["pull_requests"]))

    @dlt.resource(name="commits", **table_hints(tables["commits"]))
    def commits() -> Iterator[list[dict]]:
        cursors = Cursors(start, full_refresh=full_refresh)
        for repo in repositories:
            for rows in fetch.history(repo, cursors.start(repo)):
                cursors.advance(repo, (row["committed_at"] for row in rows))
                yield rows

    @dlt.resource(name="deployments", selected=False)
    def deployment_pages() -> Iterator[dict[str, list[dict]]]:
        cursors = Cursors(start, full_refresh=full_refresh)
        for repo in repositories:
            since = cursors.start(repo, timedelta(hours=deployment_lookback_hours))
            for rows, statuses in fetch.deployments(repo, since):
                yield {"deployments": rows, "deployment_statuses": statuses}
                cursors.advance(repo, (row["created_at"] for row in rows))

    @dlt.resource(name="issues", **table_hints(tables["issues"]))
    def issues() -> Iterator[list[dict]]:
        cursors = Cursors(start, full_refresh=full_refresh)
        for repo in repositories:
            since = cursors.start(repo)
            for rows in fetch.issues(repo, since):
                rows = [row for row in rows if row["updated_at"] > since]  # `since` is inclusive
                cursors.advance(repo, (row["updated_at"] for row in rows))
                yield rows

    pulls = [_rows_of(pull_request_pages, table, tables) for table in
             ("pull_requests", "pull_request_commits", "pull_request_reviews")]
    deploys = [_rows_of(deployment_pages, table, tables) for table in ("deployments", "deployment_statuses")]
    return [pull_request_pages, *pulls, commits, deployment_pages, *deploys, issues]


def _rows_of(pages: DltResource, table: str, tables: Mapping[str, Any]) -> DltResource:
    """A transformer loading one table's rows from a resource's {table: rows} bundles."""
    def pick(bundle: dict[str, list[dict]]) -> Iterator[list[dict]]:
        if bundle.get(table):
            yield bundle[table]
    return dlt.transformer(pick, name=f"{table}_rows", table_name=table, data_from=pages,
                           **table_hints(tables[table]))


class _Fetcher:
    """Queries, pagination and the GraphQL → REST-shape mapping."""

    def __init__(self, client: GraphQLClient, sizes: Mapping[str, PageSize], specs: Mapping[str, Any]) -> None:
        self.client, self.sizes, self.specs = client, sizes, specs

    def _pages(self, query: str, repo: str, path: Sequence[str], size: PageSize,
               **variables: Any) -> Iterator[list[dict]]:
        """Every page of the connection at `path` under `repository`, following `endCursor`."""
        owner, name = repo.split("/", 1)
        after: str | None = None
        while True:
            def build(first: int, after: str | None = after) -> tuple[str, dict[str, Any]]:
                return query, {"owner": owner, "name": name, "first": first, "after": after, **variables}
            data = self.client.query(build, size)
            connection = _dig(data, ("repository", *path), repo)
            yield [node for node in connection.get("nodes") or [] if isinstance(node, dict)]
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    def pull_requests(self, repo: str, since: datetime) -> Iterator[dict[str, list[dict]]]:
        """Pages of pull requests updated after `since` (newest first), each with its children's rows."""
        children = self.sizes["children"]
        for nodes in self._pages(PULL_REQUESTS, repo, ("pullRequests",), self.sizes["pulls"],
                                 children=children.value):
            fresh = [node for node in nodes if _after(node.get("updatedAt"), since)]
            out: dict[str, list[dict]] = {"pull_requests": [], "pull_request_commits": [],
                                          "pull_request_reviews": []}
            for node in fresh:
                out["pull_requests"].append(self._row(_pull(node), "pull_request", repo))
                number = node.get("number")
                commits = self._complete(repo, number, node.get("commits"), "commits", f"commit {{ {COMMIT_FIELDS} }}")
                reviews = self._complete(repo, number, node.get("reviews"), "reviews", REVIEW_FIELDS)
                out["pull_request_commits"] += [self._row(_commit(c.get("commit")), "commit", repo, "sha",
                                                          pull_request_number=number) for c in commits]
                out["pull_request_reviews"] += [self._row(_review(r), "review", repo,
                                                          pull_request_number=number) for r in reviews]
            yield out
            if len(fresh) < len(nodes):
                return

    def _complete(self, repo: str, number: Any, connection: Any, field: str, selection: str) -> list[dict]:
        """A pull request's nested connection paged to its end (the first page came with the pull request)."""
        connection = connection if isinstance(connection, dict) else {}
        nodes = [n for n in connection.get("nodes") or [] if isinstance(n, dict)]
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return nodes
        query = PR_CHILDREN % (field, selection)
        owner, name = repo.split("/", 1)
        after = info.get("endCursor")
        while after:
            def build(first: int, after: str = after) -> tuple[str, dict[str, Any]]:
                return query, {"owner": owner, "name": name, "number": number, "first": first, "after": after}
            page = _dig(self.client.query(build, PageSize(100)), ("repository", "pullRequest", field), repo)
            nodes += [n for n in page.get("nodes") or [] if isinstance(n, dict)]
            page_info = page.get("pageInfo") or {}
            after = page_info.get("endCursor") if page_info.get("hasNextPage") else None
        return nodes

    def history(self, repo: str, since: datetime) -> Iterator[list[dict]]:
        path = ("defaultBranchRef", "target", "history")
        for nodes in self._pages(HISTORY, repo, path, self.sizes["list"], since=isoformat_z(since)):
            yield [self._row(_commit(node), "commit", repo, "sha") for node in nodes]

    def issues(self, repo: str, since: datetime) -> Iterator[list[dict]]:
        for nodes in self._pages(ISSUES, repo, ("issues",), self.sizes["list"], since=isoformat_z(since)):
            yield [self._row(_issue(node), "issue", repo) for node in nodes]

    def deployments(self, repo: str, since: datetime) -> Iterator[tuple[list[dict], list[dict]]]:
        """Pages of deployments created at or after `since` (newest first) with their statuses' rows."""
        for nodes in self._pages(DEPLOYMENTS, repo, ("deployments",), self.sizes["list"]):
            fresh = [self._row(_deployment(node), "deployment", repo) for node in nodes]
            kept = [(node, row) for node, row in zip(nodes, fresh, strict=True) if row["created_at"] >= since]
            statuses = [self._row(_status(status), "deployment_status", repo, deployment_id=row["id"])
                        for node, row in kept for status in (node.get("statuses") or {}).get("nodes") or []]
            yield [row for _, row in kept], statuses
            if len(kept) < len(nodes):
                return

    def _row(self, item: Any, kind: str, repo: str, id_path: str = "id", **extra: Any) -> dict:
        return project(item, self.specs[kind], source="github", endpoint=f"graphql {kind} of {repo}",
                       extra={"repository": repo, **extra}, id_path=id_path)


# ---------------------------------------------------------------- GraphQL node → REST payload shape

def _dig(data: Mapping[str, Any], path: Sequence[str], repo: str) -> dict:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            raise SourceError(f"GitHub GraphQL: {repo} has no {'.'.join(path)} (repository missing or not visible "
                              "to the token)")
    return value


def _after(stamp: Any, since: datetime) -> bool:
    return not isinstance(stamp, str) or parse_timestamp(stamp) > since


def _login(actor: Any) -> dict | None:
    return {"login": actor.get("login")} if isinstance(actor, Mapping) else None


def _oid(obj: Any) -> Any:
    return obj.get("oid") if isinstance(obj, Mapping) else None


def _names(connection: Any, key: str = "name") -> list[Any]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return [node.get(key) for node in nodes or [] if isinstance(node, Mapping)]


def _int(value: Any) -> Any:
    """BigInt arrives as a string; anything else is left for the projection to reject."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _pull(node: Mapping[str, Any]) -> dict:
    labels = [name for name in _names(node.get("labels")) if name]
    closing = [str(number) for number in _names(node.get("closingIssuesReferences"), "number") if number]
    return {
        "id": _int(node.get("fullDatabaseId")), "number": node.get("number"), "title": node.get("title"),
        "body": node.get("body") or None, "state": "open" if node.get("state") == "OPEN" else "closed",
        "draft": node.get("isDraft"), "user": _login(node.get("author")),
        "head": {"ref": node.get("headRefName"), "sha": node.get("headRefOid")},
        "base": {"ref": node.get("baseRefName")}, "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"), "closed_at": node.get("closedAt"), "merged_at": node.get("mergedAt"),
        "merge_commit_sha": _oid(node.get("mergeCommit")) or _oid(node.get("potentialMergeCommit")),
        "merged_by": _login(node.get("mergedBy")), "additions": node.get("additions"),
        "deletions": node.get("deletions"), "changed_files": node.get("changedFiles"),
        "commits": (node.get("commits") or {}).get("totalCount"),
        "label_names": ",".join(labels) or None, "closing_issue_numbers": ",".join(closing) or None,
    }


def _commit(node: Any) -> Any:
    if not isinstance(node, Mapping):
        return node
    author, committer = node.get("author") or {}, node.get("committer") or {}
    return {
        "sha": node.get("oid"), "parents": [{"sha": oid} for oid in _names(node.get("parents"), "oid")],
        "commit": {"message": node.get("message"),
                   "author": {"name": author.get("name"), "email": author.get("email"), "date": author.get("date")},
                   "committer": {"email": committer.get("email"), "date": committer.get("date")}},
        "author": author.get("user"),
    }


def _review(node: Mapping[str, Any]) -> dict:
    return {"id": _int(node.get("fullDatabaseId")), "user": _login(node.get("author")), "state": node.get("state"),
            "submitted_at": node.get("submittedAt"), "commit_id": _oid(node.get("commit"))}


def _issue(node: Mapping[str, Any]) -> dict:
    assignees = _names(node.get("assignees"), "login")
    labels = [name for name in _names(node.get("labels")) if name]
    milestone = node.get("milestone")
    return {
        "id": _int(node.get("fullDatabaseId")), "number": node.get("number"), "title": node.get("title"),
        "body": node.get("body") or None, "state": _lower(node.get("state")),
        "state_reason": _lower(node.get("stateReason")), "user": _login(node.get("author")),
        "assignee": {"login": assignees[0]} if assignees else None, "label_names": ",".join(labels) or None,
        "milestone": milestone if isinstance(milestone, Mapping) else None, "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"), "closed_at": node.get("closedAt"),
    }


def _deployment(node: Mapping[str, Any]) -> dict:
    """GraphQL has no `production_environment`: GitHub's own default applies (true for `production`)."""
    ref = node.get("ref")
    environment = node.get("environment")
    return {
        "id": node.get("databaseId"), "sha": node.get("commitOid"),
        "ref": ref.get("name") if isinstance(ref, Mapping) else None, "task": node.get("task"),
        "environment": environment, "description": node.get("description"), "creator": _login(node.get("creator")),
        "production_environment": environment == "production" if isinstance(environment, str) else None,
        "created_at": node.get("createdAt"), "updated_at": node.get("updatedAt"),
    }


def _status(node: Mapping[str, Any]) -> dict:
    return {"id": database_id(node.get("id")), "state": _lower(node.get("state")),
            "environment": node.get("environment"), "description": node.get("description"),
            "creator": _login(node.get("creator")), "created_at": node.get("createdAt"),
            "updated_at": node.get("updatedAt")}


def database_id(node_id: Any) -> Any:
    """The database id inside a global node id. GraphQL has no `databaseId` on a DeploymentStatus; its node id
    carries one: legacy ids are base64 of `NN:TypeNAME<id>`, new ones `PREFIX_` + base64url(msgpack([0, …, id]))."""
    if not isinstance(node_id, str):
        return node_id
    try:
        if "_" in node_id:
            payload = node_id.split("_", 1)[1]
            return _msgpack_last_int(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        match = re.fullmatch(r"\d+:[A-Za-z]+?(\d+)", base64.b64decode(node_id).decode())
        return int(match.group(1)) if match else node_id
    except (ValueError, UnicodeDecodeError):
        return node_id


def _msgpack_last_int(data: bytes) -> Any:
    """The last unsigned integer of a msgpack array of integers (all GitHub's new node ids hold)."""
    widths = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    position, last = 1, None
    while position < len(data):
        marker = data[position]
        if marker < 0x80:
            last, position = marker, position + 1
        elif marker in widths:
            width = widths[marker]
            last = int.from_bytes(data[position + 1: position + 1 + width], "big")
            position += 1 + width
        else:
            raise ValueError("not an integer array")
    return last

