"""Local replay server that serves an :class:`~ingestion.demo.org.Org` as the GitHub and PagerDuty APIs.

GitHub REST v3 lives under ``/github`` and PagerDuty REST v2 under ``/pagerduty``. Paths, query
parameters, pagination (GitHub ``Link`` headers, PagerDuty ``offset``/``limit``/``more``), auth errors
and rate-limit headers behave like the real services so ingestion code can run against it unchanged.
Tests can inject faults (429, 5xx, truncated bodies) and inspect every request that was made.

This module is the HTTP plumbing (dispatch, auth, faults, rate-limit headers, URL rewriting); each tool's
routes live beside its simulator: ``github_routes``, ``pagerduty_routes``, and ``jira_api``, ``gitlab_api``,
``jenkins_api`` (through ``tool_apis``).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from ingestion.demo import github_graphql, tool_apis
from ingestion.demo.github_graphql_cost import PointsBudget
from ingestion.demo.github_objects import GITHUB_API
from ingestion.demo.github_routes import GITHUB_DOCS, GitHubApi, github_not_found
from ingestion.demo.org import Org
from ingestion.demo.pagerduty_api import PAGERDUTY_API
from ingestion.demo.pagerduty_routes import PagerDutyApi, pd_not_found
from ingestion.demo.replies import HttpError, Reply

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


# --------------------------------------------------------------------------------------------------
# parameter helpers
# --------------------------------------------------------------------------------------------------





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
        self.graphql_budget = PointsBudget()
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
            self.graphql_budget = PointsBudget(self.graphql_budget.limit)

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

    def _refund(self) -> dict[str, str]:
        """Give back the request a 304 consumed; the rate-limit headers after it."""
        with self._lock:
            self._used = max(self._used - 1, 0)
        return self._rate_headers(consume=False)[0]

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
    ) -> Reply:
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
                    reply = Reply(
                        401, {"message": "Bad credentials", "documentation_url": GITHUB_DOCS, "status": "401"}
                    )
                elif graphql:  # POST /graphql: the GraphQL API
                    return self._graphql()
                elif exhausted:
                    reply = Reply(
                        403,
                        {
                            "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub "
                            "Support for help, please include the request ID.",
                            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                            "status": "403",
                        },
                    )
                elif method not in ("GET", "HEAD"):
                    reply = github_not_found()
                else:
                    reply = self._conditional(GitHubApi(server.org, server.github_url, path, query, raw_query).handle())
                    if reply.status == 304:  # GitHub does not count a 304 against the rate limit
                        headers = server._refund()
                reply.headers = {**headers, **reply.headers}
                return reply
            if prefix == "pagerduty":
                expected = f"Token token={server.pagerduty_token}"
                if (self.headers.get("Authorization") or "").strip() != expected:
                    return Reply(401, {"error": {"message": "Unauthorized", "code": 2006}})
                if method not in ("GET", "HEAD"):
                    return pd_not_found()
                return PagerDutyApi(server.org, server.pagerduty_url, path, query).handle()
            if prefix in tool_apis.PREFIXES:  # Jira, GitLab, Jenkins: routes in their own modules
                status, body, extra = tool_apis.handle(prefix, server.org, method, path, query, self.headers)
                text = isinstance(body, str)
                return Reply(status, None if text else body, raw=body.encode() if text else None,
                              content_type=extra.pop("Content-Type", Reply.content_type), headers=extra)
            return Reply(404, {"message": "Not Found"})
        except HttpError as err:
            err.reply.headers = {**headers, **err.reply.headers}
            return err.reply

    def _conditional(self, reply: Reply) -> Reply:
        """GitHub's conditional requests: a 200 carries an ETag of its body; a request whose `If-None-Match`
        names the current one gets `304 Not Modified` with no body."""
        if reply.status != 200 or reply.raw is not None:
            return reply
        digest = hashlib.sha256(json.dumps(reply.body, separators=(",", ":"), default=str).encode()).hexdigest()
        etag = f'"{digest[:40]}"'
        reply.headers = {**reply.headers, "ETag": etag}
        sent = [tag.strip().removeprefix("W/") for tag in (self.headers.get("If-None-Match") or "").split(",")]
        if etag in sent:
            return Reply(304, raw=b"", headers={"ETag": etag})
        return reply

    def _graphql(self) -> Reply:
        """GraphQL answers with its own points budget (not the REST one) in its X-RateLimit-* headers."""
        status, body, headers = github_graphql.respond(self.replay.org, self.body, self.replay.graphql_budget)
        return Reply(status, body, headers=headers)

    def _github_authorised(self) -> bool:
        header = (self.headers.get("Authorization") or "").strip()
        scheme, _, token = header.partition(" ")
        return scheme.lower() in ("bearer", "token") and token.strip() == self.replay.github_token

    @staticmethod
    def _fault_reply(prefix: str, fault: _Fault) -> Reply:
        extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.body is not None:
            return Reply(fault.status, raw=fault.body.encode(), headers=extra)
        if fault.status in (502, 503, 504):
            reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}[fault.status]
            html = _PROXY_HTML.format(code=fault.status, reason=reason).encode()
            return Reply(fault.status, raw=html, content_type="text/html", headers=extra)
        if prefix == "pagerduty":
            messages = {429: ("Rate Limit Exceeded", 2020), 500: ("Internal Server Error", 2001)}
            message, code = messages.get(fault.status, ("Error", 2000))
            return Reply(fault.status, {"error": {"message": message, "code": code}}, headers=extra)
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
        return Reply(fault.status, body, headers=extra)

    def _send(self, reply: Reply, method: str) -> None:
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





