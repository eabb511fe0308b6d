"""`yardstick demo`: a generated organisation served on 127.0.0.1 by the replay server, ingested through
the same dlt sources a real user points at GitHub, Jira, GitLab, Jenkins and PagerDuty, plus this project's own
git history through the local git source, built, checked and published."""

from __future__ import annotations

import json
import subprocess
import tempfile
from datetime import date, timedelta
from pathlib import Path

from ingestion.demo import copilot_api, gitlab_api, jenkins_api, jira_api
from ingestion.demo.events import generate_events, product_vars
from ingestion.demo.generator import generate_org, split_by_tool
from ingestion.demo.server import ReplayServer
from ingestion.demo.tool_org import jenkins_jobs
from ingestion.environment import environment
from yardstick import clock
from yardstick.refresh import Progress, RefreshResult, refresh

__all__ = ["environment", "project_repository", "run_demo", "source_settings", "tool_settings"]

# the day the goals of seeds/metric_targets.csv and improvement_actions.csv were written for (a demo ending then)
GOALS_WRITTEN_FOR = date(2026, 11, 23)


def source_settings(server: object, repositories: list[str], start: date) -> dict[str, str]:
    """dlt settings pointing every source at a replay server, exactly as a user configures real APIs."""
    return {
        "SOURCES__GITHUB__BASE_URL": server.github_url,  # type: ignore[attr-defined]
        "SOURCES__GITHUB__ACCESS_TOKEN": server.github_token,  # type: ignore[attr-defined]
        "SOURCES__GITHUB__REPOSITORIES": json.dumps(repositories),
        "SOURCES__GITHUB__START_DATE": start.isoformat(),
        "SOURCES__PAGERDUTY__BASE_URL": server.pagerduty_url,  # type: ignore[attr-defined]
        "SOURCES__PAGERDUTY__API_TOKEN": server.pagerduty_token,  # type: ignore[attr-defined]
        "SOURCES__PAGERDUTY__START_DATE": start.isoformat(),
    }


def tool_settings(server: object, org: object, start: date) -> dict[str, str]:
    """Settings for the Jira, GitLab and Jenkins parts of a replay server's organisation (those it has)."""
    url, day = server.url, start.isoformat()  # type: ignore[attr-defined]
    settings: dict[str, str] = {}
    if org.jira is not None:  # type: ignore[attr-defined]
        projects = sorted({board["location"]["projectKey"] for board in org.jira.boards})  # type: ignore[attr-defined]
        settings |= jira_api.source_settings(url + "/jira", projects, day)
    if org.gitlab is not None and org.gitlab.projects:  # type: ignore[attr-defined]
        settings |= gitlab_api.source_settings(url + "/gitlab", sorted(org.gitlab.projects), day)  # type: ignore[attr-defined]
    if jenkins_jobs(org):  # type: ignore[arg-type]
        settings |= jenkins_api.source_settings(url + "/jenkins", jenkins_jobs(org), day)  # type: ignore[arg-type]
    return settings


def copilot_demo(generated: object, github_repos: list[str], start: date, end: date, seed: int) -> object:
    """The demo's Copilot reports: every engineer (pull-request author) of a team holds a seat; the largest team
    hosted on GitHub adopts the assistant a third of the way through the period."""
    teams: dict[str, set[str]] = {}
    for repo, data in generated.github.items():  # type: ignore[attr-defined]
        team = repo.split("/", 1)[1].rsplit("-", 1)[0]
        teams.setdefault(team, set()).update(pull["user"]["login"] for pull in data.pulls
                                             if pull["user"].get("type", "User") == "User")
    hosted = {repo.split("/", 1)[1].rsplit("-", 1)[0] for repo in github_repos}
    adopter = max(sorted(hosted), key=lambda team: len(teams.get(team, ())))
    return copilot_api.simulate({team: sorted(people) for team, people in teams.items()}, start, end,
                                adopter=adopter, seed=seed)


def project_repository() -> Path | None:
    """The git checkout this Yardstick runs from (the demo ingests its history), or None when it is not one."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                          check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def demo_vars(story: object, today: date) -> dict[str, object]:
    """dbt vars of a demo ending `today`: its product story, goals judged on that day, and the goal seeds' dates
    moved from the day they were written for to it (so every goal status shows on any day)."""
    return {**product_vars(story), "as_of_date": today.isoformat(),  # type: ignore[arg-type]
            "goal_date_shift_days": (today - GOALS_WRITTEN_FOR).days}


def run_demo(warehouse: Path, *, teams: int = 3, weeks: int = 12, seed: int = 7, today: date | None = None,
             progress: Progress | None = None) -> RefreshResult:
    """Build the demo organisation's warehouse; its data ends `today` (default: clock.today())."""
    progress = progress or Progress()
    today = today or clock.today()
    with progress.step(f"Generate demo organisation ({teams} teams, {weeks} weeks)"):
        generated = generate_org(teams=teams, weeks=weeks, seed=seed, end=today)
        org = split_by_tool(generated, teams)
        org.copilot = copilot_demo(generated, sorted(org.github), today - timedelta(weeks=weeks), today, seed)
    with tempfile.TemporaryDirectory(prefix="yardstick-events-") as events_dir:
        with progress.step("Generate the demo product's page events"):
            story = generate_events(generated, Path(events_dir), seed=seed)
        with ReplayServer(org) as server:
            progress.note(f"replay server on {server.url}")
            start = today - timedelta(weeks=weeks + 1)
            settings = {**source_settings(server, sorted(org.github), start), **tool_settings(server, org, start),
                        "SOURCES__EVENTS__PATHS": events_dir,
                        **copilot_api.source_settings(server.url + "/copilot", "acme", start.isoformat(),
                                                      (today - timedelta(days=1)).isoformat())}
            own = project_repository()
            if own is None:
                progress.note("not a git checkout: the demo skips the local git source")
            else:
                settings |= {"SOURCES__GIT__REPOSITORIES": json.dumps([str(own)]),
                             "SOURCES__GIT__START_DATE": start.isoformat()}
            with environment(settings):
                return refresh(warehouse, from_scratch=True, progress=progress, vars=demo_vars(story, today))
