"""The HTTP client every API source shares: a dlt RESTClient with retries and clear one-line errors."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs.runtime_configuration import RuntimeConfiguration
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import HTTPError, Response
from requests.auth import AuthBase
from requests.exceptions import JSONDecodeError as RequestsJSONDecodeError

from ingestion.errors import SourceError, TokenRejected

RETRY_STATUS = (429, 500, 502, 503, 504)
BAD_JSON = (json.JSONDecodeError, RequestsJSONDecodeError)


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


class ApiClient:
    """A dlt RESTClient for one tool whose session retries 429/5xx (honouring Retry-After and GitHub's
    rate-limit 403) with exponential backoff from dlt's runtime settings, and which turns a final error
    into a one-line domain error naming the tool and URL — never the token."""

    def __init__(self, tool: str, base_url: str, auth: AuthBase, paginator: BasePaginator | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        runtime = resolve_configuration(RuntimeConfiguration())  # RUNTIME__REQUEST_* settings
        session = Client(
            raise_for_status=False,
            status_codes=RETRY_STATUS,
            retry_condition=_is_rate_limited,
            request_timeout=runtime.request_timeout,
            request_max_attempts=runtime.request_max_attempts,
            request_backoff_factor=runtime.request_backoff_factor,
            request_max_retry_delay=runtime.request_max_retry_delay,
        ).session
        self.tool = tool
        self.rest = RESTClient(base_url=base_url.rstrip("/"), auth=auth, paginator=paginator,
                               session=session, headers=dict(headers or {}))

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
            for number, page in enumerate(self.rest.paginate(path, hooks={"response": [_raise_for_status]},
                                                             **kwargs), start=1):
                # a server that repeats a page (a Link or offset that loops) would page forever
                digest = hashlib.sha256(json.dumps(page, sort_keys=True, default=str).encode()).hexdigest() \
                    if page else ""
                if digest in seen:
                    raise SourceError(f"{self.tool} repeated page {number - 1}'s records on page {number} of "
                                      f"{path} (pagination loops); stopping")
                if digest:
                    seen.add(digest)
                yield page
        except HTTPError as exc:
            raise self._error(exc) from None
        except BAD_JSON as exc:
            raise SourceError(f"{self.tool} sent a body that is not valid JSON for {path}: {exc}") from exc

    def get(self, path: str, **kwargs: Any) -> Any:
        """One GET returning the decoded body."""
        try:
            response = self.rest.get(path, hooks={"response": [_raise_for_status]}, **kwargs)
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
