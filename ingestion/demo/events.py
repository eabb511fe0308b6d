"""Product events for the demo organisation: the storefront's users, as Segment-shaped NDJSON files.

The product is the first `*-web` repository's service (`payments-web` in the default org). One of its
successful production deployments (the one nearest 40 % into the period with no release the next day) ships a
checkout bug: after the shipping step, 9 in 10 mobile checkouts and 4 in 10 others fail with a "Checkout Error"
event instead of reaching payment. The
first successful production deployment of the same service at least `FIX_AFTER` later fixes it. So the demo's
`product_funnel_daily` drops and recovers on the days those deployments landed, `product_metric_segments_daily`
shows mobile as the worst platform meanwhile, and `product_release_impact` shows both releases.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingestion.demo.org import Org

FIX_AFTER = timedelta(days=10)
SESSIONS_PER_DAY = 70
DEVICES = 350
PLATFORMS = (("desktop", 0.55), ("mobile", 0.35), ("tablet", 0.10))
BROWSERS = {"desktop": ("Chrome", "Firefox", "Safari", "Edge"), "mobile": ("Safari", "Chrome"),
            "tablet": ("Safari", "Chrome")}
COUNTRIES = ("GB", "DE", "US", "FR", "NL")
PLANS = ("free", "pro", "team")


@dataclass(frozen=True)
class ProductStory:
    """What the demo product's events show: which service, and the deployments that broke and fixed checkout."""

    service: str
    bug_deployment_id: int
    bug_shipped_at: datetime
    fix_deployment_id: int
    fix_shipped_at: datetime
    files: tuple[Path, ...]


def _successful_production(org: Org, repo: str) -> list[tuple[datetime, int]]:
    data = org.github[repo]
    shipped = []
    for deployment in data.deployments:
        if not str(deployment.get("environment", "")).lower().startswith("prod"):
            continue
        success = [s for s in data.deployment_statuses.get(deployment["id"], []) if s["state"] == "success"]
        if success:
            at = datetime.fromisoformat(min(s["created_at"] for s in success))
            shipped.append((at, deployment["id"]))
    return sorted(shipped)


def product_repository(org: Org) -> str:
    web = [repo for repo in org.github if repo.endswith("-web")]
    return min(web) if web else min(org.github)


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


def generate_events(org: Org, directory: Path, *, seed: int = 7) -> ProductStory:
    """Write a day of Segment-shaped events per NDJSON file into `directory`; return the story they tell."""
    repo = product_repository(org)
    service = repo.split("/", 1)[1]
    releases = _successful_production(org, repo)
    if len(releases) < 2:
        raise ValueError(f"the demo product {service} needs at least two production deployments")
    first, last = releases[0][0], releases[-1][0]
    target = first + (last - first) * 0.4
    # a release the day after the bug's would compare a window holding the bug's first day with a fully broken
    # one, and could look as harmful as the bug's own: the bug ships with the release nearest the target that has
    # no release the next day and full comparison windows (a week before it, the fix and a week after later), so
    # the story holds whatever day the demo ends
    release_days = {at.date() for at, _ in releases}
    earliest, latest = first + timedelta(days=8), last - FIX_AFTER - timedelta(days=8)

    def rank(release: tuple[datetime, int]) -> tuple[bool, bool, timedelta]:
        at = release[0]
        return (not earliest <= at <= latest, at.date() + timedelta(days=1) in release_days, abs(at - target))

    bug_at, bug_id = min(releases, key=rank)
    fix_at, fix_id = next((r for r in releases if r[0] >= bug_at + FIX_AFTER), releases[-1])

    rng = random.Random(seed)
    devices = [(f"anon-{uuid.UUID(int=rng.getrandbits(128))}", _pick(rng, PLATFORMS)) for _ in range(DEVICES)]
    profiles = {
        device: {"browser": rng.choice(BROWSERS[platform]), "country": rng.choice(COUNTRIES),
                 "plan": rng.choice(PLANS), "user": f"customer-{index:04d}" if rng.random() < 0.6 else None}
        for index, (device, platform) in enumerate(devices)
    }
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    day = first.date()
    while day <= last.date():
        events: list[dict[str, Any]] = []
        for _ in range(SESSIONS_PER_DAY):
            device, platform = rng.choice(devices)
            start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=rng.randrange(86_000))
            failure = (0.9 if platform == "mobile" else 0.4) if bug_at <= start < fix_at else 0.0
            events += _session(rng, device, platform, profiles[device], start, failure)
        path = directory / f"storefront-{day.isoformat()}.ndjson"
        path.write_text("".join(json.dumps(event) + "\n" for event in events))
        files.append(path)
        day += timedelta(days=1)
    return ProductStory(service, bug_id, bug_at, fix_id, fix_at, tuple(files))


def _session(rng: random.Random, device: str, platform: str, profile: dict[str, Any], start: datetime,
             failure: float) -> list[dict[str, Any]]:
    """One visit: browse, maybe cart → checkout → payment → order; a broken checkout fails with probability
    `failure` after shipping."""
    at = start
    events: list[dict[str, Any]] = []
    context = {"device": {"type": platform}, "browser": {"name": profile["browser"]},
               "location": {"country": profile["country"]}, "app": {"version": "4.2"},
               "traits": {"plan": profile["plan"]}}

    def emit(kind: str, **fields: Any) -> None:
        nonlocal at
        at += timedelta(seconds=rng.randint(8, 240))
        event = {"type": kind, "anonymousId": device, "messageId": f"demo-{uuid.UUID(int=rng.getrandbits(128))}",
                 "timestamp": at.isoformat().replace("+00:00", "Z"), "context": context, **fields}
        if profile["user"] and kind != "page" or profile["user"] and rng.random() < 0.5:
            event["userId"] = profile["user"]
        events.append(event)

    def page(path: str, title: str) -> None:
        load = rng.lognormvariate(6.6 if platform != "mobile" else 7.0, 0.35)
        emit("page", name=title, properties={"path": path, "title": title, "page_load_ms": round(load)})

    page("/", "Home")
    for _ in range(rng.randint(1, 4)):
        page(f"/products/{rng.randint(1, 60)}", "Product")
    if rng.random() < 0.45:
        emit("track", event="Cart Viewed")
        page("/cart", "Cart")
        if rng.random() < 0.65:
            emit("track", event="Checkout Started")
            page("/checkout/shipping", "Shipping")
            if rng.random() < failure:
                emit("track", event="Checkout Error", properties={"step": "shipping", "code": "ADDR_500"})
                return events
            if rng.random() < 0.75:
                emit("track", event="Payment Info Entered")
                if rng.random() < 0.8:
                    emit("track", event="Order Completed", properties={"revenue": round(rng.uniform(9, 300), 2)})
    return events


def product_vars(story: ProductStory) -> dict[str, Any]:
    """dbt vars naming the demo product's service, so release impact covers its deployments only."""
    return {"product_services": [story.service]}
