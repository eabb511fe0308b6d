"""Local replay server that serves an :class:`~ingestion.demo.org.Org` as the GitHub and PagerDuty APIs.

GitHub REST v3 lives under ``/github`` and PagerDuty REST v2 under ``/pagerduty``. Paths, query
parameters, pagination (GitHub ``Link`` headers, PagerDuty ``offset``/``limit``/``more``), auth errors
and rate-limit headers behave like the real services so ingestion code can run against it unchanged.
Tests can inject faults (429, 5xx, truncated bodies) and inspect every request that was made.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from ingestion.demo import github_graphql, tool_apis
from ingestion.demo.org import GITHUB_API, PAGERDUTY_API, Org

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

_PROXY_HTML = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Request:
    """One request as seen by the server (the Authorization header is never recorded)."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    prefix: str = ""


@dataclass
class _Fault:
    path_contains: str
    status: int
    remaining: int
    retry_after: int | None
    body: str | None


@dataclass
class _Reply:
    status: int
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class _HttpError(Exception):
    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


# --------------------------------------------------------------------------------------------------
# parameter helpers
# --------------------------------------------------------------------------------------------------


def _first(query: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[0] if values else default


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(_first(query, name) or default)
    except ValueError:
        return default


def parse_time(text: str, *, end_of_day: bool = False) -> datetime:
    """Parse ISO-8601 timestamps and dates the way both APIs accept them (always UTC-aware)."""
    text = text.strip().replace(" ", "+")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return day + timedelta(days=1) - timedelta(seconds=1) if end_of_day else day
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _ts(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


def created_filter(expr: str) -> tuple[datetime | None, datetime | None, bool, bool]:
    """GitHub search date syntax → (low, high, low_inclusive, high_inclusive)."""
    expr = expr.strip().replace(" ", "+")
    if ".." in expr:
        low, high = expr.split("..", 1)
        return (
            None if low in ("", "*") else parse_time(low),
            None if high in ("", "*") else parse_time(high, end_of_day=True),
            True,
            True,
        )
    for op in (">=", "<=", ">", "<"):
        if expr.startswith(op):
            value = expr[len(op) :]
            if op == ">=":
                return parse_time(value), None, True, True
            if op == ">":
                return parse_time(value, end_of_day=True), None, False, True
            if op == "<=":
                return None, parse_time(value, end_of_day=True), True, True
            return None, parse_time(value), True, False
    return parse_time(expr), parse_time(expr, end_of_day=True), True, True


def _in_range(value: datetime, rng: tuple[datetime | None, datetime | None, bool, bool]) -> bool:
    low, high, low_inc, high_inc = rng
    if low is not None and (value < low or (value == low and not low_inc)):
        return False
    return not (high is not None and (value > high or (value == high and not high_inc)))


# --------------------------------------------------------------------------------------------------
# server
# --------------------------------------------------------------------------------------------------


class ReplayServer:
    """Serve an :class:`Org` over HTTP on ``127.0.0.1`` (random port) in a daemon thread."""

    def __init__(
        self,
        org: Org,
        *,
        github_token: str = "demo-github-token",
        pagerduty_token: str = "demo-pagerduty-token",
        rate_limit: int = 5000,
    ) -> None:
        self.org = org
        self.github_token = github_token
        self.pagerduty_token = pagerduty_token
        self.rate_limit = rate_limit
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._faults: list[_Fault] = []
        self._used = 0
        self._reset_at = int(time.time()) + 3600
        self.graphql_budget = github_graphql.PointsBudget()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind to a free port and start serving; returns ``self``."""
        if self._httpd is not None:
            return self
        server = self

        class Handler(_Handler):
            replay = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="replay-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def github_url(self) -> str:
        return self.url + "/github"

    @property
    def pagerduty_url(self) -> str:
        return self.url + "/pagerduty"

    # -- test controls -------------------------------------------------------------------------

    def set_org(self, org: Org) -> None:
        """Swap the served organisation (e.g. to simulate new data arriving between syncs)."""
        with self._lock:
            self.org = org

    def fail(
        self,
        path_contains: str,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        body: str | None = None,
    ) -> None:
        """Make the next ``times`` requests whose path (with prefix and query) contains
        ``path_contains`` fail with ``status`` (or return ``body`` verbatim with that status)."""
        with self._lock:
            self._faults.append(_Fault(path_contains, status, times, retry_after, body))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[Request]:
        """Snapshot of recorded requests, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def reset_rate_limit(self) -> None:
        with self._lock:
            self._used = 0
            self._reset_at = int(time.time()) + 3600
            self.graphql_budget = github_graphql.PointsBudget(self.graphql_budget.limit)

    # -- internals used by the handler ---------------------------------------------------------

    def _take_fault(self, target: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.path_contains in target:
                    fault.remaining -= 1
                    return fault
            return None

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def _rate_headers(self, consume: bool) -> tuple[dict[str, str], bool]:
        with self._lock:
            now = int(time.time())
            if now >= self._reset_at:
                self._used = 0
                self._reset_at = now + 3600
            exhausted = self._used >= self.rate_limit
            if consume and not exhausted:
                self._used += 1
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(self.rate_limit - self._used, 0)),
                "X-RateLimit-Used": str(self._used),
                "X-RateLimit-Reset": str(self._reset_at),
                "X-RateLimit-Resource": "core",
            }
            return headers, exhausted and consume


class _Handler(BaseHTTPRequestHandler):
    replay: ReplayServer
    body: bytes = b""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls
    server_version = "yardstick-replay/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        prefix, _, rest = split.path.lstrip("/").partition("/")
        path = "/" + rest
        if prefix not in ("github", "pagerduty", *tool_apis.PREFIXES):
            prefix, path = "", split.path
        reply = self._respond(method, prefix, path, query, split.query)
        self._record(method, path, query, reply.status, prefix)
        self._send(reply, method)

    def _record(self, method: str, path: str, query: dict[str, list[str]], status: int, prefix: str) -> None:
        self.replay._record(Request(method, path, query, status, prefix))

    def _respond(
        self, method: str, prefix: str, path: str, query: dict[str, list[str]], raw_query: str
    ) -> _Reply:
        server = self.replay
        target = self.path
        if prefix == "github":
            authorised = self._github_authorised()
            graphql = method == "POST" and path in github_graphql.ROUTES  # its own points budget
            headers, exhausted = server._rate_headers(consume=authorised and not graphql)
        else:
            headers, exhausted = {}, False
        fault = server._take_fault(target)
        if fault is not None:
            reply = self._fault_reply(prefix, fault)
            reply.headers = {**headers, **reply.headers}
            return reply
        try:
            if prefix == "github":
                if not self._github_authorised():
                    reply = _Reply(
                        401, {"message": "Bad credentials", "documentation_url": GITHUB_DOCS, "status": "401"}
                    )
                elif graphql:  # POST /graphql: the GraphQL API
                    return self._graphql()
                elif exhausted:
                    reply = _Reply(
                        403,
                        {
                            "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub "
                            "Support for help, please include the request ID.",
                            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                            "status": "403",
                        },
                    )
                elif method not in ("GET", "HEAD"):
                    reply = _github_not_found()
                else:
                    reply = _GitHubApi(server.org, server.github_url, path, query, raw_query).handle()
                reply.headers = {**headers, **reply.headers}
                return reply
            if prefix == "pagerduty":
                expected = f"Token token={server.pagerduty_token}"
                if (self.headers.get("Authorization") or "").strip() != expected:
                    return _Reply(401, {"error": {"message": "Unauthorized", "code": 2006}})
                if method not in ("GET", "HEAD"):
                    return _pd_not_found()
                return _PagerDutyApi(server.org, server.pagerduty_url, path, query).handle()
            if prefix in tool_apis.PREFIXES:  # Jira, GitLab, Jenkins: routes in their own modules
                status, body, extra = tool_apis.handle(prefix, server.org, method, path, query, self.headers)
                text = isinstance(body, str)
                return _Reply(status, None if text else body, raw=body.encode() if text else None,
                              content_type=extra.pop("Content-Type", _Reply.content_type), headers=extra)
            return _Reply(404, {"message": "Not Found"})
        except _HttpError as err:
            err.reply.headers = {**headers, **err.reply.headers}
            return err.reply

    def _graphql(self) -> _Reply:
        """GraphQL answers with its own points budget (not the REST one) in its X-RateLimit-* headers."""
        status, body, headers = github_graphql.respond(self.replay.org, self.body, self.replay.graphql_budget)
        return _Reply(status, body, headers=headers)

    def _github_authorised(self) -> bool:
        header = (self.headers.get("Authorization") or "").strip()
        scheme, _, token = header.partition(" ")
        return scheme.lower() in ("bearer", "token") and token.strip() == self.replay.github_token

    @staticmethod
    def _fault_reply(prefix: str, fault: _Fault) -> _Reply:
        extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.body is not None:
            return _Reply(fault.status, raw=fault.body.encode(), headers=extra)
        if fault.status in (502, 503, 504):
            reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}[fault.status]
            html = _PROXY_HTML.format(code=fault.status, reason=reason).encode()
            return _Reply(fault.status, raw=html, content_type="text/html", headers=extra)
        if prefix == "pagerduty":
            messages = {429: ("Rate Limit Exceeded", 2020), 500: ("Internal Server Error", 2001)}
            message, code = messages.get(fault.status, ("Error", 2000))
            return _Reply(fault.status, {"error": {"message": message, "code": code}}, headers=extra)
        if fault.status == 429:
            body = {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "429",
            }
        elif fault.status >= 500:
            body = {"message": "Server Error", "status": str(fault.status)}
        else:
            body = {"message": "Error", "documentation_url": GITHUB_DOCS, "status": str(fault.status)}
        return _Reply(fault.status, body, headers=extra)

    def _send(self, reply: _Reply, method: str) -> None:
        if reply.raw is not None:
            payload = reply.raw
        else:
            text = json.dumps(reply.body, separators=(",", ":"))
            server = self.replay
            if server._httpd is not None:
                text = text.replace(GITHUB_API, server.github_url).replace(
                    PAGERDUTY_API, server.pagerduty_url
                )
            payload = text.encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)


