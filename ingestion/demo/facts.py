"""What the demo organisation's builder records and the helpers every tool's simulator shares: facts
(pull requests, issues, runs, deployments, incidents, people) as plain dataclasses, and deterministic ids,
SHAs and timestamps. No tool's JSON lives here: each `*_api` module renders its own."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Json = dict[str, Any]

# the committer GitHub stamps on merges made in its web UI (used by the GitHub simulator and the people list)
_WEB_FLOW = {"login": "web-flow", "id": 19864447, "name": "GitHub", "email": "noreply@github.com"}


def utc(value: datetime) -> datetime:
    """Normalise to an aware UTC datetime with whole seconds (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 with a ``Z`` suffix, as both APIs emit."""
    if value is None:
        return None
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha1(*parts: object) -> str:
    return hashlib.sha1("\x00".join(str(p) for p in parts).encode()).hexdigest()


def node_id(kind: str, ident: object) -> str:
    """GitHub's legacy global node id, e.g. ``MDQ6VXNlcjE=`` for ``04:User1``."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def _hash_int(*parts: object, span: int) -> int:
    return int(sha1(*parts)[:12], 16) % span


_PD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _pd_id(prefix: str, length: int, *parts: object) -> str:
    number = int(sha1(*parts), 16)
    chars = []
    for _ in range(length):
        number, rem = divmod(number, len(_PD_ALPHABET))
        chars.append(_PD_ALPHABET[rem])
    return prefix + "".join(chars)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "change"


def _display_name(login: str) -> str:
    base = re.split(r"[-_\[]", login)[0] or login
    return base[:1].upper() + base[1:]


def _is_bot(login: str) -> bool:
    return login.endswith(("[bot]", "-bot"))


class _Ids:
    """Allocates unique integer ids derived from timestamps (monotonic in time, order independent)."""

    def __init__(self, scale: int, offset: int = 0) -> None:
        self._scale = scale
        self._offset = offset
        self._taken: set[int] = set()

    def take(self, at: datetime) -> int:
        ident = int(utc(at).timestamp()) * self._scale + self._offset
        while ident in self._taken:
            ident += 1
        self._taken.add(ident)
        return ident


# --------------------------------------------------------------------------------------------------
# recorded facts
# --------------------------------------------------------------------------------------------------


@dataclass
class _Person:
    login: str
    name: str
    email: str


@dataclass
class _PullSpec:
    seq: int
    repo: str
    author: str
    title: str
    opened_at: datetime
    commit_times: list[datetime]
    commit_messages: list[str]
    branch: str
    body: str
    reviews: list[tuple[str, str, datetime]]
    merged_at: datetime | None
    closed_at: datetime | None
    merged_by: str | None
    squash: bool
    additions: int
    deletions: int
    changed_files: int
    commit_shas: list[str]
    merge_sha: str | None
    labels: list[str]


@dataclass
class _IssueSpec:
    seq: int
    repo: str
    author: str
    title: str
    body: str
    opened_at: datetime
    closed_at: datetime | None
    state_reason: str | None
    labels: list[str]
    assignee: str | None
    milestone: tuple[str, datetime] | None = None  # (title, due on)


@dataclass
class _DirectCommit:
    seq: int
    repo: str
    at: datetime
    message: str
    author: str
    sha: str


@dataclass
class _RunSpec:
    seq: int
    repo: str
    run_id: int
    name: str
    at: datetime
    head_sha: str | None
    conclusion: str | None
    duration: timedelta
    event: str
    run_attempt: int
    head_branch: str
    actor: str | None


@dataclass
class _DeploySpec:
    seq: int
    repo: str
    deployment_id: int
    environment: str
    at: datetime
    sha: str | None
    statuses: list[tuple[str, datetime]]
    description: str
    ref: str
    creator: str


@dataclass
class _IncidentSpec:
    seq: int
    incident_id: str
    service: str
    created_at: datetime
    title: str
    description: str
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    notes: list[tuple[datetime, str]]
    urgency: str
    responder: str | None


@dataclass
class _Commit:
    sha: str
    message: str
    author: str
    committer: str
    at: datetime
    parents: list[str]


def person_of(people: Mapping[str, _Person], login: str) -> _Person:
    """The recorded person behind a login, or a plausible default (GitHub's web-flow for merges)."""
    if login == "web-flow":
        return _Person("web-flow", str(_WEB_FLOW["name"]), str(_WEB_FLOW["email"]))
    return people.get(login) or _Person(login, _display_name(login), f"{login}@users.noreply.github.com")
