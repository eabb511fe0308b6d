"""What every API source shares: an HTTP client with retries and clear errors, record projection with
validation, and per-key incremental cursors kept in dlt's resource state."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs.runtime_configuration import RuntimeConfiguration
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import HTTPError, Response
from requests.auth import AuthBase
from requests.exceptions import JSONDecodeError as RequestsJSONDecodeError

from yardstick.errors import PayloadError, SourceError, TokenRejected

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


# ---------------------------------------------------------------- projection

@dataclass(frozen=True)
class Field:
    """One column of a raw table: where it comes from in the payload (dotted path), its type and rules."""

    name: str
    path: str
    type: str = "text"  # text | bigint | bool | timestamp
    required: bool = False
    enum: frozenset[str] | None = None


def fields(*specs: tuple[Any, ...]) -> tuple[Field, ...]:
    return tuple(Field(*spec) for spec in specs)


def column_hints(spec: Sequence[Field]) -> dict[str, dict[str, Any]]:
    """dlt column hints so raw tables have stable types even when the first load is empty or NULL."""
    return {f.name: {"data_type": f.type if f.type != "timestamp" else "timestamp", "nullable": not f.required}
            for f in spec}


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def parse_timestamp(value: str) -> datetime:
    """ISO-8601 with Z or offset (GitHub, PagerDuty) → aware UTC datetime."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def project(record: Any, spec: Sequence[Field], *, source: str, endpoint: str,
            extra: Mapping[str, Any] | None = None, id_path: str = "id") -> dict[str, Any]:
    """Pick, type-check and convert the fields of one payload record. Anything off raises a PayloadError
    naming the source, endpoint and record id, so a bad load stops before it reaches the warehouse."""
    if not isinstance(record, Mapping):
        raise PayloadError(source, endpoint, None, f"expected a JSON object, got {type(record).__name__}")
    record_id = _lookup(record, id_path)
    row: dict[str, Any] = dict(extra or {})
    for f in spec:
        value = _lookup(record, f.path)
        if value is None:
            if f.required:
                raise PayloadError(source, endpoint, record_id, f"missing required field '{f.path}'")
            row[f.name] = None
            continue
        try:
            row[f.name] = _convert(value, f)
        except (TypeError, ValueError) as exc:
            raise PayloadError(source, endpoint, record_id, f"field '{f.path}': {exc}") from None
    return row


def _convert(value: Any, f: Field) -> Any:
    if f.type == "bigint":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an integer, got {value!r}")
        return value
    if f.type == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"expected true/false, got {value!r}")
        return value
    if f.type == "timestamp":
        if not isinstance(value, str):
            raise TypeError(f"expected an ISO-8601 timestamp, got {value!r}")
        return parse_timestamp(value)
    if isinstance(value, list):  # e.g. commit parents: space-separated SHAs
        return " ".join(str(item.get("sha", item)) if isinstance(item, Mapping) else str(item) for item in value)
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    if f.enum is not None and value not in f.enum:
        raise ValueError(f"unknown value {value!r} (expected one of {', '.join(sorted(f.enum))})")
    return value


# ---------------------------------------------------------------- incremental cursors

class Cursors:
    """Per-key high-water marks (e.g. one per repository) kept in dlt's resource state, so they are
    committed with the load they describe and restored from the warehouse on the next run."""

    def __init__(self, start_date: datetime, *, full_refresh: bool = False) -> None:
        state = dlt.current.resource_state()
        self._marks: dict[str, str] = state.setdefault("cursors", {})
        if full_refresh:
            self._marks.clear()
        self._start = start_date

    def start(self, key: str, lookback: timedelta = timedelta(0)) -> datetime:
        mark = self._marks.get(key)
        return parse_timestamp(mark) - lookback if mark else self._start

    def mark(self, key: str) -> datetime | None:
        """The stored high-water mark, or None before the first sync of `key`."""
        mark = self._marks.get(key)
        return parse_timestamp(mark) if mark else None

    def advance(self, key: str, values: Iterable[datetime | None]) -> None:
        """Move the mark to the newest value, but never past now: one record stamped in the future (a wrong
        clock) would otherwise make every later sync skip everything until that date."""
        now = datetime.now(UTC)
        latest = max((min(v, now) for v in values if v is not None), default=None)
        if latest is not None:
            current = self._marks.get(key)
            if current is None or latest > parse_timestamp(current):
                self._marks[key] = latest.isoformat()


def start_date_from(value: str | None) -> datetime:
    """Configured `start_date` (ISO date) or one year before today."""
    if value:
        return parse_timestamp(value if "T" in value else f"{value}T00:00:00+00:00")
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=365)


def isoformat_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")




# ---------------------------------------------------------------- raw tables

TableSpec = tuple[Sequence[Field], tuple[str, ...]]  # (columns, primary key)


def table_hints(spec: TableSpec) -> dict[str, Any]:
    """Keyword arguments for `@dlt.resource` / `make_hints`: merge on the primary key, typed columns."""
    columns, primary_key = spec
    return {"primary_key": list(primary_key), "write_disposition": "merge", "columns": column_hints(columns)}


def to_table(rows: list[dict[str, Any]], table: str, spec: TableSpec) -> Any:
    """Send rows from a resource to another raw table with that table's own key and column hints."""
    return dlt.mark.with_hints(rows, dlt.mark.make_hints(table_name=table, **table_hints(spec)),
                               create_table_variant=True)
