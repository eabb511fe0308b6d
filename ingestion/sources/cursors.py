"""Per-key incremental cursors (high-water marks) kept in dlt's resource state.

The mark arithmetic is pure (`advanced_mark`, `start_from`), so it is tested without dlt; `Cursors` only
binds it to the state dict dlt commits with each load."""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from datetime import UTC, datetime, timedelta

import dlt

from ingestion.timestamps import parse_timestamp

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def start_from(mark: str | None, default: datetime, lookback: timedelta = timedelta(0)) -> datetime:
    """Where a sync of one key starts: its stored mark minus the look-back, or `default` before the first sync."""
    return parse_timestamp(mark) - lookback if mark else default


def advanced_mark(current: str | None, values: Iterable[datetime | None], now: datetime) -> str | None:
    """The new mark after seeing `values`: the newest one, but never past `now` (one record stamped in the
    future by a wrong clock would otherwise make every later sync skip everything until that date), and
    never behind `current`. None when the mark does not move."""
    latest = max((min(v, now) for v in values if v is not None), default=None)
    if latest is None or (current is not None and latest <= parse_timestamp(current)):
        return None
    return latest.isoformat()


class Cursors:
    """Per-key high-water marks (e.g. one per repository) kept in dlt's resource state, so they are
    committed with the load they describe and restored from the warehouse on the next run."""

    def __init__(self, start_date: datetime, *, full_refresh: bool = False,
                 state: MutableMapping[str, object] | None = None, clock: Clock = utc_now) -> None:
        state = dlt.current.resource_state() if state is None else state
        self._marks: dict[str, str] = state.setdefault("cursors", {})  # type: ignore[assignment]
        if full_refresh:
            self._marks.clear()
        self._start = start_date
        self._clock = clock

    def start(self, key: str, lookback: timedelta = timedelta(0)) -> datetime:
        return start_from(self._marks.get(key), self._start, lookback)

    def mark(self, key: str) -> datetime | None:
        """The stored high-water mark, or None before the first sync of `key`."""
        mark = self._marks.get(key)
        return parse_timestamp(mark) if mark else None

    def advance(self, key: str, values: Iterable[datetime | None]) -> None:
        """Move the mark to the newest value, never past now (see `advanced_mark`)."""
        new = advanced_mark(self._marks.get(key), values, self._clock())
        if new is not None:
            self._marks[key] = new

    def hold(self, key: str, value: datetime) -> None:
        """Move the mark back to `value` if it is past it: records from `value` on were not all processed
        (a budget stopped the sync), so the next sync starts there again."""
        mark = self._marks.get(key)
        if mark is None or parse_timestamp(mark) > value:
            self._marks[key] = value.isoformat()

    def restore(self, key: str, mark: datetime | None) -> None:
        """Put the mark back to what it was (None: no mark, a first sync)."""
        if mark is None:
            self._marks.pop(key, None)
        else:
            self._marks[key] = mark.isoformat()
