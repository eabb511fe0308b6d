"""What the replay server's per-tool routes share: a reply, an HTTP error carrying one, and the query
parameter and time-filter parsing both GitHub and PagerDuty accept."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass
class Reply:
    status: int
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def first(query: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[0] if values else default


def int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(first(query, name) or default)
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


def ts(text: str | None) -> datetime | None:
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


def in_range(value: datetime, rng: tuple[datetime | None, datetime | None, bool, bool]) -> bool:
    low, high, low_inc, high_inc = rng
    if low is not None and (value < low or (value == low and not low_inc)):
        return False
    return not (high is not None and (value > high or (value == high and not high_inc)))
