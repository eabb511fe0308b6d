"""`yardstick demo`: a generated organisation served on 127.0.0.1 by the replay server, ingested through
the same dlt sources a real user points at api.github.com and PagerDuty, built, checked and published."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

from yardstick.env import environment
from yardstick.refresh import Progress, RefreshResult, refresh

__all__ = ["environment", "run_demo", "source_settings"]


def source_settings(server: object, repositories: list[str], start: date) -> dict[str, str]:
    """dlt settings pointing every source at a replay server, exactly as a user configures real APIs."""
    return {
        "SOURCES__GITHUB__BASE_URL": server.github_url,  # type: ignore[attr-defined]
        "SOURCES__GITHUB__ACCESS_TOKEN": server.github_token,  # type: ignore[attr-defined]
        "SOURCES__GITHUB__REPOSITORIES": json.dumps(repositories),
        "SOURCES__GITHUB__START_DATE": start.isoformat(),
        "SOURCES__PAGERDUTY__BASE_URL": server.pagerduty_url,  # type: ignore[attr-defined]
        "SOURCES__PAGERDUTY__API_TOKEN": server.pagerduty_token,  # type: ignore[attr-defined]
        "SOURCES__PAGERDUTY__START_DATE": start.isoformat(),
    }


def run_demo(warehouse: Path, *, teams: int = 3, weeks: int = 12, seed: int = 7,
             progress: Progress | None = None) -> RefreshResult:
    from ingestion.demo.events import generate_events, product_vars
    from ingestion.demo.generator import generate_org
    from ingestion.demo.server import ReplayServer

    progress = progress or Progress()
    today = date.today()
    with progress.step(f"Generate demo organisation ({teams} teams, {weeks} weeks)"):
        org = generate_org(teams=teams, weeks=weeks, seed=seed, end=today)
    with tempfile.TemporaryDirectory(prefix="yardstick-events-") as events_dir:
        with progress.step("Generate the demo product's page events"):
            story = generate_events(org, Path(events_dir), seed=seed)
        with ReplayServer(org) as server:
            progress.note(f"replay server on {server.url}")
            start = today - timedelta(weeks=weeks + 1)
            settings = {**source_settings(server, sorted(org.github), start), "SOURCES__EVENTS__PATHS": events_dir}
            with environment(settings):
                return refresh(warehouse, from_scratch=True, progress=progress, vars=product_vars(story))
