"""The demo organisation's cast and story pieces: people's names, pull request titles, incident symptoms,
and the delivery profiles that give each team its DORA tier. Data only; `generator` draws from it."""

from __future__ import annotations

from dataclasses import dataclass

_FIRST_NAMES = (
    "ana",
    "ben",
    "chloe",
    "dev",
    "eli",
    "fatima",
    "gus",
    "hana",
    "ivan",
    "jun",
    "kofi",
    "lena",
    "marco",
    "nora",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sam",
    "tariq",
    "uma",
    "vik",
    "wen",
    "yara",
)
_SURNAMES = (
    "silva",
    "okafor",
    "nguyen",
    "patel",
    "moreau",
    "kowalski",
    "tanaka",
    "haddad",
    "berg",
    "costa",
    "mensah",
    "ivanova",
    "schmidt",
    "reyes",
    "larsen",
    "fischer",
    "ali",
    "romano",
    "sato",
    "novak",
)
_VERBS = ("Add", "Fix", "Refactor", "Improve", "Remove", "Update", "Speed up", "Harden", "Document", "Split")
_THINGS = (
    "retry logic",
    "pagination",
    "cache invalidation",
    "feature flag",
    "metrics export",
    "error handling",
    "rate limiting",
    "config loading",
    "input validation",
    "audit logging",
    "health check",
    "timeout handling",
    "schema migration",
    "search ranking",
    "checkout flow",
    "webhook handler",
    "session refresh",
    "dependency versions",
    "CI workflow",
    "dark mode",
)
_SYMPTOMS = (
    "Elevated 5xx",
    "Latency p99 above SLO",
    "Error rate spike",
    "Queue backlog growing",
    "Health check failing",
    "Timeouts talking to database",
)


@dataclass(frozen=True)
class _Profile:
    """Delivery behaviour of a team (drives its DORA tier)."""

    deploys_per_day: float
    change_fail: float
    coding_hours: tuple[float, float]
    pickup_hours: tuple[float, float]
    merge_hours: tuple[float, float]
    prs_per_week: tuple[int, int]


_PROFILES = (
    _Profile(2.0, 0.06, (1, 20), (0.2, 3), (0.1, 2), (2, 4)),  # elite
    _Profile(1.0, 0.12, (4, 40), (1, 12), (0.5, 8), (2, 3)),  # high
    _Profile(0.35, 0.25, (12, 90), (4, 40), (2, 30), (1, 3)),  # medium
    _Profile(0.15, 0.35, (24, 120), (12, 72), (6, 48), (1, 2)),  # low
)
