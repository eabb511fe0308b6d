"""Timestamps as the APIs write them (layer 0, stdlib only): parsing, the `Z` form, and the default start date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse_timestamp(value: str) -> datetime:
    """ISO-8601 with Z or offset (GitHub, PagerDuty) → aware UTC datetime."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def isoformat_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_date_from(value: str | None, *, now: datetime | None = None) -> datetime:
    """Configured `start_date` (ISO date) or one year before today (`now` defaults to the clock)."""
    if value:
        return parse_timestamp(value if "T" in value else f"{value}T00:00:00+00:00")
    today = (now or datetime.now(UTC)).astimezone(UTC)
    return today.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=365)
