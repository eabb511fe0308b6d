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
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from ingestion.errors import SourceError
from ingestion.sources.cursors import Cursors
from ingestion.sources.github_graphql_client import BudgetExhausted, GraphQLClient, PageSize
from ingestion.sources.github_walk import Page, Pages, desc_walk, progress_row
from ingestion.sources.projection import project_rows, table_hints
from ingestion.timestamps import isoformat_z, parse_timestamp

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
      totalCount pageInfo {{ hasNextPage endCursor }}
      nodes {{ {PR_FIELDS} }}
    }}
  }}
}}"""
HISTORY_PATH = ("defaultBranchRef", "target", "history")
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
        totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {COMMIT_FIELDS} }}
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
        labels(first: 50) { nodes { name } } milestone { title dueOn } createdAt updatedAt closedAt
      }
    }
  }
}"""
DEPLOYMENTS = """
query($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    deployments(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount pageInfo { hasNextPage endCursor }
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
    deployments (with statuses) and issues, plus each repository's progress; `specs` are the REST path's field
    specs, `tables` its tables (with `sync_progress`)."""
    sizes = {name: PageSize(ceiling) for name, ceiling in
             (("pulls", PR_PAGE), ("children", CHILD_PAGE), ("list", LIST_PAGE))}
    fetch = _Fetcher(client, sizes, specs)
    lookback = timedelta(hours=deployment_lookback_hours)

    run = _Run(repositories, start, full_refresh)
    pull_pages = run.walked("pull_requests", lambda repo: fetch.pages_of(PULL_REQUESTS, repo, ("pullRequests",),
                                                                     sizes["pulls"], children=CHILD_PAGE),
                        lambda node: parse_timestamp(node["updatedAt"]), fetch.pull_bundle)
    history_pages = run.walked("commits", lambda repo: fetch.pages_of(HISTORY, repo, HISTORY_PATH, sizes["list"]),
                           lambda node: parse_timestamp((node.get("committer") or {})["date"]),
                           lambda repo, nodes: {"commits": fetch.rows(nodes, "commit", repo)}, inclusive=True)
    deployment_pages = run.walked("deployments",
                              lambda repo: fetch.pages_of(DEPLOYMENTS, repo, ("deployments",), sizes["list"]),
                              lambda node: parse_timestamp(node["createdAt"]), fetch.deployment_bundle,
                              lookback=lookback, inclusive=True)

    issue_pages = dlt.resource(run.issues(fetch, sizes["list"]), name="issues", selected=False)

    picked = [_rows_of(pull_pages, table, tables) for table in
              ("pull_requests", "pull_request_commits", "pull_request_reviews")]
    picked += [_rows_of(history_pages, "commits", tables), _rows_of(issue_pages, "issues", tables)]
    picked += [_rows_of(deployment_pages, table, tables) for table in ("deployments", "deployment_statuses")]
    parents = (pull_pages, history_pages, deployment_pages, issue_pages)
    progress = [_rows_of(parent, "sync_progress", tables, name=f"{parent.name}_progress") for parent in parents]
    return [*parents, *picked, *progress]


class _Run:
    """What every resource of one run shares: the repositories, `start_date`, and whether to start over."""

    def __init__(self, repositories: Sequence[str], start: datetime, full_refresh: bool) -> None:
        self.repositories, self.start, self.full_refresh = repositories, start, full_refresh

    def walked(self, resource: str, pages: Callable[[str], Pages], stamp: Callable[[dict], datetime],
               bundle: Callable[[str, list[dict]], dict[str, list[dict]]], **walk: Any) -> DltResource:
        """A hidden resource (named as the REST one, so both paths share cursors) yielding {table: rows}
        bundles from a resumable newest-first walk per repository, and each repository's progress."""
        def run() -> Iterator[dict[str, list[dict]]]:
            cursors = Cursors(self.start, full_refresh=self.full_refresh)
            walks: dict[str, Any] = dlt.current.resource_state().setdefault("walks", {})
            if self.full_refresh:
                walks.clear()
            stopped = False
            for repo in self.repositories:
                try:
                    if stopped:
                        raise BudgetExhausted("budget spent on an earlier repository")
                    for nodes in desc_walk(walks, cursors, repo, pages(repo), stamp, **walk):
                        yield bundle(repo, nodes)
                except BudgetExhausted:
                    stopped = True
                yield {"sync_progress": [progress_row(repo, resource, walks.get(repo), complete=not stopped)]}
        return dlt.resource(run, name=resource, selected=False)

    def issues(self, fetch: _Fetcher, size: PageSize) -> Callable[[], Iterator[dict[str, list[dict]]]]:
        """Issues oldest change first from the cursor (`filterBy: {since}`): resumable page by page."""
        def run() -> Iterator[dict[str, list[dict]]]:
            cursors = Cursors(self.start, full_refresh=self.full_refresh)
            stopped = False
            for repo in self.repositories:
                try:
                    if stopped:
                        raise BudgetExhausted("budget spent on an earlier repository")
                    yield from _changed_issues(fetch, size, cursors, repo)
                except BudgetExhausted:
                    stopped = True
                yield {"sync_progress": [progress_row(repo, "issues", None, complete=not stopped)]}
        return run


