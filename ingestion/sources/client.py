"""The HTTP client every API source shares: a dlt RESTClient with retries and clear one-line errors.

- Waits follow the server: `Retry-After`, else (GitHub's rate-limit `403`/`429` with `X-RateLimit-Remaining: 0`)
  until `X-RateLimit-Reset`, else dlt's exponential backoff. Every wait goes through `sleep` (tests replace it).
- Conditional requests (`conditional=True`): the ETag of every page is kept in the resource's dlt state (so it
  is committed with the load it describes) and sent back as `If-None-Match`; a `304 Not Modified` is a page
  with no change (its records are loaded already), which GitHub does not count against the rate limit.
- A budget (`RunBudget`, SOURCES__GITHUB__MAX_REQUESTS_PER_RUN): every request but a 304 spends one;
  `BudgetExhausted` is raised before a request the budget cannot pay for.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from dlt.common import jsonpath
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs.runtime_configuration import RuntimeConfiguration
from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    retry_if_predicate,
    retry_if_status,
    wait_exponential_retry_after,
)
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import HTTPError, PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.exceptions import JSONDecodeError as RequestsJSONDecodeError
from tenacity import RetryCallState, Retrying, retry_any, retry_if_exception_type, stop_after_attempt

from ingestion.errors import SourceError, TokenRejected
from ingestion.sources.budget import BudgetExhausted, RunBudget, wait_seconds
from ingestion.sources.json_bodies import decode_once, digest

RETRY_STATUS = (429, 500, 502, 503, 504)
BAD_JSON = (json.JSONDecodeError, RequestsJSONDecodeError)
NOT_MODIFIED = 304


def sleep(seconds: float) -> None:
    """Every wait the REST and GraphQL clients make goes through here: tests replace it (no real waiting) and
    assert the wait that was asked for."""
    time.sleep(seconds)


def clock() -> float:
    """Now, as a Unix timestamp (X-RateLimit-Reset is one); tests pin it."""
    return time.time()


def _sanitize(url: str) -> str:
    """Drop the query string's values that could carry credentials (we never put tokens in URLs, but
    a user-supplied base_url might)."""
    return re.sub(r"(?i)(token|key|secret|password)=[^&]*", r"\1=***", url)


def _is_rate_limited(response: Response | None, exception: BaseException | None) -> bool:
    """GitHub's primary rate limit answers 403 with X-RateLimit-Remaining: 0 (secondary: Retry-After)."""
    return (
        response is not None
        and response.status_code == 403
        and (response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers)
    )


class _ServerWait(wait_exponential_retry_after):
    """dlt's wait (Retry-After, else exponential backoff), plus GitHub's primary limit: when no request
    remains, until X-RateLimit-Reset."""

    def _get_retry_after(self, retry_state: RetryCallState) -> float | None:
        outcome = retry_state.outcome
        if outcome is None:
            return None
        # a response, or the HTTPError carrying it that a response hook raised
        response = outcome.result() if not outcome.failed else getattr(outcome.exception(), "response", None)
        if not isinstance(response, Response):
            return None
        seconds = wait_seconds(response.headers, default=-1.0, now=clock())
        return None if seconds < 0 else seconds


def _session(runtime: RuntimeConfiguration) -> Session:
    """A requests session whose `send` retries as dlt's `Client` does (429/5xx, GitHub's rate-limit 403,
    connection errors and timeouts), waiting as the server says, through `sleep`."""
    session = Session(timeout=runtime.request_timeout, raise_for_status=False)
    adapter = HTTPAdapter(pool_maxsize=50)  # as dlt's Client: parallel child fetches share the pool
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    retry = Retrying(
        wait=_ServerWait(multiplier=runtime.request_backoff_factor, max=runtime.request_max_retry_delay),
        retry=retry_any(retry_if_status(RETRY_STATUS), retry_if_predicate(_is_rate_limited),
                        retry_if_exception_type(tuple(DEFAULT_RETRY_EXCEPTIONS))),
        stop=stop_after_attempt(runtime.request_max_attempts), reraise=True,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome is not None else None,
        sleep=lambda seconds: sleep(seconds),
    )
    session.send = retry.wraps(session.send)  # type: ignore[method-assign]
    return session


class _Conditional(AuthBase):
    """The source's auth, then `If-None-Match` with the ETag stored for the URL; checks the budget first."""

    def __init__(self, auth: AuthBase, etags: dict[str, Any] | None, budget: RunBudget | None) -> None:
        self.auth, self.etags, self.budget = auth, etags, budget

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        if self.budget is not None and not self.budget.can_spend():
            raise BudgetExhausted(f"this run's request budget ({self.budget.limit}) is spent")
        request = self.auth(request)
        stored = (self.etags or {}).get(str(request.url))
        if stored:
            request.headers["If-None-Match"] = stored["etag"]
        return request


class _RESTClient(RESTClient):
    """dlt's client, with a page's data selector parsed once per selector, not once per page: dlt hands the
    selector's text to jsonpath-ng for every page, which builds its parser anew each time (py-spy: 0.6 s of the
    GitHub Actions source's 7 s of CPU in a scale-0.1 full sync, `bench/results/2026-12-04-ingest-cpu.md`)."""

    def extract_response(self, response: Response, data_selector: jsonpath.TJsonPath) -> list[Any]:
        return super().extract_response(response, _compiled(data_selector))


