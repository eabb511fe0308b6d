"""The demo organisation: a builder that records *facts* (a pull request was opened, merged, reviewed; a
deployment happened; an incident was triggered) in any order, and the built :class:`Org`.

``build()`` hands the facts to each tool's simulator (``github_api``, ``pagerduty_api``; Jira, GitLab and
Jenkins data are attached by ``tool_org``), which render exactly the JSON documents the real APIs return.
This module knows no tool's JSON. Everything is deterministic: no wall clock, no unseeded randomness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from ingestion.demo.copilot_api import CopilotData
from ingestion.demo.facts import (
    Json,
    _DeploySpec,
    _DirectCommit,
    _display_name,
    _Ids,
    _IncidentSpec,
    _IssueSpec,
    _pd_id,
    _Person,
    _PullSpec,
    _RunSpec,
    _slug,
    iso,
    sha1,
    utc,
)
from ingestion.demo.github_api import RepoData, render_github
from ingestion.demo.gitlab_api import GitLabData
from ingestion.demo.jenkins_api import JenkinsData
from ingestion.demo.jira_api import JiraData
from ingestion.demo.pagerduty_api import PagerDutyData, render_pagerduty

REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")

# --------------------------------------------------------------------------------------------------
# public data containers
# --------------------------------------------------------------------------------------------------


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
        milestone: tuple[str, datetime] | None = None,
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
                          utc(closed_at) if closed_at else None, state_reason, list(labels or []), assignee,
                          (milestone[0], utc(milestone[1])) if milestone else None)
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
        return Org(github=render_github(self), pagerduty=render_pagerduty(self), owner=self.owner)