def _changed_issues(fetch: _Fetcher, size: PageSize, cursors: Cursors, repo: str) -> Iterator[dict[str, list]]:
    since = cursors.start(repo)
    pages = fetch.pages_of(ISSUES, repo, ("issues",), size)
    probe = next(pages(None, since, 2))[0]  # 1 point: `since` is inclusive, so look at two
    changed = pages(None, since, None) if any(_stamp(node) > since for node in probe) else iter(())
    for nodes, _end, _total in changed:
        rows = [row for row in fetch.rows(nodes, "issue", repo) if row["updated_at"] > since]
        yield {"issues": rows}
        cursors.advance(repo, (row["updated_at"] for row in rows))


def _rows_of(pages: DltResource, table: str, tables: Mapping[str, Any], name: str | None = None) -> DltResource:
    """A transformer loading one table's rows from a resource's {table: rows} bundles."""
    def pick(bundle: dict[str, list[dict]]) -> Iterator[list[dict]]:
        if bundle.get(table):
            yield bundle[table]
    return dlt.transformer(pick, name=name or f"{table}_rows", table_name=table, data_from=pages,
                           **table_hints(tables[table]))


class _Fetcher:
    """Queries, pagination and the GraphQL → REST-shape mapping."""

    def __init__(self, client: GraphQLClient, sizes: Mapping[str, PageSize], specs: Mapping[str, Any]) -> None:
        self.client, self.sizes, self.specs = client, sizes, specs

    def pages_of(self, query: str, repo: str, path: Sequence[str], size: PageSize, **variables: Any) -> Pages:
        """`pages(after, since)`: the pages of the connection at `path` under `repository`, from after the
        cursor `after`, following `endCursor`."""
        owner, name = repo.split("/", 1)

        def pages(after: str | None, since: datetime, fixed: int | None = None) -> Iterator[Page]:
            while True:
                def build(first: int, after: str | None = after) -> tuple[str, dict[str, Any]]:
                    dated = {"since": isoformat_z(since)} if "$since" in query else {}
                    return query, {"owner": owner, "name": name, "first": fixed or first, "after": after,
                                   **dated, **variables}
                connection = _dig(self.client.query(build, size), ("repository", *path), repo)
                info = connection.get("pageInfo") or {}
                nodes = [node for node in connection.get("nodes") or [] if isinstance(node, dict)]
                yield nodes, info.get("endCursor"), connection.get("totalCount")
                if not info.get("hasNextPage"):
                    return
                after = info.get("endCursor")
        return pages

    def pull_bundle(self, repo: str, nodes: list[dict]) -> dict[str, list[dict]]:
        """A page of pull requests' rows with their commits' and reviews' (nested pages followed)."""
        out: dict[str, list[dict]] = {"pull_requests": [], "pull_request_commits": [], "pull_request_reviews": []}
        for node in nodes:
            out["pull_requests"] += self._rows([_pull(node)], "pull_request", repo, "pull_requests")
            number = node.get("number")
            commits = self._complete(repo, number, node.get("commits"), "commits", f"commit {{ {COMMIT_FIELDS} }}")
            reviews = self._complete(repo, number, node.get("reviews"), "reviews", REVIEW_FIELDS)
            out["pull_request_commits"] += self._rows([_commit(c.get("commit")) for c in commits], "commit", repo,
                                                      "pull_request_commits", "sha", pull_request_number=number)
            out["pull_request_reviews"] += self._rows([_review(r) for r in reviews], "review", repo,
                                                      "pull_request_reviews", pull_request_number=number)
        return out

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
            page = _dig(self.client.query(build, self.sizes["children"]), ("repository", "pullRequest", field), repo)
            nodes += [n for n in page.get("nodes") or [] if isinstance(n, dict)]
            page_info = page.get("pageInfo") or {}
            after = page_info.get("endCursor") if page_info.get("hasNextPage") else None
        return nodes

    def deployment_bundle(self, repo: str, nodes: list[dict]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {"deployments": [], "deployment_statuses": []}
        for node in nodes:
            rows = self._rows([_deployment(node)], "deployment", repo, "deployments")
            out["deployments"] += rows
            statuses = [_status(status) for status in (node.get("statuses") or {}).get("nodes") or []]
            for row in rows:  # none when the deployment itself was quarantined
                out["deployment_statuses"] += self._rows(statuses, "deployment_status", repo, "deployment_statuses",
                                                         deployment_id=row["id"])
        return out

    def rows(self, nodes: list[dict], kind: str, repo: str) -> list[dict]:
        mapper, table = {"commit": (_commit, "commits"), "issue": (_issue, "issues")}[kind]
        return self._rows([mapper(node) for node in nodes], kind, repo, table, "sha" if kind == "commit" else "id")

    def _rows(self, items: list[Any], kind: str, repo: str, table: str, id_path: str = "id",
              **extra: Any) -> list[dict]:
        """Rows of raw table `table`; a record that breaks its contract is quarantined as on the REST path."""
        return project_rows(items, self.specs[kind], source="github", endpoint=f"graphql {kind} of {repo}",
                            table=table, extra={"repository": repo, **extra}, id_path=id_path)


# ---------------------------------------------------------------- GraphQL node → REST payload shape

def _dig(data: Mapping[str, Any], path: Sequence[str], repo: str) -> dict:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            raise SourceError(f"GitHub GraphQL: {repo} has no {'.'.join(path)} (repository missing or not visible "
                              "to the token)")
    return value


def _stamp(node: Mapping[str, Any]) -> datetime:
    return parse_timestamp(str(node.get("updatedAt")))


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
        "milestone": {"title": milestone.get("title"), "due_on": milestone.get("dueOn")}
        if isinstance(milestone, Mapping) else None, "created_at": node.get("createdAt"),
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

