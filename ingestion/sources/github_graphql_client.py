"""A GitHub GraphQL client: one POST per query, GitHub's rate-limit budget read from every answer, an adaptive
page size, and clear one-line errors (never the token).

- The endpoint is derived from the REST `base_url`: api.github.com → https://api.github.com/graphql; GitHub
  Enterprise Server `https://HOST/api/v3` → `https://HOST/api/graphql`; any other base (a replay server) →
  `<base>/graphql`.
- Rate limits: `rateLimit { cost remaining resetAt }` (asked in every query) and the `X-RateLimit-*` headers;
  when the points are spent the client waits until the reset instead of guessing, honours `Retry-After` on a
  secondary limit (403/429), and keeps to at most 2,000 points a minute.
- Page size: a 502/504 or a timeout halves the page size and retries; after a few good answers it doubles
  again, up to its ceiling.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests import RequestException, Response

from ingestion.errors import SourceError, TokenRejected
from ingestion.sources import client as rest_client
from ingestion.sources.budget import BudgetExhausted, RunBudget, wait_seconds
from ingestion.sources.json_bodies import decode

__all__ = ["BudgetExhausted", "GraphQLClient", "PageSize", "RunBudget", "graphql_endpoint", "wait_seconds"]

TOOL = "GitHub GraphQL"
SHRINK_STATUS = (502, 504)
SECONDARY_POINTS_PER_MINUTE = 2000


def graphql_endpoint(base_url: str) -> str:
    """The GraphQL endpoint that goes with a REST base URL (github.com, GitHub Enterprise Server, replay)."""
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.hostname == "api.github.com":
        return "https://api.github.com/graphql"
    if parts.path.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


@dataclass
class PageSize:
    """A page size that halves on a gateway error or timeout and doubles back after `recover` good pages."""

    ceiling: int
    floor: int = 1
    recover: int = 3
    value: int = 0
    _good: int = 0

    def __post_init__(self) -> None:
        self.value = self.value or self.ceiling

    def shrink(self) -> bool:
        """Halve; False when already at the floor (the error is then final)."""
        self._good = 0
        if self.value <= self.floor:
            return False
        self.value = max(self.floor, self.value // 2)
        return True

    def succeeded(self) -> None:
        self._good += 1
        if self._good >= self.recover and self.value < self.ceiling:
            self.value, self._good = min(self.ceiling, self.value * 2), 0


class GraphQLClient:
    """POSTs queries to GitHub's GraphQL endpoint for one token."""

    def __init__(self, base_url: str, access_token: str, *, budget: RunBudget | None = None,
                 timeout: float = 60.0, attempts: int = 6,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.endpoint = graphql_endpoint(base_url)
        self.budget = budget or RunBudget()
        self.timeout, self.attempts = timeout, attempts
        self.sleep = sleep or (lambda seconds: rest_client.sleep(seconds))  # looked up when called: tests pin it
        self.waits: list[float] = []  # every wait asked for (rate limits, pacing)
        self.session = requests.Session()  # retries are ours (page size, waits), not a transport's
        self.session.headers.update({"Authorization": f"bearer {access_token}",
                                     "Content-Type": "application/json"})
        self.points = 0  # points this client spent (rateLimit.cost)
        self._minute: deque[tuple[float, int]] = deque()  # the last minute's queries: (when, points)
        self._minute_points = 0
        self._lock = threading.Lock()

    def query(self, build: Callable[[int], tuple[str, Mapping[str, Any]]], size: PageSize, *,
              force: bool = False) -> dict[str, Any]:
        """Run the query `build(page_size)` returns, shrinking the page on 502/504/timeouts; returns `data`.
        `force`: even when the run's budget is spent (it is still counted)."""
        if not force and not self.budget.can_spend():
            raise BudgetExhausted(f"{TOOL}: this run's request budget ({self.budget.limit}) is spent")
        for _attempt in range(self.attempts):
            text, variables = build(size.value)
            self._pace()
            try:
                response = self.session.post(self.endpoint, json={"query": text, "variables": dict(variables)},
                                             timeout=self.timeout)
            except RequestException as exc:
                if isinstance(exc, requests.Timeout) and size.shrink():
                    continue
                raise SourceError(f"{TOOL} could not be reached at {self.endpoint}: {type(exc).__name__}") from None
            outcome = self._outcome(response, size)
            if outcome is not None:
                size.succeeded()
                return outcome
        raise SourceError(f"{TOOL} kept failing at {self.endpoint} after {self.attempts} attempts")

    def _outcome(self, response: Response, size: PageSize) -> dict[str, Any] | None:
        """The data of a good answer; None to retry (after shrinking or waiting); raises when final."""
        status = response.status_code
        if status == 401:
            raise TokenRejected(f"{TOOL} rejected the token (401) for {self.endpoint}")
        if status in SHRINK_STATUS:
            if size.shrink():
                return None
            raise SourceError(f"{TOOL} answered {status} for {self.endpoint} even with a page of {size.value}")
        if status in (403, 429) or status >= 500:
            self._wait(response)
            return None
        if status != 200:
            detail = " ".join(response.text[:200].split())
            raise SourceError(f"{TOOL} answered {status} for {self.endpoint}: {detail}")
        try:
            body = decode(response)
        except ValueError:
            raise SourceError(f"{TOOL} sent a body that is not valid JSON for {self.endpoint}") from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            if any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors):
                self._wait(response)
                return None
            messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors[:3])
            raise SourceError(f"{TOOL} refused the query at {self.endpoint}: {messages}")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise SourceError(f"{TOOL} answered without data at {self.endpoint}")
        self._account(data.get("rateLimit"))
        return data

    def _account(self, rate: Any) -> None:
        cost = int(rate.get("cost") or 1) if isinstance(rate, dict) else 1
        with self._lock:
            self.points += cost
            self._minute.append((time.monotonic(), cost))
            self._minute_points += cost
        self.budget.spend(cost)

    def _pace(self) -> None:
        """GitHub's secondary limit: at most 2,000 points a minute (a query costs at least 1)."""
        while True:
            with self._lock:
                now = time.monotonic()
                while self._minute and now - self._minute[0][0] >= 60:  # a running sum: a sync asks thousands
                    self._minute_points -= self._minute.popleft()[1]
                wait = 60 - (now - self._minute[0][0]) if self._minute_points >= SECONDARY_POINTS_PER_MINUTE else 0.0
            if wait <= 0:
                return
            self.waits.append(wait)
            self.sleep(wait)

    def _wait(self, response: Response) -> None:
        """Sleep as GitHub says: `Retry-After` seconds, or until `X-RateLimit-Reset` when none remain."""
        wait = wait_seconds(response.headers, default=1.0, now=rest_client.clock())
        self.waits.append(wait)
        self.sleep(wait)
