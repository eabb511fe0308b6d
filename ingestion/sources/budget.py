"""GitHub's limits as one run sees them: the run's own budget (SOURCES__GITHUB__MAX_REQUESTS_PER_RUN: GraphQL
points plus REST requests) and how long GitHub asks a client to wait (`Retry-After`, `X-RateLimit-Reset`)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingestion.errors import SourceError

MAX_WAIT_SECONDS = 3700.0  # one reset window: a longer wait means the server's clock or headers are wrong


class BudgetExhausted(SourceError):
    """This run's request budget (SOURCES__GITHUB__MAX_REQUESTS_PER_RUN) is spent: stop cleanly."""


@dataclass
class RunBudget:
    """Points (GraphQL) plus requests (REST; a 304 is free) one run may spend; None = unbounded."""

    limit: int | None = None
    spent: int = 0
    reserved: int = 0  # held back for queries already owed (the jobs of listed pages waiting for a fuller batch)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def can_spend(self, amount: int = 1) -> bool:
        return self.limit is None or self.spent + self.reserved + amount <= self.limit

    def spend(self, amount: int) -> None:
        with self._lock:
            self.spent += amount


def wait_seconds(headers: Mapping[str, str], *, default: float, now: float | None = None) -> float:
    """How long GitHub asks us to wait: Retry-After, else until X-RateLimit-Reset when Remaining is 0."""
    retry_after = headers.get("Retry-After") or headers.get("retry-after")
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_WAIT_SECONDS)
    remaining, reset = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Reset")
    if remaining == "0" and reset and reset.isdigit():
        moment = now if now is not None else datetime.now(UTC).timestamp()
        return min(max(float(reset) - moment, 0.0) + 1.0, MAX_WAIT_SECONDS)
    return default
