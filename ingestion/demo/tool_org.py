"""The same delivery history in other tools: turn a built GitHub :class:`Org` into GitLab projects (merge
requests, their commits, review notes, default-branch commits, deployments) and Jenkins deploy jobs, with
the payload shapes the GitLab v4 and Jenkins JSON APIs return. PagerDuty stays as it is.

Each GitHub repository becomes the GitLab project of the same path. Reviews become notes: an approval is
GitLab's system note "approved this merge request", any other submitted review a user note. Deployments of
repositories listed in ``jenkins_repos`` become builds of a Jenkins job ``<repo name>-deploy`` (started when
the deployment succeeded, zero duration, the deployed SHA as ``lastBuiltRevision``); the others become GitLab
deployments to their environment, finished when their first ``success`` status was written.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from ingestion.demo.gitlab_api import GitLabData, GitLabProject
from ingestion.demo.jenkins_api import JenkinsData
from ingestion.demo.org import Org, RepoData

Json = dict[str, Any]
GITLAB_HOST = "https://gitlab.example.com"


def _user(login: str | None) -> Json | None:
    return {"username": login, "name": login} if login else None


def _commit(item: Json) -> Json:
    commit = item["commit"]
    return {
        "id": item["sha"], "short_id": item["sha"][:8], "parent_ids": [p["sha"] for p in item["parents"]],
        "title": commit["message"].splitlines()[0] if commit["message"] else "", "message": commit["message"],
        "author_name": commit["author"]["name"], "author_email": commit["author"]["email"],
        "authored_date": commit["author"]["date"], "committer_name": commit["committer"]["name"],
        "committer_email": commit["committer"]["email"], "committed_date": commit["committer"]["date"],
    }


def _merge_request(pull: Json, project_id: int) -> Json:
    merged = pull.get("merged_at") is not None
    state = "merged" if merged else ("opened" if pull["state"] == "open" else "closed")
    return {
        "id": pull["id"], "iid": pull["number"], "project_id": project_id, "title": pull["title"],
        "description": pull.get("body"), "state": state, "draft": bool(pull.get("draft")),
        "author": _user((pull.get("user") or {}).get("login")), "source_branch": pull["head"]["ref"],
        "target_branch": pull["base"]["ref"], "sha": pull["head"]["sha"],
        "merge_commit_sha": pull.get("merge_commit_sha") if merged else None, "squash_commit_sha": None,
        "merged_by": _user((pull.get("merged_by") or {}).get("login")), "created_at": pull["created_at"],
        "updated_at": pull["updated_at"], "merged_at": pull.get("merged_at"), "closed_at": pull.get("closed_at"),
    }


def _note(review: Json) -> Json | None:
    if review["state"] == "PENDING" or not review.get("submitted_at"):
        return None
    approved = review["state"] == "APPROVED"
    return {"id": review["id"], "body": "approved this merge request" if approved else (review.get("body") or "…"),
            "system": approved, "author": _user(review["user"]["login"]), "created_at": review["submitted_at"],
            "noteable_type": "MergeRequest"}


def _outcome(statuses: list[Json]) -> tuple[str, str | None, str | None]:
    """(GitLab status, first success time, last status time) of a GitHub deployment's statuses."""
    ordered = sorted(statuses, key=lambda s: (s["created_at"], s["id"]))
    success = next((s["created_at"] for s in ordered if s["state"] == "success"), None)
    latest = ordered[-1]["state"] if ordered else "pending"
    status = {"success": "success", "failure": "failed", "error": "failed"}.get(latest, "running")
    if latest == "inactive":
        status = "success" if success else "canceled"
    return status, success, ordered[-1]["created_at"] if ordered else None


def _millis(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp() * 1000)


def _deployments(repo: RepoData, project_id: int) -> list[Json]:
    out = []
    for deployment in repo.deployments:
        status, success, last = _outcome(repo.deployment_statuses.get(deployment["id"], []))
        out.append({
            "id": deployment["id"], "iid": len(out) + 1, "ref": deployment["ref"], "sha": deployment["sha"],
            "status": status, "created_at": deployment["created_at"], "updated_at": last or deployment["created_at"],
            "user": _user((deployment.get("creator") or {}).get("login")),
            "environment": {"id": project_id, "name": deployment["environment"]},
            "deployable": {"name": deployment.get("description") or f"deploy {deployment['environment']}",
                           "status": status, "finished_at": success or last},
        })
    return out


def _jenkins_builds(repo: RepoData, full_name: str) -> list[Json]:
    builds = []
    ordered = sorted(repo.deployments, key=lambda d: (d["created_at"], d["id"]))
    for number, deployment in enumerate(ordered, start=1):
        status, success, last = _outcome(repo.deployment_statuses.get(deployment["id"], []))
        result = {"success": "SUCCESS", "failed": "FAILURE", "canceled": "ABORTED"}.get(status)
        builds.append({
            "_class": "hudson.model.FreeStyleBuild", "number": number, "result": result, "building": result is None,
            "timestamp": _millis(success or last or deployment["created_at"]), "duration": 0,
            "fullDisplayName": f"{full_name.split('/')[-1]}-deploy #{number}",
            "actions": [{"_class": "hudson.model.CauseAction",
                         "causes": [{"shortDescription": deployment.get("description") or "Started by user"}]},
                        {"_class": "hudson.plugins.git.util.BuildData",
                         "lastBuiltRevision": {"SHA1": deployment["sha"], "branch": [{"name": deployment["ref"]}]},
                         "remoteUrls": [f"{GITLAB_HOST}/{full_name}.git"]}],
        })
    return list(reversed(builds))  # Jenkins lists builds newest first


def as_gitlab_and_jenkins(org: Org, *, jenkins_repos: Collection[str] = ()) -> Org:
    """The organisation's delivery history as GitLab projects plus Jenkins deploy jobs (see module docs)."""
    projects: dict[str, GitLabProject] = {}
    jenkins = JenkinsData()
    for index, (full_name, repo) in enumerate(sorted(org.github.items()), start=1):
        project_id = 1000 + index
        projects[full_name] = GitLabProject(
            id=project_id,
            merge_requests=[_merge_request(pull, project_id) for pull in repo.pulls],
            merge_request_commits={n: [_commit(c) for c in items] for n, items in repo.pull_commits.items()},
            merge_request_notes={n: [note for r in items if (note := _note(r)) is not None]
                                 for n, items in repo.pull_reviews.items()},
            commits=[_commit(c) for c in repo.commits],
            deployments=[] if full_name in jenkins_repos else _deployments(repo, project_id),
        )
        if full_name in jenkins_repos:
            jenkins.builds[f"{full_name.split('/')[-1]}-deploy"] = _jenkins_builds(repo, full_name)
    return Org(github={}, pagerduty=org.pagerduty, owner=org.owner, gitlab=GitLabData(projects=projects),
               jenkins=jenkins)


def jenkins_jobs(org: Org) -> list[str]:
    return sorted(org.jenkins.builds) if org.jenkins else []
