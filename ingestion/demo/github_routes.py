"""The replay server's GitHub REST v3 routes: pulls, commits, deployments, workflow runs and issues of the
organisation's repositories, with GitHub's pagination (Link headers) and filters. Payloads come from
`github_api`; HTTP plumbing, faults and rate-limit headers stay in `server`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from ingestion.demo.replies import (
    HttpError,
    Reply,
    created_filter,
    first,
    in_range,
    int_param,
    parse_time,
    ts,
)

if TYPE_CHECKING:
    from ingestion.demo.org import Org

GITHUB_DOCS = "https://docs.github.com/rest"

# fields present on pulls/get but not on the pulls/list items
_PULL_DETAIL_ONLY = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)


def github_not_found(message: str = "Not Found") -> Reply:
    return Reply(404, {"message": message, "documentation_url": GITHUB_DOCS, "status": "404"})


# --------------------------------------------------------------------------------------------------
# GitHub
# --------------------------------------------------------------------------------------------------


class GitHubApi:
    def __init__(self, org: Org, base: str, path: str, query: dict[str, list[str]], raw_query: str) -> None:
        self.org = org
        self.base = base
        self.path = path.rstrip("/") or "/"
        self.query = query
        self.raw_query = raw_query

    def handle(self) -> Reply:
        owned = re.fullmatch(r"/(orgs|users)/([^/]+)/repos", self.path)
        if owned:
            return self.paginate(self.owner_repositories(owned.group(1), owned.group(2)))
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", self.path)
        if not m:
            raise HttpError(github_not_found())
        repo = self.org.github.get(f"{m.group(1)}/{m.group(2)}")
        if repo is None:
            raise HttpError(github_not_found())
        rest = m.group(3) or ""
        routes: list[tuple[str, Any]] = [
            (r"", lambda: Reply(200, repo.repository)),
            (r"/pulls", lambda: self.paginate(self.list_pulls(repo))),
            (r"/pulls/(\d+)", lambda n: Reply(200, self.pull(repo, int(n)))),
            (r"/pulls/(\d+)/commits", lambda n: self.paginate(self.pull_part(repo.pull_commits, n))),
            (r"/pulls/(\d+)/reviews", lambda n: self.paginate(self.pull_part(repo.pull_reviews, n))),
            (r"/commits", lambda: self.paginate(self.list_commits(repo))),
            (r"/commits/([0-9a-fA-F]{4,40})", lambda sha: Reply(200, self.commit(repo, sha))),
            (r"/deployments", lambda: self.paginate(self.list_deployments(repo))),
            (r"/deployments/(\d+)", lambda i: Reply(200, self.deployment(repo, int(i)))),
            (r"/deployments/(\d+)/statuses", lambda i: self.paginate(self.statuses(repo, int(i)))),
            (r"/actions/runs", lambda: self.list_runs(repo)),
            (r"/actions/runs/(\d+)", lambda i: Reply(200, self.run(repo, int(i)))),
            (r"/actions/runs/(\d+)/jobs", lambda i: self.paginate(self.jobs(repo, int(i)), wrap="jobs")),
            (r"/issues", lambda: self.paginate(self.list_issues(repo))),
        ]
        for pattern, handler in routes:
            hit = re.fullmatch(pattern, rest)
            if hit:
                return handler(*hit.groups())
        raise HttpError(github_not_found())

    # -- pagination ----------------------------------------------------------------------------

    def page_window(self) -> tuple[int, int]:
        per_page = min(max(int_param(self.query, "per_page", 30), 1), 100)
        page = max(int_param(self.query, "page", 1), 1)
        return per_page, page

    def link_header(self, page: int, last: int) -> str | None:
        if last <= 1 and page <= 1:
            return None

        def url(n: int) -> str:
            pairs = [(k, v) for k, v in _ordered_pairs(self.raw_query) if k != "page"]
            pairs.append(("page", str(n)))
            return f"{self.base}{self.path}?{urlencode(pairs, quote_via=quote, safe=':,')}"

        links = []
        if page > 1:
            links.append(f'<{url(min(page - 1, max(last, 1)))}>; rel="prev"')
        if page < last:
            links.append(f'<{url(page + 1)}>; rel="next"')
            links.append(f'<{url(last)}>; rel="last"')
        if page > 1:
            links.append(f'<{url(1)}>; rel="first"')
        return ", ".join(links) or None

    def paginate(self, items: list[Any], wrap: str | None = None) -> Reply:
        per_page, page = self.page_window()
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        body: Any = {"total_count": len(items), wrap: chunk} if wrap else chunk
        reply = Reply(200, body)
        link = self.link_header(page, last)
        if link:
            reply.headers["Link"] = link
        return reply

    # -- endpoints -----------------------------------------------------------------------------

    def owner_repositories(self, kind: str, login: str) -> list[dict]:
        """`/orgs/{org}/repos` (the organisation's) and `/users/{user}/repos` (a user's; an organisation is
        a user too), by full name; 404 for an owner with none, or an organisation that is not one."""
        repos = [data.repository for name, data in sorted(self.org.github.items())
                 if name.split("/", 1)[0].lower() == login.lower()]
        if not repos or (kind == "orgs" and login.lower() != self.org.owner.lower()):
            raise HttpError(github_not_found())
        return repos

    def list_pulls(self, repo: Any) -> list[dict]:
        state = first(self.query, "state", "open") or "open"
        sort = first(self.query, "sort", "created") or "created"
        direction = first(self.query, "direction") or ("desc" if sort == "created" else "asc")
        base = first(self.query, "base")
        head = first(self.query, "head")
        pulls = [p for p in repo.pulls if state == "all" or p["state"] == state]
        if base:
            pulls = [p for p in pulls if p["base"]["ref"] == base]
        if head:
            pulls = [p for p in pulls if p["head"]["label"] == head or p["head"]["ref"] == head]
        key = "updated_at" if sort in ("updated", "popularity") else "created_at"
        pulls = sorted(pulls, key=lambda p: (p[key], p["number"]), reverse=direction == "desc")
        return [{k: v for k, v in p.items() if k not in _PULL_DETAIL_ONLY} for p in pulls]

    def pull(self, repo: Any, number: int) -> dict:
        for p in repo.pulls:
            if p["number"] == number:
                return p
        raise HttpError(github_not_found())

    def pull_part(self, table: dict[int, list[dict]], number: str) -> list[dict]:
        if int(number) not in table:
            raise HttpError(github_not_found())
        return table[int(number)]

    def list_commits(self, repo: Any) -> list[dict]:
        ref = first(self.query, "sha")
        if ref and ref != repo.repository.get("default_branch"):
            start = self.resolve_ref(repo, ref)
            commits = _reachable(repo.all_commits, start)
        else:
            commits = repo.commits
        since, until = ts(first(self.query, "since")), ts(first(self.query, "until"))
        author = first(self.query, "author")
        out = []
        for c in commits:
            at = parse_time(c["commit"]["committer"]["date"])
            if since and at < since:
                continue
            if until and at > until:
                continue
            if author and author not in (
                (c.get("author") or {}).get("login"),
                c["commit"]["author"]["email"],
            ):
                continue
            out.append(c)
        return out

    def resolve_ref(self, repo: Any, ref: str) -> str:
        for p in repo.pulls:
            if p["head"]["ref"] == ref:
                return p["head"]["sha"]
        matches = [sha for sha in repo.all_commits if sha.startswith(ref.lower())] if len(ref) >= 4 else []
        if len(matches) == 1:
            return matches[0]
        raise HttpError(github_not_found(f"No commit found for SHA: {ref}"))

    def commit(self, repo: Any, sha: str) -> dict:
        full = self.resolve_ref(repo, sha)
        item = dict(repo.all_commits[full])
        item["stats"] = {"total": 0, "additions": 0, "deletions": 0}
        item["files"] = []
        return item

    def list_deployments(self, repo: Any) -> list[dict]:
        out = repo.deployments
        for name in ("environment", "sha", "ref", "task"):
            value = first(self.query, name)
            if value:
                out = [d for d in out if d[name] == value]
        return out

    def deployment(self, repo: Any, ident: int) -> dict:
        for d in repo.deployments:
            if d["id"] == ident:
                return d
        raise HttpError(github_not_found())

    def statuses(self, repo: Any, ident: int) -> list[dict]:
        if ident not in repo.deployment_statuses:
            raise HttpError(github_not_found())
        return repo.deployment_statuses[ident]

    def list_runs(self, repo: Any) -> Reply:
        runs = repo.workflow_runs
        created = first(self.query, "created")
        if created:
            try:
                rng = created_filter(created)
            except ValueError as err:
                raise HttpError(
                    Reply(
                        422,
                        {
                            "message": f"Invalid created filter: {created}",
                            "documentation_url": GITHUB_DOCS,
                            "status": "422",
                        },
                    )
                ) from err
            runs = [r for r in runs if in_range(parse_time(r["created_at"]), rng)]
        filters = {"branch": "head_branch", "event": "event", "head_sha": "head_sha"}
        for param, key in filters.items():
            value = first(self.query, param)
            if value:
                runs = [r for r in runs if r[key] == value]
        actor = first(self.query, "actor")
        if actor:
            runs = [r for r in runs if r["actor"]["login"] == actor]
        status = first(self.query, "status")
        if status:
            runs = [r for r in runs if status in (r["status"], r["conclusion"])]
        if (first(self.query, "exclude_pull_requests") or "").lower() == "true":
            runs = [{**r, "pull_requests": []} for r in runs]
        return self.paginate(runs, wrap="workflow_runs")

    def run(self, repo: Any, ident: int) -> dict:
        for r in repo.workflow_runs:
            if r["id"] == ident:
                return r
        raise HttpError(github_not_found())

    def jobs(self, repo: Any, ident: int) -> list[dict]:
        self.run(repo, ident)  # 404 for an unknown run
        return repo.workflow_jobs.get(ident, [])

    def list_issues(self, repo: Any) -> list[dict]:
        """Issues and pull requests, as GitHub lists them: a pull request appears as an issue with a
        `pull_request` key. Filters `state`, `since` (updated at or after); `sort` created / updated."""
        state = first(self.query, "state", "open") or "open"
        sort = first(self.query, "sort", "created") or "created"
        direction = first(self.query, "direction", "desc") or "desc"
        since = ts(first(self.query, "since"))
        items = [*repo.issues, *(_pull_as_issue(p) for p in repo.pulls)]
        items = [i for i in items if state == "all" or i.get("state") == state]
        if since is not None:
            items = [i for i in items if not isinstance(i.get("updated_at"), str) or _at_or_after(i["updated_at"], since)]
        key = "updated_at" if sort == "updated" else "created_at"
        def order(item: dict) -> tuple[str, int]:
            number = item.get("number")
            return str(item.get(key)), number if isinstance(number, int) else 0

        return sorted(items, key=order, reverse=direction == "desc")


def _at_or_after(stamp: str, since: datetime) -> bool:
    """A stored timestamp at or after `since`; a malformed one (a broken payload) always passes, so the client
    gets to see it."""
    try:
        return parse_time(stamp) >= since
    except ValueError:
        return True


def _pull_as_issue(pull: dict) -> dict:
    """A pull request as the issues list shows it (its own issue id, a `pull_request` object)."""
    keep = ("url", "number", "title", "user", "labels", "state", "locked", "assignee", "assignees", "milestone",
            "created_at", "updated_at", "closed_at", "author_association", "body")
    item = {k: pull.get(k) for k in keep}
    ident = pull.get("id")  # tests break pull request payloads on purpose: never fail serving them here
    item["url"] = pull.get("issue_url")
    item["id"] = ident + 1_000_000_000 if isinstance(ident, int) and not isinstance(ident, bool) else ident
    item["html_url"] = pull.get("html_url")
    item["pull_request"] = {"url": pull.get("url"), "html_url": pull.get("html_url"),
                            "diff_url": pull.get("diff_url"), "patch_url": pull.get("patch_url"),
                            "merged_at": pull.get("merged_at")}
    return item


def _ordered_pairs(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)


def _reachable(commits: dict[str, dict], start: str) -> list[dict]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in commits:
            continue
        seen.add(sha)
        stack.extend(p["sha"] for p in commits[sha]["parents"])
    items = [commits[s] for s in seen]
    return sorted(items, key=lambda c: (c["commit"]["committer"]["date"], c["sha"]), reverse=True)
