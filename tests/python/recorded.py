"""Organisations made of recorded third-party payloads (tests/fixtures, see NOTICE.md), for the replay server."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

from ingestion.demo.org import Org, PagerDutyData, RepoData

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GITHUB_REPO = "octocat/Hello-World"


def github_example(operation: str) -> Any:
    """The `default` example response of one GitHub REST operation."""
    document = json.loads((FIXTURES / "github" / f"{operation}.json").read_text())
    return document["responses"]["200"]["examples"]["default"]


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
    )
    incidents, log_entries = [], []
    for recorded in pagerduty_incidents():
        incident = copy.deepcopy(recorded)
        log_entries.extend(incident.pop("log_entries"))
        incidents.append(incident)
    log_entries.sort(key=lambda entry: entry["created_at"])
    return Org(github={GITHUB_REPO: repo}, pagerduty=PagerDutyData(incidents=incidents, log_entries=log_entries),
               owner="octocat")
