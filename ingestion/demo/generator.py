"""Seeded generator of the demo organisation served by the replay server.

``generate_org()`` simulates a few product teams over a number of weeks: pull requests with branch
commits, reviews and merges (some squashed, some abandoned, a few reverted), direct hotfix commits,
GitHub Actions runs, staging and production deployments (with failures and rollbacks) and PagerDuty
incidents of three kinds:

* caused by a deployment and naming its short SHA in the title or a note;
* only correlated by service and time (a few hours after a production deployment);
* unrelated (no production deployment of that service in the previous 24 hours).

Teams get different delivery profiles so their DORA tiers differ, and different tools (``TEAM_TOOLS``, by
team position): the first team tracks work in GitHub issues (its pull requests say ``Fixes #12``), the second
in Jira (pull request titles and branches carry the key, ``SEA-12 Add cache``), the third in Jira too while its
code lives in GitLab and Jenkins deploys its API (:func:`split_by_tool` moves it there). The output depends only
on the arguments: the same call always produces identical JSON.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from ingestion.demo.facts import _slug
from ingestion.demo.org import IssueRef, Org, OrgBuilder, PullRef
from ingestion.demo.story import _FIRST_NAMES, _PROFILES, _SURNAMES, _SYMPTOMS, _THINGS, _VERBS
from ingestion.demo.tool_org import as_gitlab_and_jenkins, jira_from_pull_requests

DEFAULT_END = date(2026, 11, 16)
TEAM_NAMES = ("payments", "search", "platform", "mobile", "growth", "identity", "data", "infra")

# team position (cycling) → (issue tracker, code host): github issues, jira + github, jira + gitlab/jenkins
TEAM_TOOLS = (("github", "github"), ("jira", "github"), ("jira", "gitlab"))


def team_names(count: int) -> list[str]:
    """Team names in order; beyond the eight built-in names: ``team9``, ``team10``, ..."""
    return [TEAM_NAMES[i] if i < len(TEAM_NAMES) else f"team{i + 1}" for i in range(count)]


def _at(day: date, hours: float) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC) + timedelta(hours=hours)


def _working_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day < end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


class _Team:
    def __init__(self, index: int, name: str, rng: random.Random, builder: OrgBuilder) -> None:
        self.name = name
        self.profile = _PROFILES[index % len(_PROFILES)]
        size = rng.randint(3, 5)
        firsts = rng.sample(_FIRST_NAMES, size)
        self.people = [f"{first}-{name}" for first in firsts]
        for first, login in zip(firsts, self.people, strict=True):
            surname = rng.choice(_SURNAMES)
            builder.person(login, f"{first.title()} {surname.title()}", f"{first}.{surname}@acme.dev")
        self.repos = [f"acme/{name}-api"] + ([f"acme/{name}-web"] if index == 0 or rng.random() < 0.6 else [])
        self.tracker, self.code_host = TEAM_TOOLS[index % len(TEAM_TOOLS)]
        self.jira_key = name[:3].upper() if self.tracker == "jira" else None
        self.jira_count = 0
        for repo in self.repos:
            builder.repo(repo)
            builder.service(repo.split("/", 1)[1])


class _Simulation:
    def __init__(self, teams: int, weeks: int, seed: int, end: date) -> None:
        self.rng = random.Random(seed)
        self.b = OrgBuilder("acme")
        self.cutoff = _at(end, 0)
        self.start = end - timedelta(weeks=weeks)
        self.days = _working_days(self.start, end)
        self.teams = [_Team(i, n, self.rng, self.b) for i, n in enumerate(team_names(teams))]
        self.merged: dict[str, list[tuple[datetime, str, PullRef]]] = {}  # repo -> (merged_at, title, ref)
        self.incidents: list[dict] = []
        self.reverts: list[tuple[PullRef, PullRef]] = []
        # tool-specific choices draw from their own generator, so the delivery history is the same as before
        self.tool_rng = random.Random(f"{seed}-tools")
        self.fixes: list[tuple[PullRef, IssueRef]] = []  # pull request → the GitHub issue it fixes

    # -- helpers -------------------------------------------------------------------------------

    def hours(self, bounds: tuple[float, float]) -> timedelta:
        low, high = bounds
        return timedelta(minutes=round(60 * self.rng.uniform(low, high)))

    def before_cutoff(self, when: datetime | None) -> datetime | None:
        return when if when is not None and when < self.cutoff else None

    # -- pull requests -------------------------------------------------------------------------

    def pull_requests(self, team: _Team) -> None:
        rng, p = self.rng, team.profile
        weeks = max(len(self.days) // 5, 1)
        for week in range(weeks):
            week_days = self.days[week * 5 : (week + 1) * 5]
            if not week_days:
                continue
            for author in team.people:
                for _ in range(rng.randint(*p.prs_per_week)):
                    repo = rng.choice(team.repos)
                    opened = _at(rng.choice(week_days), rng.uniform(9, 17.5))
                    self.one_pull(team, repo, author, opened)

    def one_pull(
        self,
        team: _Team,
        repo: str,
        author: str,
        opened: datetime,
        *,
        title: str | None = None,
        body: str = "",
        fast: bool = False,
        branch: str | None = None,
    ) -> PullRef | None:
        rng, p = self.rng, team.profile
        if opened >= self.cutoff:
            return None
        title = title or f"{rng.choice(_VERBS)} {rng.choice(_THINGS)}"
        if team.jira_key and not title.startswith("Revert"):
            team.jira_count += 1
            key = f"{team.jira_key}-{team.jira_count}"
            branch = branch or f"{author}/{key}-{_slug(title)}"
            title = f"{key} {title}"
        n_commits = 1 if fast else rng.choices([1, 2, 3, 4, 5], weights=[30, 30, 20, 12, 8])[0]
        coding = timedelta(minutes=20) if fast else self.hours(p.coding_hours)
        first = opened - coding
        commit_times = sorted(first + (opened - first) * rng.random() for _ in range(n_commits - 1))
        commit_times = [first, *commit_times][:n_commits]
        teammates = [x for x in team.people if x != author]
        reviews: list[tuple[str, str, datetime]] = []
        pickup = opened + (timedelta(minutes=rng.randint(5, 30)) if fast else self.hours(p.pickup_hours))
        if rng.random() < 0.25 and not fast:
            reviewer = rng.choice(teammates)
            reviews.append((reviewer, "CHANGES_REQUESTED", pickup))
            fix = pickup + timedelta(minutes=rng.randint(20, 300))
            commit_times.append(fix)
            pickup = fix + self.hours((0.3, p.pickup_hours[1] / 2))
        approver = rng.choice(teammates)
        reviews.append((approver, "APPROVED", pickup))
        if rng.random() < 0.3 and len(teammates) > 1:
            other = rng.choice([x for x in teammates if x != approver])
            reviews.append(
                (
                    other,
                    rng.choice(["COMMENTED", "APPROVED"]),
                    pickup + timedelta(minutes=rng.randint(5, 240)),
                )
            )
        if rng.random() < 0.05:
            reviews.append(
                (author, "COMMENTED", opened + timedelta(minutes=rng.randint(1, 60)))
            )  # self-review
        if rng.random() < 0.01:
            reviews.append(
                (approver, "COMMENTED", opened - timedelta(minutes=rng.randint(5, 90)))
            )  # data error

        fate = rng.random()
        merged_at = closed_at = None
        last_review = max(r[2] for r in reviews if r[1] == "APPROVED")
        if fast or fate < 0.86:
            merged_at = max(last_review, commit_times[-1]) + (
                timedelta(minutes=rng.randint(2, 20)) if fast else self.hours(p.merge_hours)
            )
        elif fate < 0.94:
            closed_at = opened + self.hours((2, 120))
        merged_at = self.before_cutoff(merged_at)
        closed_at = self.before_cutoff(closed_at)
        if merged_at is not None and rng.random() < 0.06:
            reviews.append(
                (rng.choice(teammates), "COMMENTED", merged_at + timedelta(minutes=rng.randint(10, 600)))
            )
        reviews = [r for r in reviews if r[2] < self.cutoff]
        commit_times = [t for t in commit_times if t < self.cutoff] or [first]
        size = int(rng.lognormvariate(3.5, 1.1)) + 1
        ref = self.b.pull_request(
            repo,
            author=author,
            title=title,
            branch=branch,
            body=body or f"This PR will {title[0].lower() + title[1:]}.",
            opened_at=opened,
            commit_times=commit_times,
            reviews=reviews,
            merged_at=merged_at,
            closed_at=closed_at,
            merged_by=(approver if rng.random() < 0.15 else author) if merged_at else None,
            squash=rng.random() < 0.3,
            additions=size,
            deletions=int(size * rng.uniform(0.05, 0.8)),
            changed_files=max(1, min(size // 25 + rng.randint(0, 3), 60)),
        )
        if team.tracker == "github" and not fast and self.tool_rng.random() < 0.6:
            self.github_issue(team, ref, title, commit_times[0], merged_at)
        self.pull_ci(repo, author, title, ref, commit_times[-1], merged_at)
        return ref

    def pull_ci(self, repo: str, author: str, title: str, ref: PullRef, last_commit: datetime,
                merged_at: datetime | None) -> None:
        """CI on the PR head (occasionally failing then re-run), and on main after the merge."""
        rng = self.rng
        ci_at = last_commit + timedelta(minutes=1)
        if ci_at < self.cutoff:
            flaky = rng.random() < 0.08
            failed = rng.random() < 0.05
            self.b.workflow_run(
                repo,
                name="CI",
                at=ci_at,
                head_sha=ref.head_sha,
                event="pull_request",
                head_branch=ref.branch,
                conclusion="failure" if failed else "success",
                run_attempt=2 if flaky else 1,
                duration_minutes=round(rng.uniform(4, 14), 1),
                actor=author,
            )
        if merged_at is not None:
            self.merged.setdefault(repo, []).append((merged_at, title, ref))
            self.b.workflow_run(
                repo,
                name="CI",
                at=merged_at + timedelta(minutes=1),
                head_sha=ref.merge_commit_sha,
                conclusion="failure" if rng.random() < 0.03 else "success",
                duration_minutes=round(rng.uniform(4, 14), 1),
            )

    def github_issue(self, team: _Team, ref: PullRef, title: str, first_commit: datetime,
                     merged_at: datetime | None) -> None:
        """The issue a pull request fixes: opened before work started, closed (completed) by the merge."""
        rng = self.tool_rng
        opened = first_commit - self.hours_from(rng, (2, 96))
        bug = title.startswith("Fix")
        issue = self.b.issue(ref.repo, author=rng.choice(team.people), title=f"{title} needed",
                             opened_at=opened, closed_at=merged_at, labels=["bug"] if bug else ["enhancement"],
                             assignee=ref._spec.author)
        self.fixes.append((ref, issue))

    def backlog(self, team: _Team) -> None:
        """GitHub issues no pull request fixes: some closed as not planned, some still open."""
        rng = self.tool_rng
        for day in self.days[::5]:
            opened = _at(day, rng.uniform(9, 17))
            closed = opened + timedelta(days=rng.randint(1, 10)) if rng.random() < 0.5 else None
            self.b.issue(rng.choice(team.repos), author=rng.choice(team.people),
                         title=f"Consider {rng.choice(_THINGS)}", opened_at=opened,
                         closed_at=self.before_cutoff(closed), state_reason="not_planned" if closed else None)

    def improvement_issue(self, team: _Team) -> None:
        """The improvement action the first team filed as a GitHub issue (labels `improvement` and the goal it
        serves, seeds/metric_targets.csv), due with its milestone; no random draw, so nothing else changes."""
        opened = self.cutoff - timedelta(days=3, hours=6)
        self.b.issue(team.repos[0], author=team.people[0], title="Large pull requests wait days for a review",
                     opened_at=opened, labels=["improvement", f"goal:{team.name}-lead-time"],
                     assignee=team.people[0], milestone=("Review load", self.cutoff + timedelta(days=11)))

    @staticmethod
    def hours_from(rng: random.Random, bounds: tuple[float, float]) -> timedelta:
        return timedelta(minutes=round(60 * rng.uniform(*bounds)))

    # -- deployments and incidents -------------------------------------------------------------

    def deploy(
        self,
        team: _Team,
        repo: str,
        at: datetime,
        *,
        sha: str | None = None,
        description: str = "",
        fail: bool = False,
        staging: bool = True,
    ) -> tuple[str, bool]:
        """Deploy to staging (unless skipped) and promote the same SHA to production at ``at``."""
        rng = self.rng
        duration = timedelta(minutes=rng.randint(3, 12))
        state = ("error" if rng.random() < 0.25 else "failure") if fail else "success"
        if staging:
            staged = at - timedelta(minutes=rng.randint(20, 60))
            sha = sha or self.b.head_at(repo, staged)
            self.b.deployment(
                repo,
                environment="staging",
                at=staged,
                sha=sha,
                statuses=[("in_progress", staged), ("success", staged + timedelta(minutes=4))],
            )
            self.b.workflow_run(
                repo,
                name="Deploy",
                at=staged,
                head_sha=sha,
                event="workflow_dispatch",
                duration_minutes=4,
                actor="deploy-bot",
            )
        sha = sha or self.b.head_at(repo, at)
        self.b.deployment(
            repo,
            environment="production",
            at=at,
            sha=sha,
            description=description,
            statuses=[("queued", at), ("in_progress", at + timedelta(seconds=20)), (state, at + duration)],
        )
        self.b.workflow_run(
            repo,
            name="Deploy",
            at=at,
            head_sha=sha,
            event="workflow_dispatch",
            conclusion="success" if state == "success" else "failure",
            duration_minutes=duration.total_seconds() / 60,
            actor="deploy-bot",
        )
        return sha, state == "success"

    def add_incident(
        self,
        team: _Team,
        service: str,
        created: datetime,
        title: str,
        kind: str,
        notes: list[tuple[datetime, str]] | None = None,
        urgency: str = "high",
    ) -> dict:
        rng = self.rng
        ack = created + timedelta(minutes=rng.randint(2, 30))
        resolve = ack + self.hours((0.25, 6))
        spec = {
            "service": service,
            "created_at": created,
            "title": title,
            "kind": kind,
            "acknowledged_at": ack,
            "resolved_at": resolve,
            "notes": list(notes or []),
            "urgency": urgency,
            "responder": rng.choice(team.people),
        }
        self.incidents.append(spec)
        return spec

    def operate(self, team: _Team, repo: str) -> None:
        """Walk the working days: deploy, sometimes break production, recover."""
        rng, p = self.rng, team.profile
        service = repo.split("/", 1)[1]
        history: list[tuple[datetime, str]] = []  # successful production deploys (time, sha)
        for day in self.days:
            count = int(p.deploys_per_day) + (1 if rng.random() < p.deploys_per_day % 1 else 0)
            if count == 0 and p.deploys_per_day >= 1:
                count = 1
            slots = sorted(rng.uniform(10, 17) for _ in range(count))
            for hour in slots:
                at = _at(day, hour)
                if history and at - history[-1][0] < timedelta(minutes=45):
                    continue
                if rng.random() < 0.03:
                    self.b.direct_commit(
                        repo,
                        at=at - timedelta(minutes=rng.randint(10, 40)),
                        message=f"Hotfix: {rng.choice(_THINGS)}",
                        author=rng.choice(team.people),
                    )
                failed_deploy = rng.random() < p.change_fail * 0.35
                sha, ok = self.deploy(team, repo, at, fail=failed_deploy)
                if not ok:
                    continue
                history.append((at, sha))
                roll = rng.random()
                if roll < p.change_fail:
                    self.breakage(team, repo, service, at, sha, history)
                elif roll < p.change_fail + 0.05:
                    created = at + self.hours((1, 5))
                    self.add_incident(team, service, created, f"{rng.choice(_SYMPTOMS)} on {service}", "time")
        self.unrelated_incidents(team, service, history)

    def unrelated_incidents(self, team: _Team, service: str, history: list[tuple[datetime, str]]) -> None:
        """Incidents with no production deployment of the service in the previous 24 hours."""
        rng = self.rng
        weeks = max(len(self.days) // 5, 1)
        for week in range(weeks):
            if rng.random() > 0.25:
                continue
            for _ in range(6):
                day = self.start + timedelta(days=week * 7 + rng.randint(0, 6))
                created = _at(day, rng.uniform(0, 23.9))
                recent = [t for t, _ in history if timedelta(0) <= created - t < timedelta(hours=24)]
                if not recent and created < self.cutoff:
                    title = rng.choice(
                        [
                            "Certificate expiring soon",
                            "Disk usage above 90%",
                            "Upstream provider outage",
                            "Synthetic check failing",
                            "Database failover",
                        ]
                    )
                    self.add_incident(
                        team,
                        service,
                        created,
                        f"{title} ({service})",
                        "unrelated",
                        urgency=rng.choice(["high", "low"]),
                    )
                    break

    def breakage(
        self,
        team: _Team,
        repo: str,
        service: str,
        at: datetime,
        sha: str,
        history: list[tuple[datetime, str]],
    ) -> None:
        """A production deploy broke something: page, then roll back, revert or hotfix."""
        rng = self.rng
        short = sha[:7]
        created = at + timedelta(minutes=rng.randint(8, 150))
        if rng.random() < 0.5:
            title, notes = f"Errors after deploy {short}", []
        else:
            title = f"{rng.choice(_SYMPTOMS)} on {service}"
            notes = [
                (created + timedelta(minutes=rng.randint(10, 40)), f"Suspect deploy {short}, investigating")
            ]
        incident = self.add_incident(team, service, created, title, "deploy", notes)
        remedy = rng.random()
        fix_at = incident["acknowledged_at"] + timedelta(minutes=rng.randint(10, 60))
        if fix_at >= self.cutoff:
            return
        if remedy < 0.4 and len(history) >= 2:
            target = history[-2][1]
            self.deploy(
                team, repo, fix_at, sha=target, description=f"Rollback to {target[:7]}", staging=False
            )
            history.append((fix_at, target))
            incident["notes"].append((fix_at + timedelta(minutes=5), f"Rolled back to {target[:7]}"))
        elif remedy < 0.7:
            culprit = self.last_merged(repo, at)
            if culprit is None:
                return
            title_, number_ref = culprit
            ref = self.one_pull(
                team,
                repo,
                incident["responder"],
                fix_at,
                title=f'Revert "{title_}"',
                body=f"Reverts {repo}",
                fast=True,
                branch=f"revert-{number_ref.branch}",
            )
            if ref is not None:
                self.reverts.append((ref, number_ref))
            if ref is not None and ref.merge_commit_sha:
                deploy_at = ref.merged_at + timedelta(minutes=rng.randint(25, 60))
                if deploy_at < self.cutoff:
                    new_sha, ok = self.deploy(team, repo, deploy_at)
                    if ok:
                        history.append((deploy_at, new_sha))
        else:
            hotfix_at = fix_at
            self.b.direct_commit(
                repo, at=hotfix_at, message=f"Hotfix: {title.lower()}", author=incident["responder"]
            )
            deploy_at = hotfix_at + timedelta(minutes=rng.randint(5, 15))
            if deploy_at < self.cutoff:
                new_sha, ok = self.deploy(team, repo, deploy_at, description="Hotfix", staging=False)
                if ok:
                    history.append((deploy_at, new_sha))

    def last_merged(self, repo: str, before: datetime) -> tuple[str, PullRef] | None:
        """The most recent non-revert pull request merged into ``repo`` at or before ``before``."""
        candidates = [
            c for c in self.merged.get(repo, []) if c[0] <= before and not c[1].startswith("Revert")
        ]
        if not candidates:
            return None
        _, title, ref = max(candidates, key=lambda c: c[0])
        return title, ref

    def finish_incidents(self) -> None:
        """Clip to the cutoff, keep a couple open, and record them with the builder."""
        ordered = sorted(self.incidents, key=lambda i: i["created_at"])
        for spec in ordered[-2:]:
            spec["resolved_at"] = None
        if ordered:
            ordered[-1]["acknowledged_at"] = None
        for spec in ordered:
            ack = self.before_cutoff(spec["acknowledged_at"])
            resolved = self.before_cutoff(spec["resolved_at"]) if ack else None
            notes = [(t, text) for t, text in spec["notes"] if t < self.cutoff]
            if resolved is not None:
                notes = [(t, text) for t, text in notes if t <= resolved]
            self.b.incident(
                spec["service"],
                created_at=spec["created_at"],
                title=spec["title"],
                acknowledged_at=ack,
                resolved_at=resolved,
                notes=notes,
                urgency=spec["urgency"],
                responder=spec["responder"],
            )

    def finish_fixes(self) -> None:
        """Name the fixed issue in the pull request body (numbers settle only at the end)."""
        for ref, issue in self.fixes:
            ref._spec.body = f"{ref._spec.body}\n\nFixes #{issue.number}"

    def finish_reverts(self) -> None:
        """Point revert PRs at the final number of the PR they revert (numbers settle only at the end)."""
        for revert, original in self.reverts:
            spec = revert._spec  # generator and builder live in the same package
            spec.body = f"Reverts {original.repo}#{original.number}"
            spec.branch = f"revert-{original.number}-{original.branch}"

    def run(self) -> Org:
        for team in self.teams:
            self.pull_requests(team)
            if team.tracker == "github":
                self.backlog(team)
                self.improvement_issue(team)
        for team in self.teams:
            for repo in team.repos:
                self.operate(team, repo)
        self.finish_incidents()
        self.finish_reverts()
        self.finish_fixes()
        return self.b.build()


def generate_org(*, teams: int = 3, weeks: int = 12, seed: int = 7, end: date | None = None) -> Org:
    """Build the seeded demo organisation covering ``weeks`` weeks before ``end`` (exclusive)."""
    if teams < 1 or weeks < 1:
        raise ValueError("teams and weeks must be at least 1")
    return _Simulation(teams, weeks, seed, end or DEFAULT_END).run()


def split_by_tool(org: Org, teams: int) -> Org:
    """The generated organisation as its teams' tools serve it (``TEAM_TOOLS``): Jira issues and sprints for the
    pull requests carrying Jira keys; the repositories of GitLab teams as GitLab projects — the first (API)
    repository deployed by a Jenkins job, the others by GitLab deployments; the rest stays on GitHub."""
    jira: dict[str, list[str]] = {}
    gitlab: list[str] = []
    jenkins: list[str] = []
    for index, name in enumerate(team_names(teams)):
        tracker, code_host = TEAM_TOOLS[index % len(TEAM_TOOLS)]
        repos = sorted(repo for repo in org.github if repo.split("/", 1)[1].rsplit("-", 1)[0] == name)
        if tracker == "jira":
            jira[name[:3].upper()] = repos
        if code_host == "gitlab":
            gitlab += repos
            jenkins += [repo for repo in repos if repo.endswith("-api")]
    moved = as_gitlab_and_jenkins(Org(github={r: org.github[r] for r in gitlab}, pagerduty=org.pagerduty,
                                      owner=org.owner), jenkins_repos=jenkins) if gitlab else None
    return Org(github={repo: data for repo, data in org.github.items() if repo not in gitlab},
               pagerduty=org.pagerduty, owner=org.owner,
               jira=jira_from_pull_requests(org, jira) if jira else None,
               gitlab=moved.gitlab if moved else None, jenkins=moved.jenkins if moved else None)

