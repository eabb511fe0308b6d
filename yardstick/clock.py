"""Today's date, injectable: `YARDSTICK_TODAY` (an ISO date) pins it for a run, so a replay or a test sees the
same day whenever it runs; otherwise the UTC date."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

ENV = "YARDSTICK_TODAY"


def today() -> date:
    value = os.environ.get(ENV, "").strip()
    return date.fromisoformat(value) if value else datetime.now(UTC).date()
