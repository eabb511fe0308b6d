"""Deterministic builder of GitHub REST v3 and PagerDuty REST v2 payloads for a fake organisation.

The builder records *facts* (a pull request was opened, merged, reviewed; a deployment happened; an
incident was triggered) in any order and ``build()`` turns them into exactly the JSON documents the real
APIs return: full ``pulls/get`` objects, commit list items with a consistent parent graph, deployments
with statuses, workflow runs, PagerDuty services, incidents and log entries.

Everything is deterministic: SHAs are sha1 digests of commit content, ids are derived from content or
timestamps, and no wall clock or unseeded randomness is used. API URLs point at ``https://api.github.com``
and ``https://api.pagerduty.com``; the replay server rewrites them to its own base URL when serving.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ingestion.demo.copilot_api import CopilotData
from ingestion.demo.gitlab_api import GitLabData
from ingestion.demo.jenkins_api import JenkinsData
from ingestion.demo.jira_api import JiraData

GITHUB_API = "https://api.github.com"
GITHUB_WEB = "https://github.com"
PAGERDUTY_API = "https://api.pagerduty.com"

REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")

_WEB_FLOW = {"login": "web-flow", "id": 19864447, "name": "GitHub", "email": "noreply@github.com"}

Json = dict[str, Any]


# --------------------------------------------------------------------------------------------------
# public data containers
# --------------------------------------------------------------------------------------------------


@dataclass
class RepoData:
    """Every payload the GitHub API would return for one repository."""

    full_name: str
    repository: Json = field(default_factory=dict)
    pulls: list[Json] = field(default_factory=list)
    pull_commits: dict[int, list[Json]] = field(default_factory=dict)
    pull_reviews: dict[int, list[Json]] = field(default_factory=dict)
    commits: list[Json] = field(default_factory=list)
    all_commits: dict[str, Json] = field(default_factory=dict)
    deployments: list[Json] = field(default_factory=list)
    deployment_statuses: dict[int, list[Json]] = field(default_factory=dict)
    workflow_runs: list[Json] = field(default_factory=list)
    workflow_jobs: dict[int, list[Json]] = field(default_factory=dict)  # run id -> jobs of its latest attempt
    issues: list[Json] = field(default_factory=list)  # issues only; the server lists pull requests with them


@dataclass
class PagerDutyData:
    """Every payload the PagerDuty API would return for the account."""

    services: list[Json] = field(default_factory=list)
    incidents: list[Json] = field(default_factory=list)
    log_entries: list[Json] = field(default_factory=list)
    users: list[Json] = field(default_factory=list)


@dataclass
class Org:
    """A built organisation: GitHub repositories keyed by ``owner/repo`` plus the PagerDuty account."""

    github: dict[str, RepoData]
    pagerduty: PagerDutyData
    owner: str = "acme"
    jira: JiraData | None = None  # Jira site (issues, statuses, boards, sprints), served under /jira
    gitlab: GitLabData | None = None  # GitLab projects (MRs, pipelines, deployments), served under /gitlab
    jenkins: JenkinsData | None = None  # Jenkins jobs and their builds, served under /jenkins
    copilot: CopilotData | None = None  # Copilot usage reports and seats, served under /copilot

    def as_dict(self) -> Json:
        """Plain-JSON representation (handy for determinism checks and fixtures)."""
        return asdict(self)


class IssueRef:
    """Handle to an issue returned by :meth:`OrgBuilder.issue`; its number (shared with pull requests, as
    on GitHub) settles only when every issue and pull request of the repository is recorded."""

    def __init__(self, builder: OrgBuilder, spec: _IssueSpec | _PullSpec) -> None:
        self._builder = builder
        self._spec = spec

    @property
    def repo(self) -> str:
        return self._spec.repo

    @property
    def number(self) -> int:
        return self._builder._number(self._spec.repo, self._spec.opened_at, self._spec.seq)


class PullRef(IssueRef):
    """Handle to a pull request returned by :meth:`OrgBuilder.pull_request`.

    ``number`` is resolved lazily because numbers follow ``opened_at`` order and later calls may
    open earlier pull requests (or issues, which share the sequence).
    """

    _spec: _PullSpec

    @property
    def head_sha(self) -> str:
        return self._spec.commit_shas[-1]

    @property
    def commit_shas(self) -> list[str]:
        return list(self._spec.commit_shas)

    @property
    def merge_commit_sha(self) -> str | None:
        return self._spec.merge_sha

    @property
    def merged_at(self) -> datetime | None:
        return self._spec.merged_at

    @property
    def branch(self) -> str:
        return self._spec.branch

    def __repr__(self) -> str:
        return f"PullRef({self.repo}#{self.number}, head={self.head_sha[:7]}, merge={self.merge_commit_sha})"


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# builder
# --------------------------------------------------------------------------------------------------


class OrgBuilder:
    """Collects facts about a fake organisation and renders API-shaped payloads in :meth:`build`."""

    def __init__(self, owner: str = "acme", *, default_branch: str = "main") -> None:
        self.owner = owner
        self.default_branch = default_branch
        self._people: dict[str, _Person] = {}
        self._repos: list[str] = []
        self._pulls: list[_PullSpec] = []
        self._issues: list[_IssueSpec] = []
        self._direct: list[_DirectCommit] = []
        self._runs: list[_RunSpec] = []
        self._deploys: list[_DeploySpec] = []
        self._services: dict[str, str] = {}
        self._incidents: list[_IncidentSpec] = []
        self._shas: set[str] = set()
        self._seq = 0
        self._deploy_ids = _Ids(1)
        self._run_ids = _Ids(4)
        self._pd_ids: set[str] = set()

    # -- registration --------------------------------------------------------------------------

    def person(self, login: str, name: str | None = None, email: str | None = None) -> None:
        """Register a GitHub user (unknown logins used elsewhere are auto-registered)."""
        name = name or _display_name(login)
        email = email or f"{login}@users.noreply.github.com"
        self._people[login] = _Person(login, name, email)

    def repo(self, full_name: str) -> None:
        """Register a repository ``owner/name`` (repos used elsewhere are auto-registered)."""
        if "/" not in full_name:
            raise ValueError(f"repository must be 'owner/name', got {full_name!r}")
        if full_name not in self._repos:
            self._repos.append(full_name)

    def pull_request(
        self,
        repo: str,
        *,
        author: str,
        title: str,
        opened_at: datetime,
        commit_times: list[datetime],
        branch: str | None = None,
        body: str = "",
        reviews: list[tuple[str, str, datetime]] | tuple = (),
        merged_at: datetime | None = None,
        closed_at: datetime | None = None,
        merged_by: str | None = None,
        squash: bool = False,
        additions: int = 10,
        deletions: int = 2,
        changed_files: int = 1,
        commit_messages: list[str] | None = None,
        labels: list[str] | None = None,
    ) -> PullRef:
        """Record a pull request with its branch commits, reviews and optional merge."""
        if not commit_times:
            raise ValueError("a pull request needs at least one commit")
        self.repo(repo)
        self._touch(author)
        seq = self._next()
        times = sorted(utc(t) for t in commit_times)
        branch = branch or f"{author}/{_slug(title)}"
        messages = list(commit_messages or [])
        defaults = [title, "Address review feedback", "Fix failing tests", "Tidy up", "Update docs"]
        while len(messages) < len(times):
            i = len(messages)
            messages.append(defaults[i] if i < len(defaults) else f"WIP {i + 1}")
        shas = [
            self._unique_sha("commit", repo, branch, author, iso(t), i, messages[i])
            for i, t in enumerate(times)
        ]
        merged = utc(merged_at) if merged_at else None
        closed = utc(closed_at) if closed_at else None
        if merged and (closed is None or closed < merged):
            closed = merged
        merge_sha = None
        if merged:
            kind = "squash" if squash else "merge"
            merge_sha = self._unique_sha(kind, repo, shas[-1], iso(merged), title)
            self._touch(merged_by or author)
        for reviewer, state, _ in reviews:
            if state not in REVIEW_STATES:
                raise ValueError(f"unknown review state {state!r}")
            self._touch(reviewer)
        spec = _PullSpec(
            seq=seq,
            repo=repo,
            author=author,
            title=title,
            opened_at=utc(opened_at),
            commit_times=times,
            commit_messages=messages,
            branch=branch,
            body=body,
            reviews=[(r, s, utc(t)) for r, s, t in reviews],
            merged_at=merged,
            closed_at=closed,
            merged_by=(merged_by or author) if merged else None,
            squash=squash,
            additions=additions,
            deletions=deletions,
            changed_files=changed_files,
            commit_shas=shas,
            merge_sha=merge_sha,
            labels=list(labels or []),
        )
        self._pulls.append(spec)
        return PullRef(self, spec)

    def issue(
        self,
        repo: str,
        *,
        author: str,
        title: str,
        opened_at: datetime,
        body: str = "",
        closed_at: datetime | None = None,
        state_reason: str | None = None,
        labels: list[str] | None = None,
        assignee: str | None = None,
    ) -> IssueRef:
        """Record a GitHub issue (numbered with the repository's pull requests, in opened order).
        ``state_reason``: ``completed`` (the default when closed), ``not_planned`` or ``reopened``."""
        self.repo(repo)
        self._touch(author)
        if assignee:
            self._touch(assignee)
        if closed_at is not None and state_reason is None:
            state_reason = "completed"
        spec = _IssueSpec(self._next(), repo, author, title, body, utc(opened_at),
                          utc(closed_at) if closed_at else None, state_reason, list(labels or []), assignee)
        self._issues.append(spec)
        return IssueRef(self, spec)

    def direct_commit(self, repo: str, *, at: datetime, message: str, author: str) -> str:
        """Commit straight onto the default branch; returns the commit SHA."""
        self.repo(repo)
        self._touch(author)
        sha = self._unique_sha("direct", repo, author, iso(at), message)
        self._direct.append(_DirectCommit(self._next(), repo, utc(at), message, author, sha))
        return sha

    def workflow_run(
        self,
        repo: str,
        *,
        name: str,
        at: datetime,
        head_sha: str | None = None,
        conclusion: str | None = "success",
        duration_minutes: float = 5,
        event: str = "push",
        run_attempt: int = 1,
        head_branch: str = "main",
        actor: str | None = None,
    ) -> int:
        """Record a completed GitHub Actions run created at ``at``; returns the run id.

        ``head_sha=None`` runs on the default-branch head as of ``at``. For ``run_attempt > 1`` the
        run keeps its original ``created_at`` (``at``) while ``run_started_at`` moves to the re-run.
        """
        self.repo(repo)
        if actor:
            self._touch(actor)
        run_id = self._run_ids.take(at)
        self._runs.append(
            _RunSpec(
                self._next(),
                repo,
                run_id,
                name,
                utc(at),
                head_sha,
                conclusion,
                timedelta(minutes=duration_minutes),
                event,
                run_attempt,
                head_branch,
                actor,
            )
        )
        return run_id

    def deployment(
        self,
        repo: str,
        *,
        environment: str,
        at: datetime,
        sha: str | None = None,
        statuses: list[tuple[str, datetime]] | None = None,
        description: str = "",
        ref: str = "main",
        creator: str = "deploy-bot",
    ) -> int:
        """Record a deployment (``sha=None`` deploys the default-branch head as of ``at``)."""
        self.repo(repo)
        self._touch(creator)
        at = utc(at)
        if statuses is None:
            statuses = [("in_progress", at), ("success", at + timedelta(minutes=5))]
        for state, _ in statuses:
            if state not in DEPLOYMENT_STATES:
                raise ValueError(f"unknown deployment state {state!r}")
        deployment_id = self._deploy_ids.take(at)
        self._deploys.append(
            _DeploySpec(
                self._next(),
                repo,
                deployment_id,
                environment,
                at,
                sha,
                [(s, utc(t)) for s, t in statuses],
                description,
                ref,
                creator,
            )
        )
        return deployment_id

    def service(self, name: str) -> str:
        """Register a PagerDuty service; returns its id (idempotent per name)."""
        if name not in self._services:
            self._services[name] = self._unique_pd_id("P", 6, "service", self.owner, name)
        return self._services[name]

    def incident(
        self,
        service: str,
        *,
        created_at: datetime,
        title: str,
        description: str = "",
        acknowledged_at: datetime | None = None,
        resolved_at: datetime | None = None,
        notes: list[tuple[datetime, str]] | tuple = (),
        urgency: str = "high",
        responder: str | None = None,
    ) -> str:
        """Record a PagerDuty incident on ``service`` (a service name or id); returns the incident id."""
        name = self._service_name(service)
        if responder:
            self._touch(responder)
        incident_id = self._unique_pd_id("Q", 13, "incident", name, iso(created_at), title)
        self._incidents.append(
            _IncidentSpec(
                self._next(),
                incident_id,
                name,
                utc(created_at),
                title,
                description or title,
                utc(acknowledged_at) if acknowledged_at else None,
                utc(resolved_at) if resolved_at else None,
                sorted(((utc(t), text) for t, text in notes), key=lambda n: n[0]),
                urgency,
                responder,
            )
        )
        return incident_id

    # -- internals -----------------------------------------------------------------------------

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _touch(self, login: str) -> None:
        if login not in self._people:
            self.person(login)

    def _unique_sha(self, *parts: object) -> str:
        sha = sha1(*parts)
        salt = 0
        while sha in self._shas:
            salt += 1
            sha = sha1(*parts, salt)
        self._shas.add(sha)
        return sha

    def _unique_pd_id(self, prefix: str, length: int, *parts: object) -> str:
        ident = _pd_id(prefix, length, *parts)
        salt = 0
        while ident in self._pd_ids:
            salt += 1
            ident = _pd_id(prefix, length, *parts, salt)
        self._pd_ids.add(ident)
        return ident

    def _service_name(self, service: str) -> str:
        if service in self._services:
            return service
        for name, ident in self._services.items():
            if ident == service:
                return name
        self.service(service)
        return service

    def head_at(self, repo: str, at: datetime) -> str:
        """SHA of the default-branch head as of ``at`` given the facts recorded so far."""
        at = utc(at)
        events = [(d.at, d.sha) for d in self._direct if d.repo == repo and d.at <= at]
        events += [
            (p.merged_at, p.merge_sha)
            for p in self._pulls
            if p.repo == repo and p.merged_at and p.merge_sha and p.merged_at <= at
        ]
        if not events:
            return sha1("root", repo)
        return max(events)[1]

    def _number(self, repo: str, opened_at: datetime, seq: int) -> int:
        """Issues and pull requests share one number sequence per repository, in opened order."""
        same = sorted((x.opened_at, x.seq) for x in [*self._pulls, *self._issues] if x.repo == repo)
        return same.index((opened_at, seq)) + 1

    def build(self) -> Org:
        """Render every recorded fact into API payloads."""
        return _Renderer(self).render()


# --------------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------------


class _Renderer:
    def __init__(self, b: OrgBuilder) -> None:
        self.b = b
        self.owner = b.owner
        self.branch = b.default_branch
        pr_ids = _Ids(1)
        self.pull_ids = {
            p.seq: pr_ids.take(p.opened_at)
            for p in sorted(b._pulls, key=lambda p: (p.opened_at, p.repo, p.seq))
        }
        review_ids = _Ids(1)
        reviews = sorted((at, p.seq, i) for p in b._pulls for i, (_, _, at) in enumerate(p.reviews))
        self.review_ids = {(seq, i): review_ids.take(at) for at, seq, i in reviews}
        # deployment status ids are unique across the organisation, as GitHub's are (not per repository)
        status_ids = _Ids(2, 1)
        statuses = sorted((at, d.deployment_id, i) for d in b._deploys
                          for i, (_, at) in enumerate(sorted(d.statuses, key=lambda s: s[1])))
        self.status_ids = {(deployment_id, i): status_ids.take(at) for at, deployment_id, i in statuses}

    # -- shared objects ------------------------------------------------------------------------

    def user_id(self, login: str) -> int:
        if login == "web-flow":
            return _WEB_FLOW["id"]
        return 1_000_000 + _hash_int("user", login, span=90_000_000)

    def user(self, login: str) -> Json:
        uid = self.user_id(login)
        quoted = login.replace("[", "%5B").replace("]", "%5D")
        url = f"{GITHUB_API}/users/{quoted}"
        return {
            "login": login,
            "id": uid,
            "node_id": node_id("User" if not _is_bot(login) else "Bot", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{GITHUB_WEB}/{login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": "Bot" if _is_bot(login) else "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def org_user(self, owner: str) -> Json:
        obj = self.user(owner)
        oid = 9_000_000 + _hash_int("org", owner, span=1_000_000)
        obj.update(
            id=oid,
            node_id=node_id("Organization", oid),
            type="Organization",
            avatar_url=f"https://avatars.githubusercontent.com/u/{oid}?v=4",
        )
        return obj

    def person(self, login: str) -> _Person:
        if login == "web-flow":
            return _Person("web-flow", _WEB_FLOW["name"], _WEB_FLOW["email"])
        return self.b._people.get(login) or _Person(
            login, _display_name(login), f"{login}@users.noreply.github.com"
        )

    def repo_id(self, full: str) -> int:
        return 500_000_000 + _hash_int("repo", full, span=400_000_000)

    def repo_min(self, full: str) -> Json:
        owner, name = full.split("/", 1)
        rid = self.repo_id(full)
        api = f"{GITHUB_API}/repos/{full}"
        return {
            "id": rid,
            "node_id": node_id("Repository", rid),
            "name": name,
            "full_name": full,
            "private": True,
            "owner": self.org_user(owner),
            "html_url": f"{GITHUB_WEB}/{full}",
            "description": f"{name} service",
            "fork": False,
            "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "assignees_url": f"{api}/assignees{{/user}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "comments_url": f"{api}/comments{{/number}}",
            "commits_url": f"{api}/commits{{/sha}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "contributors_url": f"{api}/contributors",
            "deployments_url": f"{api}/deployments",
            "downloads_url": f"{api}/downloads",
            "events_url": f"{api}/events",
            "forks_url": f"{api}/forks",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "hooks_url": f"{api}/hooks",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "issues_url": f"{api}/issues{{/number}}",
            "keys_url": f"{api}/keys{{/key_id}}",
            "labels_url": f"{api}/labels{{/name}}",
            "languages_url": f"{api}/languages",
            "merges_url": f"{api}/merges",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "releases_url": f"{api}/releases{{/id}}",
            "stargazers_url": f"{api}/stargazers",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "tags_url": f"{api}/tags",
            "teams_url": f"{api}/teams",
            "trees_url": f"{api}/git/trees{{/sha}}",
        }

    def repo_full(
        self, full: str, created: datetime, updated: datetime, pushed: datetime, open_issues: int
    ) -> Json:
        obj = self.repo_min(full)
        obj.update(
            {
                "created_at": iso(created),
                "updated_at": iso(updated),
                "pushed_at": iso(pushed),
                "git_url": f"git://github.com/{full}.git",
                "ssh_url": f"git@github.com:{full}.git",
                "clone_url": f"{GITHUB_WEB}/{full}.git",
                "svn_url": f"{GITHUB_WEB}/{full}",
                "homepage": None,
                "size": 1000 + _hash_int("size", full, span=50_000),
                "stargazers_count": 0,
                "watchers_count": 0,
                "language": "Python" if full.endswith("-api") else "TypeScript",
                "has_issues": True,
                "has_projects": True,
                "has_downloads": True,
                "has_wiki": False,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": False,
                "disabled": False,
                "open_issues_count": open_issues,
                "license": None,
                "allow_forking": False,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": [],
                "visibility": "private",
                "forks": 0,
                "open_issues": open_issues,
                "watchers": 0,
                "default_branch": self.branch,
            }
        )
        return obj

    # -- GitHub --------------------------------------------------------------------------------

    def commit_item(self, full: str, c: _Commit) -> Json:
        api = f"{GITHUB_API}/repos/{full}"
        author, committer = self.person(c.author), self.person(c.committer)
        verified = c.committer == "web-flow"
        return {
            "sha": c.sha,
            "node_id": node_id("Commit", f"{self.repo_id(full)}:{c.sha}"),
            "commit": {
                "author": {"name": author.name, "email": author.email, "date": iso(c.at)},
                "committer": {"name": committer.name, "email": committer.email, "date": iso(c.at)},
                "message": c.message,
                "tree": {"sha": sha1("tree", c.sha), "url": f"{api}/git/trees/{sha1('tree', c.sha)}"},
                "url": f"{api}/git/commits/{c.sha}",
                "comment_count": 0,
                "verification": {
                    "verified": verified,
                    "reason": "valid" if verified else "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": iso(c.at) if verified else None,
                },
            },
            "url": f"{api}/commits/{c.sha}",
            "html_url": f"{GITHUB_WEB}/{full}/commit/{c.sha}",
            "comments_url": f"{api}/commits/{c.sha}/comments",
            "author": self.user(c.author),
            "committer": self.user(c.committer),
            "parents": [
                {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{GITHUB_WEB}/{full}/commit/{p}"}
                for p in c.parents
            ],
        }

    def render_repo(self, full: str) -> RepoData:
        b = self.b
        pulls = sorted((p for p in b._pulls if p.repo == full), key=lambda p: (p.opened_at, p.seq))
        issues = [i for i in b._issues if i.repo == full]
        numbered = sorted([*pulls, *issues], key=lambda x: (x.opened_at, x.seq))
        numbers = {x.seq: n + 1 for n, x in enumerate(numbered)}
        direct = [d for d in b._direct if d.repo == full]
        runs = [r for r in b._runs if r.repo == full]
        deploys = [d for d in b._deploys if d.repo == full]

        times: list[datetime] = [d.at for d in direct] + [r.at for r in runs] + [d.at for d in deploys]
        for p in pulls:
            times += [p.opened_at, *p.commit_times]
        root_at = (min(times) if times else datetime(2020, 1, 1, tzinfo=UTC)) - timedelta(days=1)
        root_at = root_at.replace(hour=9, minute=0, second=0)

        # main-branch history (first-parent chain) sorted by time
        commits: dict[str, _Commit] = {}
        root = _Commit(
            sha1("root", full), "Initial commit", self.owner_admin(full), self.owner_admin(full), root_at, []
        )
        events: list[tuple[datetime, str, Any]] = [(d.at, d.sha, d) for d in direct]
        events += [(p.merged_at, p.merge_sha, p) for p in pulls if p.merged_at and p.merge_sha]
        events.sort(key=lambda e: (e[0], e[1]))
        main: list[_Commit] = [root]
        for at, sha, src in events:
            prev = main[-1].sha
            if isinstance(src, _DirectCommit):
                c = _Commit(sha, src.message, src.author, src.author, at, [prev])
            elif src.squash:
                msg = f"{src.title} (#{numbers[src.seq]})"
                extra = [f"* {m}" for m in src.commit_messages]
                if len(extra) > 1:
                    msg += "\n\n" + "\n\n".join(extra)
                c = _Commit(sha, msg, src.author, "web-flow", at, [prev])
            else:
                head = f"{self.owner_of(full)}/{src.branch}"
                msg = f"Merge pull request #{numbers[src.seq]} from {head}\n\n{src.title}"
                c = _Commit(
                    sha, msg, src.merged_by or src.author, "web-flow", at, [prev, src.commit_shas[-1]]
                )
            main.append(c)
        main_times = [c.at for c in main]

        def head_at(t: datetime) -> _Commit:
            i = bisect.bisect_right(main_times, utc(t)) - 1
            return main[max(i, 0)]

        for c in main:
            commits[c.sha] = c
        for p in pulls:
            parent = head_at(p.commit_times[0]).sha
            for sha, t, msg in zip(p.commit_shas, p.commit_times, p.commit_messages, strict=True):
                commits[sha] = _Commit(sha, msg, p.author, p.author, t, [parent])
                parent = sha

        # reachable from the default-branch head
        reachable: set[str] = set()
        stack = [main[-1].sha]
        while stack:
            sha = stack.pop()
            if sha in reachable or sha not in commits:
                continue
            reachable.add(sha)
            stack.extend(commits[sha].parents)
        ordered = sorted((commits[s] for s in reachable), key=lambda c: (c.at, c.sha), reverse=True)
        all_items = {sha: self.commit_item(full, c) for sha, c in commits.items()}
        data = RepoData(full_name=full)
        data.all_commits = all_items
        data.commits = [all_items[c.sha] for c in ordered]

        updated_all = [main[-1].at]
        # pull requests
        for p in pulls:
            number = numbers[p.seq]
            data.pull_commits[number] = [all_items[s] for s in p.commit_shas]
            reviews = []
            for i, (reviewer, state, at) in sorted(enumerate(p.reviews), key=lambda r: (r[1][2], r[0])):
                idx = bisect.bisect_right(p.commit_times, at) - 1
                commit_id = p.commit_shas[max(idx, 0)]
                reviews.append((reviewer, state, at, commit_id, self.review_ids[(p.seq, i)]))
            data.pull_reviews[number] = [self.review(full, number, p, *r) for r in reviews]
            base_at = p.merged_at or p.closed_at or max([p.opened_at, *p.commit_times])
            base_sha = head_at(base_at - timedelta(seconds=1) if p.merged_at else base_at).sha
            data.pulls.append(self.pull(full, number, p, base_sha))
            updated_all.append(
                max(
                    p.opened_at,
                    *(r[2] for r in p.reviews),
                    p.merged_at or p.opened_at,
                    p.closed_at or p.opened_at,
                )
            )
        data.pulls.sort(key=lambda x: x["number"])

        # deployments
        for d in sorted(deploys, key=lambda d: (d.at, d.deployment_id)):
            sha = d.sha or head_at(d.at).sha
            dep = self.deployment(full, d, sha)
            statuses = []
            for i, (state, at) in enumerate(sorted(d.statuses, key=lambda s: s[1])):
                statuses.append(self.deployment_status(full, d, state, at, self.status_ids[(d.deployment_id, i)]))
            statuses.reverse()
            if statuses:
                dep["updated_at"] = statuses[0]["updated_at"]
            data.deployments.append(dep)
            data.deployment_statuses[d.deployment_id] = statuses
        data.deployments.sort(key=lambda x: (x["created_at"], x["id"]), reverse=True)

        # workflow runs
        run_numbers: dict[str, int] = {}
        rendered = []
        for r in sorted(runs, key=lambda r: (r.at, r.run_id)):
            run_numbers[r.name] = run_numbers.get(r.name, 0) + 1
            head = commits.get(r.head_sha) if r.head_sha else head_at(r.at)
            rendered.append(
                self.workflow_run(full, r, run_numbers[r.name], r.head_sha or head.sha, head, pulls, numbers)
            )
        data.workflow_runs = sorted(rendered, key=lambda x: (x["created_at"], x["id"]), reverse=True)
        data.workflow_jobs = {run["id"]: self.workflow_jobs(full, run) for run in data.workflow_runs}
        data.issues = sorted((self.issue(full, numbers[i.seq], i) for i in issues), key=lambda x: x["number"])

        open_prs = sum(1 for p in data.pulls if p["state"] == "open")
        data.repository = self.repo_full(full, root_at, max(updated_all), main[-1].at, open_prs)
        return data

    def owner_admin(self, full: str) -> str:
        admins = sorted(self.b._people)
        return admins[0] if admins else self.owner_of(full)

    @staticmethod
    def owner_of(full: str) -> str:
        return full.split("/", 1)[0]

    def pull(self, full: str, number: int, p: _PullSpec, base_sha: str) -> Json:
        api = f"{GITHUB_API}/repos/{full}"
        web = f"{GITHUB_WEB}/{full}"
        pid = self.pull_ids[p.seq]
        head_sha = p.commit_shas[-1]
        updated = max(
            [p.opened_at, *(r[2] for r in p.reviews)] + [t for t in (p.merged_at, p.closed_at) if t]
        )
        owner = self.owner_of(full)
        merged = p.merged_at is not None
        state = "closed" if (p.closed_at or merged) else "open"
        review_comments = sum(1 for r in p.reviews if r[1] != "APPROVED")
        return {
            "url": f"{api}/pulls/{number}",
            "id": pid,
            "node_id": node_id("PullRequest", pid),
            "html_url": f"{web}/pull/{number}",
            "diff_url": f"{web}/pull/{number}.diff",
            "patch_url": f"{web}/pull/{number}.patch",
            "issue_url": f"{api}/issues/{number}",
            "number": number,
            "state": state,
            "locked": False,
            "title": p.title,
            "user": self.user(p.author),
            "body": p.body or None,
            "created_at": iso(p.opened_at),
            "updated_at": iso(updated),
            "closed_at": iso(p.closed_at),
            "merged_at": iso(p.merged_at),
            "merge_commit_sha": p.merge_sha if merged else sha1("test-merge", full, head_sha, base_sha),
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [self.label(full, name) for name in p.labels],
            "milestone": None,
            "draft": False,
            "commits_url": f"{api}/pulls/{number}/commits",
            "review_comments_url": f"{api}/pulls/{number}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "statuses_url": f"{api}/statuses/{head_sha}",
            "head": {
                "label": f"{owner}:{p.branch}",
                "ref": p.branch,
                "sha": head_sha,
                "user": self.org_user(owner),
                "repo": self.repo_min(full),
            },
            "base": {
                "label": f"{owner}:{self.branch}",
                "ref": self.branch,
                "sha": base_sha,
                "user": self.org_user(owner),
                "repo": self.repo_min(full),
            },
            "_links": {
                "self": {"href": f"{api}/pulls/{number}"},
                "html": {"href": f"{web}/pull/{number}"},
                "issue": {"href": f"{api}/issues/{number}"},
                "comments": {"href": f"{api}/issues/{number}/comments"},
                "review_comments": {"href": f"{api}/pulls/{number}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/pulls/{number}/commits"},
                "statuses": {"href": f"{api}/statuses/{head_sha}"},
            },
            "author_association": "MEMBER",
            "auto_merge": None,
            "active_lock_reason": None,
            # detail-only fields (pulls/get); the list endpoint strips them
            "merged": merged,
            "mergeable": None if state == "closed" else True,
            "rebaseable": None if state == "closed" else True,
            "mergeable_state": "unknown" if state == "closed" else "clean",
            "merged_by": self.user(p.merged_by) if merged and p.merged_by else None,
            "comments": 0,
            "review_comments": review_comments,
            "maintainer_can_modify": False,
            "commits": len(p.commit_shas),
            "additions": p.additions,
            "deletions": p.deletions,
            "changed_files": p.changed_files,
        }

    def label(self, full: str, name: str) -> Json:
        lid = 4_000_000_000 + _hash_int("label", full, name, span=900_000_000)
        return {
            "id": lid,
            "node_id": node_id("Label", lid),
            "url": f"{GITHUB_API}/repos/{full}/labels/{name}",
            "name": name,
            "color": sha1("color", name)[:6],
            "default": False,
            "description": None,
        }

    def review(
        self,
        full: str,
        number: int,
        p: _PullSpec,
        reviewer: str,
        state: str,
        at: datetime,
        commit_id: str,
        rid: int,
    ) -> Json:
        bodies = {
            "APPROVED": "LGTM",
            "CHANGES_REQUESTED": "A few things to fix before this lands.",
            "COMMENTED": "Left some comments.",
        }
        html = f"{GITHUB_WEB}/{full}/pull/{number}#pullrequestreview-{rid}"
        api = f"{GITHUB_API}/repos/{full}/pulls/{number}"
        return {
            "id": rid,
            "node_id": node_id("PullRequestReview", rid),
            "user": self.user(reviewer),
            "body": bodies.get(state, ""),
            "state": state,
            "html_url": html,
            "pull_request_url": api,
            "author_association": "MEMBER",
            "_links": {"html": {"href": html}, "pull_request": {"href": api}},
            "submitted_at": iso(at),
            "commit_id": commit_id,
        }

    def deployment(self, full: str, d: _DeploySpec, sha: str) -> Json:
        api = f"{GITHUB_API}/repos/{full}"
        return {
            "url": f"{api}/deployments/{d.deployment_id}",
            "id": d.deployment_id,
            "node_id": node_id("Deployment", d.deployment_id),
            "task": "deploy",
            "original_environment": d.environment,
            "environment": d.environment,
            "description": d.description or None,
            "created_at": iso(d.at),
            "updated_at": iso(d.at),
            "statuses_url": f"{api}/deployments/{d.deployment_id}/statuses",
            "repository_url": api,
            "creator": self.user(d.creator),
            "sha": sha,
            "ref": d.ref,
            "payload": {},
            "transient_environment": False,
            "production_environment": d.environment == "production",
            "performed_via_github_app": None,
        }

    def deployment_status(self, full: str, d: _DeploySpec, state: str, at: datetime, sid: int) -> Json:
        api = f"{GITHUB_API}/repos/{full}"
        descriptions = {
            "success": "Deployment finished successfully.",
            "failure": "Deployment failed.",
            "error": "Deployment errored.",
            "in_progress": "Deployment started.",
            "queued": "Deployment queued.",
            "pending": "Deployment pending.",
            "inactive": "Deployment superseded.",
        }
        log = f"{GITHUB_WEB}/{full}/actions/runs/{d.deployment_id}"
        return {
            "url": f"{api}/deployments/{d.deployment_id}/statuses/{sid}",
            "id": sid,
            "node_id": node_id("DeploymentStatus", sid),
            "state": state,
            "creator": self.user(d.creator),
            "description": descriptions.get(state, ""),
            "environment": d.environment,
            "target_url": log,
            "created_at": iso(at),
            "updated_at": iso(at),
            "deployment_url": f"{api}/deployments/{d.deployment_id}",
            "repository_url": api,
            "environment_url": "",
            "log_url": log,
            "performed_via_github_app": None,
        }

    def workflow_run(
        self,
        full: str,
        r: _RunSpec,
        run_number: int,
        head_sha: str,
        head: _Commit | None,
        pulls: list[_PullSpec],
        numbers: dict[int, int],
    ) -> Json:
        api = f"{GITHUB_API}/repos/{full}"
        rid = r.run_id
        workflow_id = 10_000_000 + _hash_int("workflow", full, r.name, span=80_000_000)
        check_suite_id = rid * 3 + 7
        started = r.at + (r.duration + timedelta(minutes=3)) * (r.run_attempt - 1)
        finished = started + r.duration
        linked = [
            p
            for p in pulls
            if r.event == "pull_request" and (p.branch == r.head_branch or head_sha in p.commit_shas)
        ]
        actor = r.actor
        if actor is None:
            actor = linked[0].author if linked else (head.author if head else self.owner_admin(full))
            if actor == "web-flow" and head is not None:
                actor = head.author
        display = linked[0].title if linked else (head.message.splitlines()[0] if head else r.name)
        head_commit = None
        if head is not None:
            a, c = self.person(head.author), self.person(head.committer)
            head_commit = {
                "id": head.sha,
                "tree_id": sha1("tree", head.sha),
                "message": head.message,
                "timestamp": iso(head.at),
                "author": {"name": a.name, "email": a.email},
                "committer": {"name": c.name, "email": c.email},
            }
        file = _slug(r.name) + ".yml"
        minimal_repo = {"id": self.repo_id(full), "url": api, "name": full.split("/", 1)[1]}
        return {
            "id": rid,
            "name": r.name,
            "node_id": node_id("WorkflowRun", rid),
            "head_branch": r.head_branch,
            "head_sha": head_sha,
            "path": f".github/workflows/{file}",
            "display_title": display,
            "run_number": run_number,
            "event": r.event,
            "status": "completed" if r.conclusion else "in_progress",
            "conclusion": r.conclusion,
            "workflow_id": workflow_id,
            "check_suite_id": check_suite_id,
            "check_suite_node_id": node_id("CheckSuite", check_suite_id),
            "url": f"{api}/actions/runs/{rid}",
            "html_url": f"{GITHUB_WEB}/{full}/actions/runs/{rid}",
            "pull_requests": [
                {
                    "url": f"{api}/pulls/{numbers[p.seq]}",
                    "id": self.pull_ids[p.seq],
                    "number": numbers[p.seq],
                    "head": {"ref": p.branch, "sha": head_sha, "repo": minimal_repo},
                    "base": {"ref": self.branch, "sha": p.commit_shas[0], "repo": minimal_repo},
                }
                for p in linked
            ],
            "created_at": iso(r.at),
            "updated_at": iso(finished if r.conclusion else started),
            "actor": self.user(actor),
            "run_attempt": r.run_attempt,
            "referenced_workflows": [],
            "run_started_at": iso(started),
            "triggering_actor": self.user(actor),
            "jobs_url": f"{api}/actions/runs/{rid}/jobs",
            "logs_url": f"{api}/actions/runs/{rid}/logs",
            "check_suite_url": f"{api}/check-suites/{check_suite_id}",
            "artifacts_url": f"{api}/actions/runs/{rid}/artifacts",
            "cancel_url": f"{api}/actions/runs/{rid}/cancel",
            "rerun_url": f"{api}/actions/runs/{rid}/rerun",
            "previous_attempt_url": (
                f"{api}/actions/runs/{rid}/attempts/{r.run_attempt - 1}" if r.run_attempt > 1 else None
            ),
            "workflow_url": f"{api}/actions/workflows/{workflow_id}",
            "head_commit": head_commit,
            "repository": self.repo_min(full),
            "head_repository": self.repo_min(full),
        }

    def workflow_jobs(self, full: str, run: Json) -> list[Json]:
        """The jobs of a run's latest attempt: CI builds then tests, a deploy workflow one `deploy` job."""
        names = ["deploy"] if run["name"].lower().startswith("deploy") else ["build", "test"]
        started = datetime.fromisoformat(run["run_started_at"])
        finished = datetime.fromisoformat(run["updated_at"]) if run["conclusion"] else None
        span = (finished - started) / len(names) if finished else None
        api = f"{GITHUB_API}/repos/{full}"
        jobs = []
        for index, name in enumerate(names):
            job_id = run["id"] * 10 + index
            job_start = started + span * index if span is not None else started
            job_end = job_start + span if span is not None else None
            # a failed run fails in its last job; the earlier ones succeeded
            conclusion = run["conclusion"] if index == len(names) - 1 or run["conclusion"] != "failure" \
                else "success"
            steps = ["Set up job", "Run actions/checkout@v4", f"Run {name}", "Complete job"]
            jobs.append({
                "id": job_id, "run_id": run["id"], "workflow_name": run["name"], "head_branch": run["head_branch"],
                "run_url": f"{api}/actions/runs/{run['id']}", "run_attempt": run["run_attempt"],
                "node_id": node_id("CheckRun", job_id), "head_sha": run["head_sha"],
                "url": f"{api}/actions/jobs/{job_id}",
                "html_url": f"{GITHUB_WEB}/{full}/actions/runs/{run['id']}/job/{job_id}",
                "status": "completed" if job_end else "in_progress", "conclusion": conclusion if job_end else None,
                "created_at": run["created_at"], "started_at": iso(job_start), "completed_at": iso(job_end),
                "name": name,
                "steps": [{"name": step, "status": "completed" if job_end else "in_progress",
                           "conclusion": conclusion if job_end else None, "number": n + 1,
                           "started_at": iso(job_start), "completed_at": iso(job_end)}
                          for n, step in enumerate(steps)],
                "check_run_url": f"{api}/check-runs/{job_id}", "labels": ["ubuntu-latest"],
                "runner_id": 1 + index, "runner_name": f"GitHub Actions {1 + index}", "runner_group_id": 1,
                "runner_group_name": "GitHub Actions",
            })
        return jobs

    def issue(self, full: str, number: int, i: _IssueSpec) -> Json:
        api = f"{GITHUB_API}/repos/{full}"
        iid = 2_000_000_000 + _hash_int("issue", full, number, span=900_000_000)
        closed = i.closed_at is not None
        updated = i.closed_at or i.opened_at
        return {
            "url": f"{api}/issues/{number}", "repository_url": api,
            "labels_url": f"{api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{number}/comments", "events_url": f"{api}/issues/{number}/events",
            "html_url": f"{GITHUB_WEB}/{full}/issues/{number}", "id": iid, "node_id": node_id("Issue", iid),
            "number": number, "title": i.title, "user": self.user(i.author),
            "labels": [self.label(full, name) for name in i.labels],
            "state": "closed" if closed else "open", "locked": False,
            "assignee": self.user(i.assignee) if i.assignee else None,
            "assignees": [self.user(i.assignee)] if i.assignee else [], "milestone": None, "comments": 0,
            "created_at": iso(i.opened_at), "updated_at": iso(updated), "closed_at": iso(i.closed_at),
            "author_association": "MEMBER", "active_lock_reason": None, "body": i.body or None,
            "timeline_url": f"{api}/issues/{number}/timeline", "performed_via_github_app": None,
            "state_reason": i.state_reason,
        }

    # -- PagerDuty -----------------------------------------------------------------------------

    def pd_web(self) -> str:
        return f"https://{self.owner}.pagerduty.com"

    def pd_ref(self, kind: str, ident: str, summary: str) -> Json:
        paths = {
            "service": "services",
            "user": "users",
            "escalation_policy": "escalation_policies",
            "incident": "incidents",
            "team": "teams",
        }
        web = {"service": "service-directory"}.get(kind, paths[kind])
        return {
            "id": ident,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{PAGERDUTY_API}/{paths[kind]}/{ident}",
            "html_url": f"{self.pd_web()}/{web}/{ident}",
        }

    def pd_user_id(self, login: str) -> str:
        return _pd_id("P", 6, "pd-user", self.owner, login)

    def pd_user_ref(self, login: str) -> Json:
        return self.pd_ref("user", self.pd_user_id(login), self.person(login).name)

    def render_pagerduty(self) -> PagerDutyData:
        b = self.b
        data = PagerDutyData()
        incidents = sorted(b._incidents, key=lambda i: (i.created_at, i.seq))
        earliest = min([i.created_at for i in incidents], default=datetime(2020, 1, 1, tzinfo=UTC))
        svc_created = (earliest - timedelta(days=90)).replace(hour=12, minute=0, second=0)
        responders: set[str] = set()
        for name, sid in sorted(b._services.items(), key=lambda kv: kv[0]):
            mine = [i for i in incidents if i.service == name]
            policy = _pd_id("P", 6, "policy", self.owner, name)
            data.services.append(
                {
                    "id": sid,
                    "name": name,
                    "description": f"{name} production service",
                    "created_at": iso(svc_created),
                    "updated_at": iso(svc_created),
                    "status": "critical" if any(i.resolved_at is None for i in mine) else "active",
                    "teams": [],
                    "alert_creation": "create_alerts_and_incidents",
                    "addons": [],
                    "scheduled_actions": [],
                    "support_hours": None,
                    "last_incident_timestamp": iso(mine[-1].created_at) if mine else None,
                    "escalation_policy": self.pd_ref("escalation_policy", policy, f"{name}-ep"),
                    "incident_urgency_rule": {"type": "constant", "urgency": "high"},
                    "acknowledgement_timeout": None,
                    "auto_resolve_timeout": None,
                    "integrations": [],
                    "alert_grouping": None,
                    "alert_grouping_timeout": None,
                    "alert_grouping_parameters": {"type": None, "config": None},
                    "response_play": None,
                    "type": "service",
                    "summary": name,
                    "self": f"{PAGERDUTY_API}/services/{sid}",
                    "html_url": f"{self.pd_web()}/service-directory/{sid}",
                }
            )

        for number, inc in enumerate(incidents, start=1):
            sid = b._services[inc.service]
            svc_ref = self.pd_ref("service", sid, inc.service)
            policy = _pd_id("P", 6, "policy", self.owner, inc.service)
            responder = inc.responder or f"{inc.service}-oncall"
            responders.add(responder)
            user_ref = self.pd_user_ref(responder)
            summary = f"[#{number}] {inc.title}"
            inc_ref = self.pd_ref("incident", inc.incident_id, summary)
            inc_ref["type"] = "incident_reference"
            entries: list[Json] = []

            def entry(
                kind: str,
                at: datetime,
                text: str,
                agent: Json,
                channel: Json,
                *extra: object,
                inc: _IncidentSpec = inc,
                svc_ref: Json = svc_ref,
                inc_ref: Json = inc_ref,
            ) -> Json:
                lid = _pd_id("R", 25, "log", inc.incident_id, kind, iso(at), *extra)
                return {
                    "id": lid,
                    "type": kind,
                    "summary": text,
                    "self": f"{PAGERDUTY_API}/log_entries/{lid}",
                    "html_url": (
                        f"{self.pd_web()}/incidents/{inc.incident_id}/log_entries/{lid}"
                        if kind == "trigger_log_entry"
                        else None
                    ),
                    "created_at": iso(at),
                    "agent": agent,
                    "channel": channel,
                    "service": svc_ref,
                    "incident": inc_ref,
                    "teams": [],
                    "contexts": [],
                }

            trigger = entry(
                "trigger_log_entry",
                inc.created_at,
                "Triggered through the API.",
                {**svc_ref},
                {"type": "api", "summary": inc.title, "details": {}},
            )
            trigger["event_details"] = {"description": inc.title}
            entries.append(trigger)
            if inc.acknowledged_at:
                entries.append(
                    entry(
                        "acknowledge_log_entry",
                        inc.acknowledged_at,
                        f"Acknowledged by {user_ref['summary']}.",
                        user_ref,
                        {"type": "website"},
                    )
                )
            for i, (at, text) in enumerate(inc.notes):
                entries.append(
                    entry(
                        "annotate_log_entry",
                        at,
                        f"Note added by {user_ref['summary']}.",
                        user_ref,
                        {"type": "note", "summary": text},
                        i,
                    )
                )
            if inc.resolved_at:
                entries.append(
                    entry(
                        "resolve_log_entry",
                        inc.resolved_at,
                        f"Resolved by {user_ref['summary']}.",
                        user_ref,
                        {"type": "website"},
                    )
                )
            data.log_entries.extend(entries)

            if inc.resolved_at:
                status, last_change, last_by = "resolved", inc.resolved_at, user_ref
            elif inc.acknowledged_at:
                status, last_change, last_by = "acknowledged", inc.acknowledged_at, user_ref
            else:
                status, last_change, last_by = "triggered", inc.created_at, svc_ref
            updated = max(
                [
                    inc.created_at,
                    *(t for t in (inc.acknowledged_at, inc.resolved_at) if t),
                    *(t for t, _ in inc.notes),
                ]
            )
            data.incidents.append(
                {
                    "incident_number": number,
                    "title": inc.title,
                    "description": inc.description,
                    "created_at": iso(inc.created_at),
                    "updated_at": iso(updated),
                    "status": status,
                    "incident_key": sha1("key", inc.incident_id)[:32],
                    "service": svc_ref,
                    "assignments": []
                    if status == "resolved"
                    else [{"at": iso(inc.created_at), "assignee": user_ref}],
                    "assigned_via": "escalation_policy",
                    "last_status_change_at": iso(last_change),
                    "resolved_at": iso(inc.resolved_at),
                    "first_trigger_log_entry": {
                        "id": trigger["id"],
                        "type": "trigger_log_entry_reference",
                        "summary": trigger["summary"],
                        "self": trigger["self"],
                        "html_url": trigger["html_url"],
                    },
                    "alert_counts": {
                        "all": 1,
                        "triggered": 0 if inc.resolved_at else 1,
                        "resolved": 1 if inc.resolved_at else 0,
                    },
                    "is_mergeable": True,
                    "escalation_policy": self.pd_ref("escalation_policy", policy, f"{inc.service}-ep"),
                    "teams": [],
                    "pending_actions": [],
                    "acknowledgements": (
                        [{"at": iso(inc.acknowledged_at), "acknowledger": user_ref}]
                        if status == "acknowledged"
                        else []
                    ),
                    "basic_alert_grouping": None,
                    "alert_grouping": None,
                    "last_status_change_by": last_by,
                    "priority": None,
                    "incidents_responders": [],
                    "responder_requests": [],
                    "subscriber_requests": [],
                    "urgency": inc.urgency,
                    "id": inc.incident_id,
                    "type": "incident",
                    "summary": summary,
                    "self": f"{PAGERDUTY_API}/incidents/{inc.incident_id}",
                    "html_url": f"{self.pd_web()}/incidents/{inc.incident_id}",
                }
            )
        data.log_entries.sort(key=lambda e: (e["created_at"], e["id"]))
        for login in sorted(responders):
            person = self.person(login)
            uid = self.pd_user_id(login)
            data.users.append(
                {
                    "id": uid,
                    "type": "user",
                    "name": person.name,
                    "summary": person.name,
                    "email": person.email if "@" in person.email else f"{login}@{self.owner}.dev",
                    "time_zone": "Etc/UTC",
                    "role": "user",
                    "self": f"{PAGERDUTY_API}/users/{uid}",
                    "html_url": f"{self.pd_web()}/users/{uid}",
                }
            )
        return data

    def render(self) -> Org:
        github = {full: self.render_repo(full) for full in sorted(self.b._repos)}
        return Org(github=github, pagerduty=self.render_pagerduty(), owner=self.owner)
