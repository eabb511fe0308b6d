"""The GitHub simulator: every REST v3 payload the GitHub API would return for the demo organisation's
repositories (full `pulls/get` objects, commit list items with a consistent parent graph, reviews,
deployments with statuses, workflow runs and jobs, issues). Deterministic: SHAs and ids come from content
and timestamps. URLs point at https://api.github.com; the replay server rewrites them to its own base URL.
The routes that serve these payloads are in `github_routes`."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ingestion.demo.facts import (
    Json,
    _Commit,
    _DeploySpec,
    _DirectCommit,
    _hash_int,
    _IssueSpec,
    _PullSpec,
    _RunSpec,
    _slug,
    iso,
    node_id,
    sha1,
    utc,
)
from ingestion.demo.github_objects import GITHUB_API, GITHUB_WEB, GitHubObjects

if TYPE_CHECKING:
    from ingestion.demo.org import OrgBuilder


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


def render_github(builder: OrgBuilder) -> dict[str, RepoData]:
    """Every repository's payloads, keyed by ``owner/repo``."""
    renderer = GitHubRenderer(builder)
    return {full: renderer.render_repo(full) for full in sorted(builder._repos)}


def _reachable(commits: dict[str, _Commit], head: str) -> set[str]:
    """The SHAs reachable from the default-branch head."""
    reachable: set[str] = set()
    stack = [head]
    while stack:
        sha = stack.pop()
        if sha in reachable or sha not in commits:
            continue
        reachable.add(sha)
        stack.extend(commits[sha].parents)
    return reachable


class GitHubRenderer(GitHubObjects):
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
            main.append(self._main_commit(full, at, sha, src, main[-1].sha, numbers))
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

        reachable = _reachable(commits, main[-1].sha)
        ordered = sorted((commits[s] for s in reachable), key=lambda c: (c.at, c.sha), reverse=True)
        all_items = {sha: self.commit_item(full, c) for sha, c in commits.items()}
        data = RepoData(full_name=full)
        data.all_commits = all_items
        data.commits = [all_items[c.sha] for c in ordered]

        updated_all = [main[-1].at]
        self._render_pulls(full, data, pulls, numbers, head_at, all_items, updated_all)
        self._render_deployments(full, data, deploys, head_at)
        self._render_runs(full, data, runs, commits, head_at, pulls, numbers)
        data.issues = sorted((self.issue(full, numbers[i.seq], i) for i in issues), key=lambda x: x["number"])

        open_prs = sum(1 for p in data.pulls if p["state"] == "open")
        data.repository = self.repo_full(full, root_at, max(updated_all), main[-1].at, open_prs)
        return data

    def _main_commit(self, full: str, at: datetime, sha: str, src: Any, prev: str,
                     numbers: dict[int, int]) -> _Commit:
        """One commit of the default branch: a direct commit, a squash merge, or a merge commit."""
        if isinstance(src, _DirectCommit):
            return _Commit(sha, src.message, src.author, src.author, at, [prev])
        if src.squash:
            msg = f"{src.title} (#{numbers[src.seq]})"
            extra = [f"* {m}" for m in src.commit_messages]
            if len(extra) > 1:
                msg += "\n\n" + "\n\n".join(extra)
            return _Commit(sha, msg, src.author, "web-flow", at, [prev])
        head = f"{self.owner_of(full)}/{src.branch}"
        msg = f"Merge pull request #{numbers[src.seq]} from {head}\n\n{src.title}"
        return _Commit(sha, msg, src.merged_by or src.author, "web-flow", at, [prev, src.commit_shas[-1]])

    def _render_pulls(self, full: str, data: RepoData, pulls: list[_PullSpec], numbers: dict[int, int],
                      head_at: Callable[[datetime], _Commit], all_items: dict[str, Json],
                      updated_all: list[datetime]) -> None:
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

    def _render_deployments(self, full: str, data: RepoData, deploys: list[_DeploySpec],
                            head_at: Callable[[datetime], _Commit]) -> None:
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

    def _render_runs(self, full: str, data: RepoData, runs: list[_RunSpec], commits: dict[str, _Commit],
                     head_at: Callable[[datetime], _Commit], pulls: list[_PullSpec],
                     numbers: dict[int, int]) -> None:
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

    @staticmethod
    def milestone(full: str, i: _IssueSpec) -> Json | None:
        if i.milestone is None:
            return None
        title, due_on = i.milestone
        mid = 5_000_000 + _hash_int("milestone", full, title, span=900_000)
        return {"url": f"{GITHUB_API}/repos/{full}/milestones/1", "id": mid, "number": 1, "title": title,
                "state": "open", "due_on": iso(due_on)}

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
            "assignees": [self.user(i.assignee)] if i.assignee else [], "milestone": self.milestone(full, i),
            "comments": 0,
            "created_at": iso(i.opened_at), "updated_at": iso(updated), "closed_at": iso(i.closed_at),
            "author_association": "MEMBER", "active_lock_reason": None, "body": i.body or None,
            "timeline_url": f"{api}/issues/{number}/timeline", "performed_via_github_app": None,
            "state_reason": i.state_reason,
        }
