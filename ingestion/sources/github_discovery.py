"""Repository discovery: `owner/*` in `sources.github.repositories` stands for every repository of that
organisation or user the token can see, read afresh on every run (a repository created since the last nightly
is picked up by the next one, with its history from `start_date`: it has no cursor yet).

Archived repositories and forks are left out unless `include_archived` / `include_forks`; `exclude_repositories`
takes globs (`acme/sandbox-*`) matched case-insensitively against `owner/name`, and applies to repositories named
explicitly too. Discovery asks the API the collection uses: GraphQL (`repositoryOwner { repositories }`, 100 a
query), or REST (`GET /orgs/{org}/repos`, a user's `/users/{user}/repos` when the owner is no organisation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from typing import Any

from ingestion.errors import SourceError
from ingestion.sources.client import ApiClient
from ingestion.sources.github_graphql_client import GraphQLClient, PageSize

OWNER_REPOSITORIES = """
query($login: String!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repositoryOwner(login: $login) {
    repositories(first: $first, after: $after, ownerAffiliations: [OWNER], orderBy: {field: NAME, direction: ASC}) {
      pageInfo { hasNextPage endCursor }
      nodes { nameWithOwner isArchived isFork }
    }
  }
}"""


def is_pattern(entry: str) -> bool:
    return entry.endswith("/*")


def expand_repositories(entries: Sequence[str], client: GraphQLClient | ApiClient | None, *, include_archived: bool = False,
                        include_forks: bool = False, exclude: Iterable[str] | None = None) -> list[str]:
    """`entries` with every `owner/*` replaced by that owner's repositories, filtered; order kept, no
    duplicates."""
    patterns = [pattern.lower() for pattern in exclude or ()]
    chosen: dict[str, None] = {}
    for entry in entries:
        if not is_pattern(entry):
            chosen[entry] = None
            continue
        if client is None:
            raise SourceError(f"GitHub: {entry!r} needs discovery, which needs an access token")
        owned = owner_repositories(client, entry[:-2]) if isinstance(client, GraphQLClient) \
            else rest_owner_repositories(client, entry[:-2])
        for repo in owned:
            if (repo["isArchived"] and not include_archived) or (repo["isFork"] and not include_forks):
                continue
            chosen[repo["nameWithOwner"]] = None
    return [repo for repo in chosen if not any(fnmatchcase(repo.lower(), pattern) for pattern in patterns)]


def owner_repositories(client: GraphQLClient, login: str) -> list[dict[str, Any]]:
    """Every repository an organisation or user owns (that the token can see)."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    size = PageSize(100)
    while True:
        def build(first: int, after: str | None = after) -> tuple[str, dict[str, Any]]:
            return OWNER_REPOSITORIES, {"login": login, "first": first, "after": after}
        owner = client.query(build, size).get("repositoryOwner")
        if not isinstance(owner, dict):
            raise SourceError(f"GitHub: no organisation or user {login!r} visible to the token (from {login}/*)")
        connection = owner.get("repositories") or {}
        found += [node for node in connection.get("nodes") or [] if isinstance(node, dict)]
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return found
        after = info.get("endCursor")


def rest_owner_repositories(client: ApiClient, login: str) -> list[dict[str, Any]]:
    """The same through REST: the organisation's repositories, else the user's, as GraphQL names their fields."""
    for path, params in ((f"/orgs/{login}/repos", {"type": "all"}), (f"/users/{login}/repos", {"type": "owner"})):
        try:
            repos = [repo for page in client.pages(path, params={**params, "per_page": 100}) for repo in page]
        except SourceError as exc:
            if " 404 " in str(exc):
                continue
            raise
        return [{"nameWithOwner": repo.get("full_name"), "isArchived": bool(repo.get("archived")),
                 "isFork": bool(repo.get("fork"))} for repo in repos if isinstance(repo, dict)]
    raise SourceError(f"GitHub: no organisation or user {login!r} visible to the token (from {login}/*)")
