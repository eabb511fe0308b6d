"""Organisations made of recorded third-party payloads (tests/fixtures, see NOTICE.md), for the replay server."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ingestion.demo.github_api import RepoData
from ingestion.demo.gitlab_api import GitLabData, GitLabProject
from ingestion.demo.jenkins_api import JenkinsData
from ingestion.demo.jira_api import JiraData
from ingestion.demo.org import Org
from ingestion.demo.pagerduty_api import PagerDutyData

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GITHUB_REPO = "octocat/Hello-World"


def github_example(operation: str) -> Any:
    """The `default` example response of one GitHub REST operation."""
    document = json.loads((FIXTURES / "github" / f"{operation}.json").read_text())
    return document["responses"]["200"]["examples"]["default"]


def octokit_issues() -> list[dict[str, Any]]:
    """The 13 issues of a real recorded issues listing (octokit/fixtures `paginate-issues`), every page."""
    exchanges = json.loads((FIXTURES / "github" / "octokit-paginate-issues.json").read_text())
    return [issue for exchange in exchanges for issue in exchange["response"]]


def pagerduty_incidents() -> list[dict[str, Any]]:
    with open(FIXTURES / "pagerduty" / "_raw_pagerduty_incidents.csv", newline="") as handle:
        return [json.loads(row["data"]) for row in csv.DictReader(handle)]


def recorded_org() -> Org:
    """GitHub's documented examples for one repository plus three real PagerDuty incidents."""
    pull = github_example("pulls__get")
    deployments = github_example("repos__list-deployments")
    repo = RepoData(
        full_name=GITHUB_REPO,
        pulls=[pull],
        pull_commits={pull["number"]: github_example("pulls__list-commits")},
        pull_reviews={pull["number"]: github_example("pulls__list-reviews")},
        deployments=deployments,
        deployment_statuses={d["id"]: github_example("repos__list-deployment-statuses") for d in deployments},
        workflow_runs=github_example("actions__list-workflow-runs-for-repo")["workflow_runs"],
        issues=[*octokit_issues(), *github_example("issues__list-for-repo")],
    )
    repo.workflow_jobs = {run["id"]: github_example("actions__list-jobs-for-workflow-run")["jobs"]
                          for run in repo.workflow_runs}
    incidents, log_entries = [], []
    for recorded in pagerduty_incidents():
        incident = copy.deepcopy(recorded)
        log_entries.extend(incident.pop("log_entries"))
        incidents.append(incident)
    log_entries.sort(key=lambda entry: entry["created_at"])
    return Org(github={GITHUB_REPO: repo}, pagerduty=PagerDutyData(incidents=incidents, log_entries=log_entries),
               owner="octocat")


def _recorded_bodies(tool: str, name: str) -> list[dict[str, Any]]:
    csv.field_size_limit(1 << 24)
    with open(FIXTURES / tool / name, newline="", encoding="utf-8") as handle:
        return [json.loads(row["data"]) for row in csv.DictReader(handle)]


JIRA_BOARDS = [  # the recording's boards 8 (project EE) and 93 (K5); their list entries were not recorded
    {"id": 8, "name": "EE board", "type": "scrum", "location": {"projectKey": "EE"}},
    {"id": 93, "name": "K5 board", "type": "scrum", "location": {"projectKey": "K5"}},
]


def recorded_jira(changelog_limit: int = 100) -> JiraData:
    """The real Jira Cloud board: 33 issues with full changelogs (Chinese status and type names), its 53
    statuses with their categories and board 8's 30 sprints."""
    return JiraData(
        issues=_recorded_bodies("jira", "_raw_jira_api_issues.csv"),
        statuses=_recorded_bodies("jira", "_raw_jira_api_status.csv"),
        boards=JIRA_BOARDS,
        sprints={8: _recorded_bodies("jira", "_raw_jira_api_sprints.csv")},
        changelog_limit=changelog_limit,
    )


GITLAB_PROJECT = "gitlab-data/snowflake_spend"  # gitlab.com project 12345678 of the recording
GITLAB_SELF_HOSTED = "merico/pip_test"  # project 44 of the recording's self-hosted instance (jobs)


def _by_iid(tool: str, name: str) -> dict[int, list[dict[str, Any]]]:
    """Child records keyed by the merge request iid in their recorded request URL."""
    csv.field_size_limit(1 << 24)
    grouped: dict[int, list[dict[str, Any]]] = {}
    with open(FIXTURES / tool / name, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            iid = int(row["url"].split("/merge_requests/")[1].split("/")[0])
            grouped.setdefault(iid, []).append(json.loads(row["data"]))
    return grouped


def recorded_gitlab() -> GitLabData:
    """Real GitLab bodies: 18 merge requests with 37 commits and 26 notes, 45 pipelines (16 in detail) and 8
    deployments of one gitlab.com project; 75 jobs of a self-hosted project, served under their pipelines."""
    jobs = _recorded_bodies("gitlab", "_raw_gitlab_api_job.csv")
    job_pipelines = {job["pipeline"]["id"]: {**job["pipeline"], "iid": job["pipeline"]["id"]} for job in jobs}
    jobs_by_pipeline: dict[int, list[dict[str, Any]]] = {}
    for job in jobs:
        jobs_by_pipeline.setdefault(job["pipeline"]["id"], []).append(job)
    return GitLabData(projects={
        GITLAB_PROJECT: GitLabProject(
            id=12345678,
            merge_requests=_recorded_bodies("gitlab", "_raw_gitlab_api_merge_requests.csv"),
            merge_request_commits=_by_iid("gitlab", "_raw_gitlab_api_merge_request_commits.csv"),
            merge_request_notes=_by_iid("gitlab", "_raw_gitlab_api_merge_request_notes.csv"),
            pipelines=_recorded_bodies("gitlab", "_raw_gitlab_api_pipeline_details.csv")
            + _recorded_bodies("gitlab", "_raw_gitlab_api_pipeline.csv"),
            deployments=_recorded_bodies("gitlab", "_raw_gitlab_api_deployments.csv"),
        ),
        GITLAB_SELF_HOSTED: GitLabProject(id=44, pipelines=list(job_pipelines.values()), jobs=jobs_by_pipeline),
    })


def recorded_jenkins() -> JenkinsData:
    """Real Jenkins `allBuilds` bodies: 14 builds of four freestyle/pipeline jobs (one with a Chinese name, one in
    a folder) and 15 builds of a multibranch project's four branch jobs, under the job path of their request."""
    csv.field_size_limit(1 << 24)
    builds: dict[str, list[dict[str, Any]]] = {}
    for name in ("_raw_jenkins_api_builds.csv", "_raw_jenkins_api_builds_multibranch.csv"):
        with open(FIXTURES / "jenkins" / name, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                path = row["url"].split("/api/json")[0].split("/job/", 1)[1]
                job = "/".join(unquote(part) for part in path.split("/job/"))
                builds.setdefault(job, []).append(json.loads(row["data"]))
    return JenkinsData(builds={job: sorted(items, key=lambda b: -b["number"]) for job, items in builds.items()})
