"""Incremental cursors: the pure mark arithmetic, and `Cursors` bound to a state dict with a pinned clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingestion.sources.cursors import Cursors, advanced_mark, start_from
from ingestion.timestamps import start_date_from

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
START = datetime(2026, 1, 1, tzinfo=UTC)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=UTC)


def test_the_first_sync_starts_at_the_start_date_and_later_ones_at_the_mark_minus_the_lookback() -> None:
    assert start_from(None, START) == START
    assert start_from(None, START, timedelta(days=3)) == START  # no look-back before the first sync
    assert start_from("2026-06-10T08:00:00+00:00", START) == at(10, 8)
    assert start_from("2026-06-10T08:00:00+00:00", START, timedelta(hours=2)) == at(10, 6)


def test_the_mark_moves_to_the_newest_value_and_never_back() -> None:
    assert advanced_mark(None, [at(3), None, at(5), at(4)], NOW) == "2026-06-05T00:00:00+00:00"
    assert advanced_mark("2026-06-05T00:00:00+00:00", [at(4)], NOW) is None
    assert advanced_mark("2026-06-05T00:00:00+00:00", [at(5)], NOW) is None
    assert advanced_mark(None, [], NOW) is None
    assert advanced_mark(None, [None], NOW) is None


def test_the_mark_never_passes_now() -> None:
    future = datetime(2027, 1, 1, tzinfo=UTC)  # a record stamped by a wrong clock
    assert advanced_mark(None, [at(3), future], NOW) == NOW.isoformat()


def test_cursors_keep_one_mark_per_key_in_the_state_they_are_given() -> None:
    state: dict = {}
    cursors = Cursors(START, state=state, clock=lambda: NOW)
    assert cursors.mark("acme/api") is None
    cursors.advance("acme/api", [at(2), datetime(2030, 1, 1, tzinfo=UTC)])
    cursors.advance("acme/web", [at(1)])
    assert state == {"cursors": {"acme/api": NOW.isoformat(), "acme/web": "2026-06-01T00:00:00+00:00"}}
    assert cursors.mark("acme/api") == NOW
    assert cursors.start("acme/web", timedelta(days=1)) == datetime(2026, 5, 31, tzinfo=UTC)
    assert cursors.start("acme/new") == START

    again = Cursors(START, state=state, clock=lambda: NOW)  # the next run restores the marks
    assert again.mark("acme/web") == at(1)
    Cursors(START, state=state, full_refresh=True)  # a full refresh forgets them
    assert state == {"cursors": {}}


def test_the_default_start_is_a_year_before_today_at_midnight() -> None:
    assert start_date_from(None, now=NOW) == datetime(2025, 6, 15, tzinfo=UTC)
    assert start_date_from("2026-02-03", now=NOW) == datetime(2026, 2, 3, tzinfo=UTC)
    assert start_date_from("2026-02-03T04:05:06+01:00") == datetime(2026, 2, 3, 3, 5, 6, tzinfo=UTC)