@functools.lru_cache(maxsize=64)
def _compiled(selector: jsonpath.TJsonPath) -> jsonpath.TJsonPath:
    return jsonpath.compile_path(selector)


class ApiClient:
    """A dlt RESTClient for one tool whose session retries 429/5xx (honouring Retry-After and GitHub's
    rate-limit 403 until its reset) with exponential backoff from dlt's runtime settings, and which turns a
    final error into a one-line domain error naming the tool and URL — never the token. `conditional`: send
    the stored ETags (see the module); `budget`: count requests against it."""

    def __init__(self, tool: str, base_url: str, auth: AuthBase, paginator: BasePaginator | None = None,
                 headers: Mapping[str, str] | None = None, *, conditional: bool | Callable[[str], bool] = False,
                 budget: RunBudget | None = None) -> None:
        runtime = resolve_configuration(RuntimeConfiguration())  # RUNTIME__REQUEST_* settings
        self.tool, self.auth, self.conditional, self.budget = tool, auth, conditional, budget
        self.rest = _RESTClient(base_url=base_url.rstrip("/"), auth=auth, paginator=paginator,
                               session=_session(runtime), headers=dict(headers or {}))
        self.not_modified = 0  # 304s answered (not counted by GitHub)

    def _etags(self, path: str) -> dict[str, Any] | None:
        """This resource's stored ETags (dlt state), or None outside a resource or when `path` is not asked
        conditionally (a list whose unchanged records must still be seen, e.g. to re-read their children)."""
        if not (self.conditional(path) if callable(self.conditional) else self.conditional):
            return None
        try:
            import dlt

            state = dlt.current.resource_state()
        except Exception:  # noqa: BLE001 - no resource context (a worker thread, a plain call): no ETags
            return None
        etags: dict[str, Any] = state.setdefault("etags", {})
        return etags

    def _hooks(self, etags: dict[str, Any] | None) -> dict[str, list[Any]]:
        def account(response: Response, *args: Any, **kwargs: Any) -> None:
            decode_once(response)  # dlt's data selector and paginator and our readers share one decoding
            url = str(response.request.url)
            if response.status_code == NOT_MODIFIED:
                self.not_modified += 1
                stored = (etags or {}).get(url) or {}
                response._content = b"[]"  # no change: an empty page; paging goes on where it went before
                if stored.get("link"):
                    response.headers["Link"] = stored["link"]
                return
            if self.budget is not None:
                self.budget.spend(1)
            if etags is not None and response.status_code == 200 and response.headers.get("ETag"):
                etags[url] = {"etag": response.headers["ETag"], "link": response.headers.get("Link")}
        return {"response": [account, _raise_for_status]}

    def _auth(self, etags: dict[str, Any] | None) -> AuthBase:
        return _Conditional(self.auth, etags, self.budget)

    def _error(self, error: HTTPError) -> SourceError:
        """The one-line domain error for a response that stayed bad after retries."""
        response = error.response
        if response is None:
            return SourceError(f"{self.tool} could not be reached: {error}")
        url = _sanitize(response.url)
        if response.status_code == 401:
            return TokenRejected(f"{self.tool} rejected the token (401) for {url}")
        detail = " ".join(response.text[:200].split())
        return SourceError(f"{self.tool} answered {response.status_code} for {url}: {detail}")

    def pages(self, path: str, **kwargs: Any) -> Iterator[list[Any]]:
        """Every page of a paginated endpoint; a truncated or non-JSON body is a SourceError."""
        seen: set[str] = set()
        try:
            etags = self._etags(path)
            for number, page in enumerate(self.rest.paginate(path, hooks=self._hooks(etags), auth=self._auth(etags),
                                                             **kwargs), start=1):
                # a server that repeats a page (a Link or offset that loops) would page forever
                key = digest(page) if page else ""
                if key in seen:
                    raise SourceError(f"{self.tool} repeated page {number - 1}'s records on page {number} of "
                                      f"{path} (pagination loops); stopping")
                if key:
                    seen.add(key)
                yield page
        except HTTPError as exc:
            raise self._error(exc) from None
        except BAD_JSON as exc:
            raise SourceError(f"{self.tool} sent a body that is not valid JSON for {path}: {exc}") from exc

    def relative(self, url: str) -> str:
        """A URL of this API (a next page's link) as a path from the base URL, which resumes a listing there."""
        base = self.rest.base_url.rstrip("/")
        return url[len(base):] if url.startswith(base + "/") else url

    def get(self, path: str, **kwargs: Any) -> Any:
        """One GET returning the decoded body."""
        try:
            response = self.rest.get(path, hooks=self._hooks(None), auth=self._auth(None), **kwargs)
            return response.json()
        except HTTPError as exc:
            raise self._error(exc) from None
        except BAD_JSON as exc:
            raise SourceError(f"{self.tool} sent a body that is not valid JSON for {path}: {exc}") from exc


def _raise_for_status(response: Response, *args: Any, **kwargs: Any) -> None:
    """Raise HTTPError carrying the response: dlt's retry policy inspects it (429/5xx/rate-limit 403 are
    retried), and after the last attempt it reaches ApiClient, which words it for people."""
    if response.status_code >= 400:
        raise HTTPError(f"{response.status_code} for {_sanitize(response.url)}", response=response)