def _github_not_found(message: str = "Not Found") -> _Reply:
    return _Reply(404, {"message": message, "documentation_url": GITHUB_DOCS, "status": "404"})


def _pd_not_found() -> _Reply:
    return _Reply(404, {"error": {"message": "Not Found", "code": 2100}})


# --------------------------------------------------------------------------------------------------
# GitHub
# --------------------------------------------------------------------------------------------------


class _GitHubApi:
    def __init__(self, org: Org, base: str, path: str, query: dict[str, list[str]], raw_query: str) -> None:
        self.org = org
        self.base = base
        self.path = path.rstrip("/") or "/"
        self.query = query
        self.raw_query = raw_query

    def handle(self) -> _Reply:
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", self.path)
        if not m:
            raise _HttpError(_github_not_found())
        repo = self.org.github.get(f"{m.group(1)}/{m.group(2)}")
        if repo is None:
            raise _HttpError(_github_not_found())
        rest = m.group(3) or ""
        routes: list[tuple[str, Any]] = [
            (r"", lambda: _Reply(200, repo.repository)),
            (r"/pulls", lambda: self.paginate(self.list_pulls(repo))),
            (r"/pulls/(\d+)", lambda n: _Reply(200, self.pull(repo, int(n)))),
            (r"/pulls/(\d+)/commits", lambda n: self.paginate(self.pull_part(repo.pull_commits, n))),
            (r"/pulls/(\d+)/reviews", lambda n: self.paginate(self.pull_part(repo.pull_reviews, n))),
            (r"/commits", lambda: self.paginate(self.list_commits(repo))),
            (r"/commits/([0-9a-fA-F]{4,40})", lambda sha: _Reply(200, self.commit(repo, sha))),
            (r"/deployments", lambda: self.paginate(self.list_deployments(repo))),
            (r"/deployments/(\d+)", lambda i: _Reply(200, self.deployment(repo, int(i)))),
            (r"/deployments/(\d+)/statuses", lambda i: self.paginate(self.statuses(repo, int(i)))),
            (r"/actions/runs", lambda: self.list_runs(repo)),
            (r"/actions/runs/(\d+)", lambda i: _Reply(200, self.run(repo, int(i)))),
            (r"/actions/runs/(\d+)/jobs", lambda i: self.paginate(self.jobs(repo, int(i)), wrap="jobs")),
            (r"/issues", lambda: self.paginate(self.list_issues(repo))),
        ]
        for pattern, handler in routes:
            hit = re.fullmatch(pattern, rest)
            if hit:
                return handler(*hit.groups())
        raise _HttpError(_github_not_found())

    # -- pagination ----------------------------------------------------------------------------

    def page_window(self) -> tuple[int, int]:
        per_page = min(max(_int(self.query, "per_page", 30), 1), 100)
        page = max(_int(self.query, "page", 1), 1)
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

    def paginate(self, items: list[Any], wrap: str | None = None) -> _Reply:
        per_page, page = self.page_window()
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        body: Any = {"total_count": len(items), wrap: chunk} if wrap else chunk
        reply = _Reply(200, body)
        link = self.link_header(page, last)
        if link:
            reply.headers["Link"] = link
        return reply

    # -- endpoints -----------------------------------------------------------------------------

    def list_pulls(self, repo: Any) -> list[dict]:
        state = _first(self.query, "state", "open") or "open"
        sort = _first(self.query, "sort", "created") or "created"
        direction = _first(self.query, "direction") or ("desc" if sort == "created" else "asc")
        base = _first(self.query, "base")
        head = _first(self.query, "head")
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
        raise _HttpError(_github_not_found())

    def pull_part(self, table: dict[int, list[dict]], number: str) -> list[dict]:
        if int(number) not in table:
            raise _HttpError(_github_not_found())
        return table[int(number)]

    def list_commits(self, repo: Any) -> list[dict]:
        ref = _first(self.query, "sha")
        if ref and ref != repo.repository.get("default_branch"):
            start = self.resolve_ref(repo, ref)
            commits = _reachable(repo.all_commits, start)
        else:
            commits = repo.commits
        since, until = _ts(_first(self.query, "since")), _ts(_first(self.query, "until"))
        author = _first(self.query, "author")
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
        raise _HttpError(_github_not_found(f"No commit found for SHA: {ref}"))

    def commit(self, repo: Any, sha: str) -> dict:
        full = self.resolve_ref(repo, sha)
        item = dict(repo.all_commits[full])
        item["stats"] = {"total": 0, "additions": 0, "deletions": 0}
        item["files"] = []
        return item

    def list_deployments(self, repo: Any) -> list[dict]:
        out = repo.deployments
        for name in ("environment", "sha", "ref", "task"):
            value = _first(self.query, name)
            if value:
                out = [d for d in out if d[name] == value]
        return out

    def deployment(self, repo: Any, ident: int) -> dict:
        for d in repo.deployments:
            if d["id"] == ident:
                return d
        raise _HttpError(_github_not_found())

    def statuses(self, repo: Any, ident: int) -> list[dict]:
        if ident not in repo.deployment_statuses:
            raise _HttpError(_github_not_found())
        return repo.deployment_statuses[ident]

    def list_runs(self, repo: Any) -> _Reply:
        runs = repo.workflow_runs
        created = _first(self.query, "created")
        if created:
            try:
                rng = created_filter(created)
            except ValueError as err:
                raise _HttpError(
                    _Reply(
                        422,
                        {
                            "message": f"Invalid created filter: {created}",
                            "documentation_url": GITHUB_DOCS,
                            "status": "422",
                        },
                    )
                ) from err
            runs = [r for r in runs if _in_range(parse_time(r["created_at"]), rng)]
        filters = {"branch": "head_branch", "event": "event", "head_sha": "head_sha"}
        for param, key in filters.items():
            value = _first(self.query, param)
            if value:
                runs = [r for r in runs if r[key] == value]
        actor = _first(self.query, "actor")
        if actor:
            runs = [r for r in runs if r["actor"]["login"] == actor]
        status = _first(self.query, "status")
        if status:
            runs = [r for r in runs if status in (r["status"], r["conclusion"])]
        if (_first(self.query, "exclude_pull_requests") or "").lower() == "true":
            runs = [{**r, "pull_requests": []} for r in runs]
        return self.paginate(runs, wrap="workflow_runs")

    def run(self, repo: Any, ident: int) -> dict:
        for r in repo.workflow_runs:
            if r["id"] == ident:
                return r
        raise _HttpError(_github_not_found())

    def jobs(self, repo: Any, ident: int) -> list[dict]:
        self.run(repo, ident)  # 404 for an unknown run
        return repo.workflow_jobs.get(ident, [])

    def list_issues(self, repo: Any) -> list[dict]:
        """Issues and pull requests, as GitHub lists them: a pull request appears as an issue with a
        `pull_request` key. Filters `state`, `since` (updated at or after); `sort` created / updated."""
        state = _first(self.query, "state", "open") or "open"
        sort = _first(self.query, "sort", "created") or "created"
        direction = _first(self.query, "direction", "desc") or "desc"
        since = _ts(_first(self.query, "since"))
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
    from urllib.parse import parse_qsl

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


