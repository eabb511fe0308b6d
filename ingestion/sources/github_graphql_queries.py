"""The GitHub source's GraphQL queries, and what each costs under GitHub's formula.

GitHub prices a query by the requests its connections need: one per connection for every node that holds it,
the parent connections assumed full (`first`), summed, divided by 100, rounded to the nearest point, at least
1 (docs.github.com, "Rate limits and query limits for the GraphQL API"). So:

- A connection with no connection below it costs one request whatever its `first`: reviews, labels,
  closing-issue references, a pull request's commits (asked without their parents) and deployment statuses
  are asked 100 at a time, complete in one go for nearly every pull request.
- A commit's parents are a connection: every commit a query may return costs a request. A page of pull
  requests therefore asks their commits without parents (one request a pull request, not one per commit it
  might have), and each commit's parents follow in batched lookups (`object(oid:)`, one request each, exactly
  one per commit the pull request has: nothing is paid for commits it does not have), many pull requests and
  repositories a query. The default branch's history asks its parents in the page (100 commits, 101 requests).
- Up to 149 requests cost one point. Pages and batches are sized to stay there (POINT_REQUESTS): a page of
  37 pull requests is 1 + 37 × 4 = 149 requests, one point; a batch is 149 lookups and follow-ups.

Queries carry their arguments as literals: one query can then ask several repositories (aliases `r0`, `r1`, …)
each from its own cursor and date, which is how the first page of every repository is fetched in bulk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingestion.timestamps import isoformat_z

POINT_REQUESTS = 149  # the most requests one point buys: 149 / 100 rounds to 1
MAX_FIRST = 100  # GitHub's largest `first`

COMMIT_FIELDS = "oid message author { name email date user { login } } committer { email date }"
PARENTS = "parents(first: 5) { nodes { oid } }"
REVIEW_FIELDS = "fullDatabaseId author { login } state submittedAt commit { oid }"
PAGE_INFO = "pageInfo { hasNextPage endCursor }"

PULL_REQUESTS = """
pullRequests(first: %(first)s, after: %(after)s, orderBy: {field: UPDATED_AT, direction: DESC}) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes {
    fullDatabaseId number title body state isDraft author { login } headRefName headRefOid baseRefName
    createdAt updatedAt closedAt mergedAt mergeCommit { oid } potentialMergeCommit { oid } mergedBy { login }
    additions deletions changedFiles
    labels(first: 100) { nodes { name } }
    closingIssuesReferences(first: 100) { nodes { number } }
    commits(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { commit { %(commit)s } } }
    reviews(first: 100) { pageInfo { hasNextPage endCursor } nodes { %(review)s } }
  }
}"""
HISTORY = """
defaultBranchRef { target { ... on Commit {
  history(first: %(first)s, after: %(after)s, since: %(since)s) {
    totalCount pageInfo { hasNextPage endCursor } nodes { %(commit)s %(parents)s }
  }
} } }"""
ISSUES = """
issues(first: %(first)s, after: %(after)s, orderBy: {field: UPDATED_AT, direction: ASC}, filterBy: {since: %(since)s}) {
  pageInfo { hasNextPage endCursor }
  nodes {
    fullDatabaseId number title body state stateReason author { login } assignees(first: 1) { nodes { login } }
    labels(first: 100) { nodes { name } } milestone { title dueOn } createdAt updatedAt closedAt
  }
}"""
DEPLOYMENTS = """
deployments(first: %(first)s, after: %(after)s, orderBy: {field: CREATED_AT, direction: DESC}) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes {
    databaseId commitOid ref { name } task environment description creator { login } createdAt updatedAt
    statuses(first: 100) {
      pageInfo { hasNextPage endCursor }
      nodes { id state environment description creator { login } createdAt updatedAt }
    }
  }
}"""
PULL_COMMITS = "commits(first: 100, after: %(after)s) { " + PAGE_INFO + " nodes { commit { %(commit)s } } }"
PULL_REVIEWS = "reviews(first: 100, after: %(after)s) { " + PAGE_INFO + " nodes { %(review)s } }"


def literal(value: Any) -> str:
    """A GraphQL literal: strings JSON-quoted (GraphQL's string syntax), None as null, datetimes as ISO 8601 Z."""
    if value is None:
        return "null"
    if isinstance(value, datetime):
        value = isoformat_z(value)
    return json.dumps(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Shape:
    """One connection under `repository`: its template (read when a query is built), where its nodes are, and
    the requests one node of it needs (its own nested connections)."""

    template: Callable[[], str]
    path: tuple[str, ...]
    per_node: int

    def requests(self, first: int) -> int:
        return 1 + first * self.per_node

    def ceiling(self) -> int:
        """The largest page that costs one point."""
        return max(1, min(MAX_FIRST, (POINT_REQUESTS - 1) // self.per_node))

    def selection(self, first: int, after: str | None, since: datetime | None) -> str:
        return self.template() % {"first": first, "after": literal(after), "since": literal(since),
                                  "commit": COMMIT_FIELDS, "parents": PARENTS, "review": REVIEW_FIELDS}


# labels, closing issues, commits (without their parents: `Lookup`), reviews per pull request
PULLS = Shape(lambda: PULL_REQUESTS, ("pullRequests",), 4)
COMMITS = Shape(lambda: HISTORY, ("defaultBranchRef", "target", "history"), 1)  # parents
ISSUE_LIST = Shape(lambda: ISSUES, ("issues",), 2)  # assignees, labels
DEPLOYMENT_LIST = Shape(lambda: DEPLOYMENTS, ("deployments",), 1)  # statuses


def repositories_query(parts: Sequence[tuple[str, str]]) -> str:
    """One query asking each (repository, selection) under its own alias `r<i>`."""
    body = " ".join(f"r{i}: repository(owner: {literal(repo.split('/', 1)[0])}, "
                    f"name: {literal(repo.split('/', 1)[1])}) {{ {selection} }}"
                    for i, (repo, selection) in enumerate(parts))
    return f"query {{ rateLimit {{ cost remaining resetAt }} {body} }}"


@dataclass
class Pending:
    """A pull request's nested connection still to page: commits (without their parents) or reviews after
    `after`; one request either way (no connection below them)."""

    repo: str
    number: int
    field: str  # "commits" | "reviews"
    after: str

    def requests(self) -> int:
        return 1

    def selection(self, alias: str) -> str:
        template = PULL_COMMITS if self.field == "commits" else PULL_REVIEWS
        inner = template % {"after": literal(self.after), "commit": COMMIT_FIELDS, "review": REVIEW_FIELDS}
        return f"{alias}: pullRequest(number: {self.number}) {{ {inner} }}"


@dataclass
class Lookup:
    """A pull request's commit whose parents are still to ask: `object(oid:)` holds one `parents` connection,
    one request (`commit` is the commit's GraphQL node; its parents are added to it when they come)."""

    repo: str
    number: int
    commit: dict[str, Any]

    def requests(self) -> int:
        return 1

    def selection(self, alias: str) -> str:
        return f"{alias}: object(oid: {literal(self.commit.get('oid'))}) {{ ... on Commit {{ {PARENTS} }} }}"


def pack(items: Sequence[Any], cost: Callable[[Any], int], limit: int = POINT_REQUESTS) -> list[Any]:
    """The longest prefix of `items` whose requests fit in `limit` (at least one item)."""
    total, taken = 0, []
    for item in items:
        if taken and total + cost(item) > limit:
            break
        total += cost(item)
        taken.append(item)
    return taken


Group = tuple[str, str, list[tuple[str, Any]]]  # (repository alias `r<i>`, repository, [(item alias, item)])


def followup_query(batch: Sequence[Pending | Lookup], lead: tuple[str, str] | None = None) -> tuple[str, list[Group]]:
    """One query asking every item of `batch` (follow-up pages and parent lookups), grouped by repository
    (aliases `r<i>`, then `f<j>` for each item), and the groups; `lead`: a (repository, selection) asked first,
    as `r0` (a page that leaves requests to spare in its point: the items fill them)."""
    by_repo: dict[str, list[Pending | Lookup]] = {}
    for item in batch:
        by_repo.setdefault(item.repo, []).append(item)
    first = 1 if lead else 0
    groups = [(f"r{i}", repo, [(f"f{j}", item) for j, item in enumerate(items)])
              for i, (repo, items) in enumerate(by_repo.items(), start=first)]
    parts = [(repo, " ".join(item.selection(alias) for alias, item in items)) for _, repo, items in groups]
    return repositories_query([lead, *parts] if lead else parts), groups
