"""`bench/generate --scale S --out DIR`: a large organisation's API payloads written to files, fast and
deterministically.

Scale 1.0 is 2,000 engineers for one year: ~0.4 M pull requests, 2 M pull-request commits, 1.2 M reviews,
0.3 M workflow runs, 50 k deployments, 5 k incidents, 0.2 M Jira issues and 50 M page events (page events are
written at `--events-fraction` of that, 0.02 by default, because 50 M Segment events are ~30 GB of NDJSON).

Payloads have exactly the replay server's shapes: every kind of record is stamped from a template rendered
by the demo's own builder (`ingestion.demo.org`) or from the recorded Jira issue in `tests/fixtures/jira`,
with its identity, people, times, SHAs and states replaced. Layout (one JSON document per line):

    manifest.json                     scale, period, cut-off of the "one new day", repositories, projects, counts
    github/<owner>__<repo>/           repository.json, pulls.ndjson (pulls/get objects), pull_commits.ndjson and
                                      pull_reviews.ndjson ({"number", "items"}), commits.ndjson (default branch,
                                      newest first), deployments.ndjson (newest first), deployment_statuses.ndjson
                                      ({"deployment_id", "items"}), workflow_runs.ndjson (newest first)
    pagerduty/                        services.json, users.json, incidents.ndjson, log_entries.ndjson
    jira/                             statuses.json, boards.json, sprints.json, issues.ndjson
    events/events-<day>.ndjson        Segment-shaped product events, one file per day

Every record lies wholly before or wholly inside the last day (`cutoff` … `end`), so `bench/run` can serve
the organisation as it was the evening before and then the one new day, for the nightly incremental.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import json
import math
import random
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ingestion.demo import events as demo_events
from ingestion.demo.facts import iso, node_id
from ingestion.demo.generator import generate_org

PROJECT_DIR = Path(__file__).resolve().parent.parent
END = date(2026, 11, 16)  # fixed, so the same scale always writes the same bytes
DAYS = 365
OWNER = "acme"
TEMPLATE_REPO = "acme/payments-api"
# per engineer and year (scale 1.0 = 2,000 engineers)
PER_ENGINEER = {"pulls": 200, "runs": 150, "deployments": 25, "incidents": 2.5, "jira_issues": 100,
                "events": 25_000}
ENGINEERS_PER_TEAM = 8
REPOS_PER_TEAM = 2
Json = dict[str, Any]


@dataclass
class Plan:
    """What a scale means: sizes, period and the cut-off between 'yesterday' and 'the new day'."""

    scale: float
    events_fraction: float
    seed: int
    engineers: int = 0
    teams: int = 0
    repos: list[str] = field(default_factory=list)
    start: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    end: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    cutoff: datetime = datetime(2000, 1, 1, tzinfo=UTC)

    def __post_init__(self) -> None:
        self.engineers = max(2, round(2000 * self.scale))
        self.teams = math.ceil(self.engineers / ENGINEERS_PER_TEAM)
        self.repos = [f"{OWNER}/svc-{i + 1:04d}" for i in range(self.teams * REPOS_PER_TEAM)]
        self.end = datetime.combine(END, datetime.min.time(), UTC)
        self.start = self.end - timedelta(days=DAYS)
        self.cutoff = self.end - timedelta(days=1)

    def total(self, kind: str) -> int:
        count = PER_ENGINEER[kind] * self.engineers
        return round(count * self.events_fraction) if kind == "events" else round(count)

    def share(self, kind: str, index: int, parts: int) -> int:
        total = self.total(kind)
        return total // parts + (1 if index < total % parts else 0)

    def team_of_repo(self, index: int) -> int:
        return index // REPOS_PER_TEAM

    def members(self, team: int) -> list[str]:
        first = team * ENGINEERS_PER_TEAM
        return [f"eng-{i + 1:04d}" for i in range(first, min(first + ENGINEERS_PER_TEAM, self.engineers))] or [
            "eng-0001"]

    def project_key(self, team: int) -> str:
        return f"P{team + 1}"


def sha(*parts: object) -> str:
    return hashlib.sha1("\x00".join(str(p) for p in parts).encode()).hexdigest()


def place(rng: random.Random, plan: Plan, span: timedelta) -> datetime:
    """A start time in the period such that [start, start + span] lies wholly before or wholly after the
    cut-off and before the end (so 'the new day' holds only records born in it)."""
    at = plan.start + timedelta(seconds=rng.randrange(DAYS * 86_400))
    if at + span >= plan.end:
        at = plan.end - span - timedelta(seconds=60)
    if at < plan.cutoff <= at + span:
        at = plan.cutoff - span - timedelta(seconds=60)
    return at.replace(microsecond=0)


# --------------------------------------------------------------------------------------------------
# templates: one record of each kind, as the demo's builder renders it
# --------------------------------------------------------------------------------------------------


class Templates:
    def __init__(self) -> None:
        org = generate_org(teams=1, weeks=3, seed=7, end=END)
        repo = org.github[TEMPLATE_REPO]
        self.repo_text = json.dumps({
            "repository": repo.repository,
            "pull": next(p for p in repo.pulls if p["merged_at"]),
            "commit": repo.commits[0],
            "review": next(iter(repo.pull_reviews.values()))[0],
            "deployment": repo.deployments[0],
            "status": repo.deployment_statuses[repo.deployments[0]["id"]][0],
            "run": repo.workflow_runs[0],
        })
        self.repo_id = repo.repository["id"]
        template_user = repo.pulls[0]["user"]
        self.user_text = json.dumps(template_user)
        self.user_login, self.user_id = template_user["login"], template_user["id"]
        pd = org.pagerduty
        self.service = pd.services[0]
        self.incident = pd.incidents[0]
        self.log_entry = pd.log_entries[0]
        self.pd_users = pd.users
        self.jira = _jira_templates()
        self._users: dict[str, Json] = {}

    def for_repo(self, full_name: str, index: int) -> Json:
        name = full_name.split("/", 1)[1]
        text = self.repo_text.replace(TEMPLATE_REPO, full_name).replace("payments-api", name)
        text = text.replace(str(self.repo_id), str(900_000_000 + index))
        return json.loads(text)

    def user(self, login: str) -> Json:
        if login not in self._users:
            ident = 50_000_000 + int(sha(login)[:6], 16)
            text = self.user_text.replace(self.user_login, login).replace(str(self.user_id), str(ident))
            self._users[login] = json.loads(text)
        return self._users[login]


def _jira_templates() -> Json:
    csv.field_size_limit(1 << 24)
    fixtures = PROJECT_DIR / "tests" / "fixtures" / "jira"

    def rows(name: str) -> list[Json]:
        with open(fixtures / name, newline="", encoding="utf-8") as handle:
            return [json.loads(row["data"]) for row in csv.DictReader(handle)]

    issues = rows("_raw_jira_api_issues.csv")
    issue = next(i for i in issues if i["key"] == "EE-33")
    history = next(h for h in issue["changelog"]["histories"] if any(x["field"] == "status" for x in h["items"]))
    statuses = rows("_raw_jira_api_status.csv")
    by_category: dict[str, Json] = {}
    for status in statuses:
        by_category.setdefault(status["statusCategory"]["key"], status)
    sprint = rows("_raw_jira_api_sprints.csv")[0]
    return {"issue": issue, "history": history, "statuses": statuses, "by_category": by_category, "sprint": sprint}


# --------------------------------------------------------------------------------------------------
# GitHub
# --------------------------------------------------------------------------------------------------


@dataclass
class RepoOut:
    counts: dict[str, int]
    merges: list[tuple[datetime, str]]  # (merged_at, merge sha), for deployments and runs


def write_repo(out: Path, plan: Plan, tpl: Templates, index: int, full_name: str) -> RepoOut:
    rng = random.Random(f"{plan.seed}:{full_name}")
    t = tpl.for_repo(full_name, index)
    members = plan.members(plan.team_of_repo(index))
    base_url = f"https://api.github.com/repos/{full_name}"
    web_url = f"https://github.com/{full_name}"
    directory = out / "github" / full_name.replace("/", "__")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "repository.json").write_text(json.dumps(t["repository"]))
    counts = {"pulls": 0, "pull_commits": 0, "pull_reviews": 0, "commits": 0, "deployments": 0,
              "deployment_statuses": 0, "workflow_runs": 0}

    n_pulls = plan.share("pulls", index, len(plan.repos))
    lifecycles = []
    for _ in range(n_pulls):
        coding = timedelta(hours=rng.uniform(0.5, 48))
        review_times = sorted(timedelta(hours=rng.uniform(0.2, 30)) for _ in range(rng.randint(0, 6)))
        fate = rng.random()
        close = (review_times[-1] if review_times else timedelta(0)) + timedelta(hours=rng.uniform(0.1, 8))
        span = close if fate < 0.95 else (review_times[-1] if review_times else timedelta(minutes=5))
        opened = place(rng, plan, span + timedelta(minutes=1))
        lifecycles.append((opened, coding, review_times, fate, close, span))
    lifecycles.sort(key=lambda x: x[0])

    pulls, merges, branch_commits = [], [], []
    pr_commits_lines, pr_reviews_lines = [], []
    for number, (opened, coding, review_times, fate, close, span) in enumerate(lifecycles, start=1):
        author = rng.choice(members)
        reviewers = [m for m in members if m != author] or members
        n_commits = rng.randint(1, 9)
        first = opened - coding
        shas = [sha(full_name, number, i) for i in range(n_commits)]
        items = []
        for i, commit_sha in enumerate(shas):
            at = first + (coding * i / n_commits)
            items.append(_commit(t["commit"], tpl, base_url, web_url, commit_sha,
                                 [shas[i - 1]] if i else [sha(full_name, "base", number)],
                                 f"Work on change {number} ({i + 1}/{n_commits})", author, at, author))
        pr_commits_lines.append({"number": number, "items": items})
        reviews = []
        for j, offset in enumerate(review_times):
            state = "APPROVED" if j == len(review_times) - 1 and rng.random() < 0.8 else rng.choice(
                ("COMMENTED", "CHANGES_REQUESTED", "COMMENTED"))
            review = dict(t["review"])
            rid = 3_000_000_000 + index * 10_000_000 + number * 10 + j
            review.update(id=rid, node_id=node_id("PullRequestReview", rid),
                          user=tpl.user(rng.choice(reviewers)), state=state, submitted_at=iso(opened + offset),
                          commit_id=shas[-1], html_url=f"{web_url}/pull/{number}#pullrequestreview-{j}",
                          pull_request_url=f"{base_url}/pulls/{number}")
            reviews.append(review)
        pr_reviews_lines.append({"number": number, "items": reviews})
        merged = fate < 0.85
        closed = fate < 0.95
        ended = opened + close if closed else None
        merge_sha = sha(full_name, number, "merge") if merged else None
        updated = opened + span
        pull = dict(t["pull"])
        title = f"Change {number}: {rng.choice(('Add', 'Fix', 'Refactor', 'Improve'))} part {rng.randint(1, 99)}"
        head = dict(pull["head"], ref=f"{author}/change-{number}", sha=shas[-1],
                    label=f"{OWNER}:{author}/change-{number}")
        pull.update(
            url=f"{base_url}/pulls/{number}", id=2_000_000_000 + index * 100_000 + number,
            node_id=node_id("PullRequest", 2_000_000_000 + index * 100_000 + number),
            html_url=f"{web_url}/pull/{number}", number=number, state="closed" if closed else "open",
            title=title, body=f"This PR makes change {number}.", user=tpl.user(author),
            created_at=iso(opened), updated_at=iso(updated), closed_at=iso(ended),
            merged_at=iso(ended) if merged else None, merge_commit_sha=merge_sha, head=head,
            merged=merged, merged_by=tpl.user(rng.choice(reviewers)) if merged else None,
            commits=n_commits, additions=rng.randint(1, 800), deletions=rng.randint(0, 400),
            changed_files=rng.randint(1, 30), draft=False,
        )
        pulls.append(pull)
        if merged and ended is not None:
            merges.append((ended, merge_sha))
            branch_commits.append(_commit(t["commit"], tpl, base_url, web_url, merge_sha, [], f"{title} (#{number})",
                                          author, ended, "web-flow"))
    merges.sort()
    branch_commits.sort(key=lambda c: (c["commit"]["committer"]["date"], c["sha"]))
    for i, commit in enumerate(branch_commits):  # one line of history on the default branch
        commit["parents"] = [{"sha": branch_commits[i - 1]["sha"], "url": f"{base_url}/commits/x", "html_url": ""}] \
            if i else []
    branch_commits.reverse()  # the API lists newest first

    deployments, statuses_lines = [], []
    for i in range(plan.share("deployments", index, len(plan.repos))):
        at = place(rng, plan, timedelta(minutes=31))
        k = bisect.bisect_right(merges, (at, "~")) - 1
        deployed_sha = merges[k][1] if k >= 0 else sha(full_name, "initial")
        env = "production" if rng.random() < 0.7 else "staging"
        ident = 1_000_000_000 + index * 100_000 + i
        deployment = dict(t["deployment"])
        finished = at + timedelta(minutes=rng.randint(5, 30))
        deployment.update(url=f"{base_url}/deployments/{ident}", id=ident,
                          node_id=node_id("Deployment", ident), environment=env,
                          original_environment=env, production_environment=env == "production",
                          created_at=iso(at), updated_at=iso(finished), sha=deployed_sha,
                          statuses_url=f"{base_url}/deployments/{ident}/statuses")
        deployments.append(deployment)
        outcome = "success" if rng.random() < 0.85 else "failure"
        items = []
        for j, (state, when) in enumerate((("in_progress", at + timedelta(minutes=1)), (outcome, finished))):
            status = dict(t["status"])
            # its own node id: GraphQL has no databaseId on a status, only the id inside its node id
            status.update(id=ident * 10 + j, node_id=node_id("DeploymentStatus", ident * 10 + j), state=state,
                          environment=env, created_at=iso(when), updated_at=iso(when),
                          deployment_url=f"{base_url}/deployments/{ident}")
            items.append(status)
        statuses_lines.append({"deployment_id": ident, "items": list(reversed(items))})  # newest first
    deployments.sort(key=lambda d: (d["created_at"], d["id"]), reverse=True)

    runs = []
    for i in range(plan.share("runs", index, len(plan.repos))):
        at = place(rng, plan, timedelta(minutes=21))
        k = bisect.bisect_right(merges, (at, "~")) - 1
        ident = 7_000_000_000 + index * 1_000_000 + i
        run = dict(t["run"])
        run.update(id=ident, node_id=node_id("WorkflowRun", ident),
                   head_sha=merges[k][1] if k >= 0 else sha(full_name, "initial"),
                   run_number=i + 1, created_at=iso(at), run_started_at=iso(at),
                   updated_at=iso(at + timedelta(minutes=rng.randint(2, 20))),
                   conclusion="success" if rng.random() < 0.85 else "failure",
                   name=rng.choice(("CI", "Deploy", "Lint")), event=rng.choice(("push", "pull_request")),
                   url=f"{base_url}/actions/runs/{ident}", html_url=f"{web_url}/actions/runs/{ident}",
                   # each run its own check suite, as on GitHub (the GraphQL path asks its jobs by this id)
                   check_suite_id=ident * 3 + 7, check_suite_node_id=node_id("CheckSuite", ident * 3 + 7),
                   check_suite_url=f"{base_url}/check-suites/{ident * 3 + 7}")
        runs.append(run)
    runs.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)

    for name, records in (("pulls", pulls), ("pull_commits", pr_commits_lines), ("pull_reviews", pr_reviews_lines),
                          ("commits", branch_commits), ("deployments", deployments),
                          ("deployment_statuses", statuses_lines), ("workflow_runs", runs)):
        _write_lines(directory / f"{name}.ndjson", records)
    counts.update(pulls=len(pulls), pull_commits=sum(len(x["items"]) for x in pr_commits_lines),
                  pull_reviews=sum(len(x["items"]) for x in pr_reviews_lines), commits=len(branch_commits),
                  deployments=len(deployments), deployment_statuses=2 * len(deployments), workflow_runs=len(runs))
    return RepoOut(counts, merges)


def _commit(template: Json, tpl: Templates, base_url: str, web_url: str, commit_sha: str, parents: list[str],
            message: str, author: str, at: datetime, committer: str) -> Json:
    stamp = iso(at)
    item = dict(template)
    inner = dict(template["commit"])
    inner["author"] = {"name": author, "email": f"{author}@acme.example", "date": stamp}
    inner["committer"] = {"name": committer, "email": f"{committer}@acme.example", "date": stamp}
    inner["message"] = message
    inner["url"] = f"{base_url}/git/commits/{commit_sha}"
    item.update(sha=commit_sha, commit=inner, url=f"{base_url}/commits/{commit_sha}",
                html_url=f"{web_url}/commit/{commit_sha}", author=tpl.user(author), committer=tpl.user(committer),
                parents=[{"sha": p, "url": f"{base_url}/commits/{p}", "html_url": f"{web_url}/commit/{p}"}
                         for p in parents])
    return item


# --------------------------------------------------------------------------------------------------
# PagerDuty, Jira, product events
# --------------------------------------------------------------------------------------------------


def write_pagerduty(out: Path, plan: Plan, tpl: Templates) -> dict[str, int]:
    rng = random.Random(f"{plan.seed}:pagerduty")
    directory = out / "pagerduty"
    directory.mkdir(parents=True, exist_ok=True)
    services = []
    for i, repo in enumerate(plan.repos):
        name = repo.split("/", 1)[1]
        services.append(dict(tpl.service, id=f"PS{i:05d}", name=name, description=f"{name} production service"))
    incidents, entries = [], []
    for n in range(1, plan.total("incidents") + 1):
        service = rng.choice(services)
        span = timedelta(minutes=rng.randint(20, 600))
        at = place(rng, plan, span)
        acked = at + timedelta(minutes=rng.randint(1, 15))
        resolved = at + span
        ident = f"Q{n:07d}"
        ref = dict(tpl.incident["service"], id=service["id"], summary=service["name"])
        title = f"{rng.choice(('Elevated 5xx', 'Latency p99 above SLO', 'Error rate spike'))} on {service['name']}"
        incident = dict(tpl.incident)
        incident.update(id=ident, incident_number=n, title=title, description=title, service=ref,
                        created_at=iso(at), updated_at=iso(resolved), status="resolved",
                        last_status_change_at=iso(resolved), resolved_at=iso(resolved),
                        incident_key=sha("incident", n)[:32], summary=f"[#{n}] {title}",
                        urgency="high" if rng.random() < 0.7 else "low")
        incidents.append(incident)
        inc_ref = dict(tpl.log_entry["incident"], id=ident, summary=f"[#{n}] {title}")
        for kind, when, summary in (("trigger_log_entry", at, "Triggered through the API."),
                                    ("acknowledge_log_entry", acked, "Acknowledged by an engineer."),
                                    ("resolve_log_entry", resolved, "Resolved by an engineer.")):
            entry = dict(tpl.log_entry)
            entry.update(id=f"R{n:07d}{kind[:3].upper()}", type=kind, summary=summary, created_at=iso(when),
                         incident=inc_ref, service=ref, agent=ref)
            entries.append(entry)
    entries.sort(key=lambda e: (e["created_at"], e["id"]))
    (directory / "services.json").write_text(json.dumps(services))
    (directory / "users.json").write_text(json.dumps(tpl.pd_users))
    _write_lines(directory / "incidents.ndjson", incidents)
    _write_lines(directory / "log_entries.ndjson", entries)
    return {"incidents": len(incidents), "log_entries": len(entries)}


def write_jira(out: Path, plan: Plan, tpl: Templates) -> dict[str, int]:
    rng = random.Random(f"{plan.seed}:jira")
    jt = tpl.jira
    directory = out / "jira"
    directory.mkdir(parents=True, exist_ok=True)
    boards, sprints = [], {}
    for team in range(plan.teams):
        key = plan.project_key(team)
        board = 100 + team
        boards.append({"id": board, "name": f"{key} board", "type": "scrum", "location": {"projectKey": key}})
        sprints[str(board)] = [dict(jt["sprint"], id=board * 100 + s, name=f"{key} Sprint {s + 1}",
                                    originBoardId=board, state="closed",
                                    startDate=iso(plan.start + timedelta(days=14 * s)),
                                    endDate=iso(plan.start + timedelta(days=14 * s + 14)),
                                    completeDate=iso(plan.start + timedelta(days=14 * s + 14)))
                               for s in range(DAYS // 14)]
    base_issue = {k: v for k, v in jt["issue"].items() if k != "changelog"}
    cats = jt["by_category"]
    issues, histories_total = [], 0
    for n in range(1, plan.total("jira_issues") + 1):
        team = rng.randrange(plan.teams)
        key = plan.project_key(team)
        span = timedelta(hours=rng.uniform(2, 24 * 20))
        at = place(rng, plan, span)
        done = rng.random() < 0.8
        steps = [(cats["new"], cats["indeterminate"], at + span / 3)]
        if done:
            steps.append((cats["indeterminate"], cats["done"], at + span))
        histories = []
        for j, (old, new, when) in enumerate(steps):
            item = dict(jt["history"]["items"][0], field="status", fieldtype="jira", fieldId="status",
                        **{"from": old["id"], "fromString": old["name"], "to": new["id"], "toString": new["name"]})
            histories.append(dict(jt["history"], id=str(n * 10 + j), created=_jira_time(when), items=[item]))
        histories_total += len(histories)
        status = steps[-1][1]
        fields = dict(base_issue["fields"])
        fields.update(project=dict(fields["project"], key=key, name=f"Project {key}"), summary=f"Issue {n}",
                      status=status, created=_jira_time(at), updated=_jira_time(at + span if done else at + span / 3),
                      resolutiondate=_jira_time(at + span) if done else None,
                      customfield_10020=[dict(jt["sprint"], id=(100 + team) * 100 + min((at - plan.start).days // 14,
                                                                                           DAYS // 14 - 1))])
        issue = dict(base_issue, id=str(100_000 + n), key=f"{key}-{n}", fields=fields,
                     changelog={"startAt": 0, "maxResults": len(histories), "total": len(histories),
                                "histories": histories})
        issues.append(issue)
    (directory / "statuses.json").write_text(json.dumps(jt["statuses"]))
    (directory / "boards.json").write_text(json.dumps(boards))
    (directory / "sprints.json").write_text(json.dumps(sprints))
    _write_lines(directory / "issues.ndjson", issues)
    return {"issues": len(issues), "issue_changelog_items": histories_total, "sprints": sum(map(len, sprints.values()))}


def _jira_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def write_events(out: Path, plan: Plan) -> dict[str, int]:
    """Segment-shaped sessions (the demo's own session model), a day per file, until the event budget is met."""
    rng = random.Random(f"{plan.seed}:events")
    directory = out / "events"
    directory.mkdir(parents=True, exist_ok=True)
    budget = plan.total("events")
    devices = [(f"anon-{uuid.UUID(int=rng.getrandbits(128))}", demo_events._pick(rng, demo_events.PLATFORMS))
               for _ in range(max(10, budget // 40))]
    profiles = {device: {"browser": rng.choice(demo_events.BROWSERS[platform]),
                         "country": rng.choice(demo_events.COUNTRIES), "plan": rng.choice(demo_events.PLANS),
                         "user": f"customer-{i:06d}" if rng.random() < 0.6 else None}
                for i, (device, platform) in enumerate(devices)}
    per_day = budget / DAYS
    written = 0
    for d in range(DAYS):
        day = plan.start + timedelta(days=d)
        goal = round(per_day * (d + 1))
        lines = []
        while written + len(lines) < goal:
            device, platform = rng.choice(devices)
            start = day + timedelta(seconds=rng.randrange(80_000))
            for event in demo_events._session(rng, device, platform, profiles[device], start, 0.0):
                lines.append(json.dumps(event))
        written += len(lines)
        (directory / f"events-{day.date().isoformat()}.ndjson").write_text("".join(x + "\n" for x in lines))
    return {"events": written}


def _write_lines(path: Path, records: list[Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, separators=(",", ":")))
            handle.write("\n")


# --------------------------------------------------------------------------------------------------


def generate(out: Path, scale: float, *, events_fraction: float = 0.02, seed: int = 7) -> Json:
    plan = Plan(scale, events_fraction, seed)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    tpl = Templates()
    counts: dict[str, int] = {}

    def add(more: dict[str, int]) -> None:
        for k, v in more.items():
            counts[k] = counts.get(k, 0) + v

    for index, repo in enumerate(plan.repos):
        add(write_repo(out, plan, tpl, index, repo).counts)
    add(write_pagerduty(out, plan, tpl))
    add(write_jira(out, plan, tpl))
    add(write_events(out, plan))
    manifest = {
        "scale": scale, "seed": seed, "events_fraction": events_fraction, "engineers": plan.engineers,
        "teams": plan.teams, "repositories": plan.repos,
        "jira_projects": [plan.project_key(t) for t in range(plan.teams)],
        "start": iso(plan.start), "cutoff": iso(plan.cutoff), "end": iso(plan.end), "records": counts,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def iter_files(out: Path) -> Iterator[Path]:
    return (p for p in sorted(out.rglob("*")) if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, required=True, help="1.0 = 2,000 engineers for one year")
    parser.add_argument("--out", type=Path, required=True, help="directory to (re)write")
    parser.add_argument("--events-fraction", type=float, default=0.02,
                        help="share of the nominal 25,000 page events per engineer to write (default 0.02)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    manifest = generate(args.out, args.scale, events_fraction=args.events_fraction, seed=args.seed)
    size = sum(p.stat().st_size for p in iter_files(args.out))
    print(f"wrote {sum(manifest['records'].values()):,} records ({size / 2**20:,.0f} MiB) for scale {args.scale} "
          f"to {args.out} in {time.perf_counter() - began:.1f} s: "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(manifest["records"].items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