# --------------------------------------------------------------------------------------------------
# PagerDuty
# --------------------------------------------------------------------------------------------------


class _PagerDutyApi:
    def __init__(self, org: Org, base: str, path: str, query: dict[str, list[str]]) -> None:
        self.org = org
        self.base = base
        self.path = path.rstrip("/") or "/"
        self.query = query

    def handle(self) -> _Reply:
        pd = self.org.pagerduty
        if self.path == "/incidents":
            return self.offset_page("incidents", self.filter_incidents(pd.incidents))
        if self.path == "/log_entries":
            return self.offset_page("log_entries", self.log_entries(pd.log_entries))
        if self.path == "/services":
            return self.offset_page("services", pd.services)
        if self.path == "/users":
            return self.offset_page("users", pd.users)
        m = re.fullmatch(r"/(incidents|services|log_entries|users)/([A-Z0-9]+)", self.path)
        if m:
            table = {
                "incidents": pd.incidents,
                "services": pd.services,
                "log_entries": pd.log_entries,
                "users": pd.users,
            }[m.group(1)]
            singular = m.group(1).rstrip("s") if m.group(1) != "log_entries" else "log_entry"
            for item in table:
                if item["id"] == m.group(2):
                    return _Reply(200, {singular: item})
            return _pd_not_found()
        m = re.fullmatch(r"/incidents/([A-Z0-9]+)/log_entries", self.path)
        if m:
            entries = [e for e in pd.log_entries if e["incident"]["id"] == m.group(1)]
            return self.offset_page("log_entries", self.log_entries(entries))
        return _pd_not_found()

    def time_window(self) -> tuple[datetime | None, datetime | None]:
        try:
            return _ts(_first(self.query, "since")), _ts(_first(self.query, "until"))
        except ValueError as err:
            raise _HttpError(
                _Reply(
                    400,
                    {
                        "error": {
                            "message": "Invalid Input Provided",
                            "code": 2001,
                            "errors": ["Since is not a valid date."],
                        }
                    },
                )
            ) from err

    def filter_incidents(self, incidents: list[dict]) -> list[dict]:
        since, until = self.time_window()
        statuses = self.query.get("statuses[]") or []
        services = self.query.get("service_ids[]") or []
        urgencies = self.query.get("urgencies[]") or []
        out = []
        for inc in incidents:
            at = parse_time(inc["created_at"])
            if (since and at < since) or (until and at >= until):
                continue
            if statuses and inc["status"] not in statuses:
                continue
            if services and inc["service"]["id"] not in services:
                continue
            if urgencies and inc["urgency"] not in urgencies:
                continue
            out.append(inc)
        return sorted(out, key=lambda i: (i["created_at"], i["incident_number"]))

    def log_entries(self, entries: list[dict]) -> list[dict]:
        since, until = self.time_window()
        includes = set(self.query.get("include[]") or [])
        by_id = {i["id"]: i for i in self.org.pagerduty.incidents}
        out = []
        for entry in entries:
            at = parse_time(entry["created_at"])
            if (since and at < since) or (until and at >= until):
                continue
            if "incidents" in includes and entry["incident"]["id"] in by_id:
                entry = {**entry, "incident": by_id[entry["incident"]["id"]]}
            out.append(entry)
        return sorted(out, key=lambda e: (e["created_at"], e["id"]))

    def offset_page(self, key: str, items: list[dict]) -> _Reply:
        limit = min(max(_int(self.query, "limit", 25), 1), 100)
        offset = max(_int(self.query, "offset", 0), 0)
        chunk = items[offset : offset + limit]
        want_total = (_first(self.query, "total") or "").lower() == "true"
        return _Reply(
            200,
            {
                key: chunk,
                "limit": limit,
                "offset": offset,
                "total": len(items) if want_total else None,
                "more": offset + len(chunk) < len(items),
            },
        )
