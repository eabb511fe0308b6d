"""Tests for the demo organisation builder, the seeded generator and the local API replay server."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from ingestion.demo.generator import generate_org, split_by_tool
from ingestion.demo.org import Org, OrgBuilder
from ingestion.demo.server import ReplayServer

GH = {"Authorization": "Bearer demo-github-token", "Accept": "application/vnd.github+json"}
PD = {"Authorization": "Token token=demo-pagerduty-token"}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def small_org() -> tuple[Org, dict]:
    """Hand-built org with known facts; returns the org and the refs/ids created."""
    b = OrgBuilder("acme")
    b.person("ana", "Ana Silva", "ana@acme.dev")
    b.person("ben", "Ben Okafor", "ben@acme.dev")
    b.repo("acme/shop-api")
    refs: dict = {}
    # recorded out of order on purpose: PR opened later is recorded first
    refs["late"] = b.pull_request(
        "acme/shop-api",
        author="ben",
        title="Add search",
        opened_at=h(30),
        commit_times=[h(26), h(29)],
        reviews=[("ana", "APPROVED", h(31)), ("ben", "COMMENTED", h(30.5)), ("ana", "COMMENTED", h(40))],
        merged_at=h(32),
    )
    refs["early"] = b.pull_request(
        "acme/shop-api",
        author="ana",
        title="Add checkout",
        opened_at=h(2),
        commit_times=[h(0), h(1)],
        reviews=[("ben", "CHANGES_REQUESTED", h(3)), ("ben", "APPROVED", h(5)), ("ben", "COMMENTED", h(1.5))],
        merged_at=h(6),
        merged_by="ben",
    )
    refs["squash"] = b.pull_request(
        "acme/shop-api",
        author="ana",
        title="Tidy config",
        opened_at=h(10),
        commit_times=[h(9), h(9.5)],
        reviews=[("ben", "APPROVED", h(11))],
        merged_at=h(12),
        squash=True,
    )
    refs["open"] = b.pull_request(
        "acme/shop-api",
        author="ben",
        title="WIP refactor",
        opened_at=h(20),
        commit_times=[h(19)],
    )
    refs["closed"] = b.pull_request(
        "acme/shop-api",
        author="ben",
        title="Abandoned idea",
        opened_at=h(21),
        commit_times=[h(20.5)],
        closed_at=h(22),
    )
    refs["hotfix"] = b.direct_commit("acme/shop-api", at=h(15), message="Hotfix: null check", author="ana")
    refs["deploy_a"] = b.deployment("acme/shop-api", environment="production", at=h(7))
    refs["deploy_b"] = b.deployment(
        "acme/shop-api",
        environment="production",
        at=h(16),
        statuses=[("in_progress", h(16)), ("failure", h(16.2))],
    )
    refs["deploy_c"] = b.deployment("acme/shop-api", environment="staging", at=h(33))
    for i in range(7):
        b.workflow_run(
            "acme/shop-api", name="CI", at=h(1 + i * 5), conclusion="failure" if i == 3 else "success"
        )
    b.workflow_run("acme/shop-api", name="CI", at=h(40), run_attempt=2, duration_minutes=10)
    b.service("shop-api")
    refs["inc_open"] = b.incident("shop-api", created_at=h(17), title="Errors after deploy")
    refs["inc_done"] = b.incident(
        "shop-api",
        created_at=h(8),
        title="Latency",
        acknowledged_at=h(8.1),
        resolved_at=h(9),
        notes=[(h(8.5), "Rolled back")],
    )
    for i in range(5):
        b.incident(
            "shop-api",
            created_at=h(50 + i),
            title=f"Noise {i}",
            acknowledged_at=h(50.2 + i),
            resolved_at=h(50.5 + i),
        )
    return b.build(), refs


@pytest.fixture(scope="module")
def built() -> tuple[Org, dict]:
    return small_org()


@pytest.fixture()
def server(built):
    with ReplayServer(built[0]) as srv:
        yield srv


def gh(server: ReplayServer, path: str, **params) -> requests.Response:
    return requests.get(server.github_url + path, params=params, headers=GH, timeout=10)


def pd(server: ReplayServer, path: str, params=None) -> requests.Response:
    return requests.get(server.pagerduty_url + path, params=params, headers=PD, timeout=10)


def follow(server: ReplayServer, path: str, **params) -> tuple[list, list[requests.Response]]:
    resp = gh(server, path, **params)
    pages = [resp]
    items = list(resp.json())
    while "next" in resp.links:
        resp = requests.get(resp.links["next"]["url"], headers=GH, timeout=10)
        pages.append(resp)
        items += resp.json()
    return items, pages


# ------------------------------------------------------------------------------------------------
# builder graph
# ------------------------------------------------------------------------------------------------


def test_pull_numbers_follow_opened_order(built):
    org, refs = built
    assert refs["early"].number == 1
    assert refs["squash"].number == 2
    assert refs["open"].number == 3
    assert refs["late"].number == 5
    pulls = {p["number"]: p for p in org.github["acme/shop-api"].pulls}
    assert pulls[1]["title"] == "Add checkout"
    assert pulls[1]["state"] == "closed" and pulls[1]["merged"] is True
    assert pulls[1]["merged_by"]["login"] == "ben"
    assert pulls[3]["state"] == "open" and pulls[3]["merged_at"] is None and pulls[3]["closed_at"] is None
    assert pulls[4]["state"] == "closed" and pulls[4]["merged"] is False
    # updated_at is the latest of opened/review/merged/closed (review after merge here)
    assert pulls[5]["updated_at"] == "2026-03-04T01:00:00Z"
    assert pulls[1]["created_at"] == "2026-03-02T11:00:00Z"


def test_merge_commit_parents_and_message(built):
    org, refs = built
    repo = org.github["acme/shop-api"]
    by_sha = {c["sha"]: c for c in repo.commits}
    merge = by_sha[refs["early"].merge_commit_sha]
    assert merge["commit"]["message"].startswith("Merge pull request #1 from acme/ana/add-checkout")
    parents = [p["sha"] for p in merge["parents"]]
    assert len(parents) == 2
    assert parents[1] == refs["early"].head_sha
    # first parent is the previous main head: the initial commit
    assert by_sha[parents[0]]["commit"]["message"] == "Initial commit"
    # branch commits chain: head's parent is the first branch commit, whose parent is main at that time
    head = by_sha[refs["early"].head_sha]
    assert [p["sha"] for p in head["parents"]] == [refs["early"].commit_shas[0]]
    assert all(len(c["sha"]) == 40 and int(c["sha"], 16) >= 0 for c in repo.commits)


def test_every_merge_commit_reachable_from_main_head(built):
    org, _ = built
    repo = org.github["acme/shop-api"]
    by_sha = {c["sha"]: c for c in repo.commits}
    head = repo.commits[0]["sha"]
    seen, stack = set(), [head]
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        stack += [p["sha"] for p in by_sha[sha]["parents"]]
    assert seen == set(by_sha)
    for pull in repo.pulls:
        if pull["merged_at"]:
            assert pull["merge_commit_sha"] in seen
    dates = [c["commit"]["committer"]["date"] for c in repo.commits]
    assert dates == sorted(dates, reverse=True)


def test_squash_merge_single_parent_and_branch_commits_unreachable(built):
    org, refs = built
    repo = org.github["acme/shop-api"]
    by_sha = {c["sha"]: c for c in repo.commits}
    squash = by_sha[refs["squash"].merge_commit_sha]
    assert len(squash["parents"]) == 1
    assert squash["commit"]["message"].startswith("Tidy config")
    assert refs["squash"].head_sha not in by_sha
    assert [c["sha"] for c in repo.pull_commits[2]] == refs["squash"].commit_shas


def test_deployment_default_sha_is_main_head_at_time(built):
    org, refs = built
    repo = org.github["acme/shop-api"]
    deployments = {d["id"]: d for d in repo.deployments}
    assert deployments[refs["deploy_a"]]["sha"] == refs["early"].merge_commit_sha
    assert deployments[refs["deploy_b"]]["sha"] == refs["hotfix"]
    assert deployments[refs["deploy_c"]]["sha"] == refs["late"].merge_commit_sha
    statuses = repo.deployment_statuses[refs["deploy_b"]]
    assert [s["state"] for s in statuses] == ["failure", "in_progress"]
    assert deployments[refs["deploy_b"]]["updated_at"] == statuses[0]["created_at"] == "2026-03-03T01:12:00Z"
    assert [d["created_at"] for d in repo.deployments] == sorted(
        (d["created_at"] for d in repo.deployments), reverse=True
    )


def test_reviews_kept_as_recorded(built):
    org, refs = built
    reviews = org.github["acme/shop-api"].pull_reviews[1]
    # review before open (data error) is kept, and reviews are chronological
    assert [r["state"] for r in reviews] == ["COMMENTED", "CHANGES_REQUESTED", "APPROVED"]
    assert reviews[0]["submitted_at"] == "2026-03-02T10:30:00Z"
    assert reviews[2]["commit_id"] == refs["early"].head_sha
    self_review = [r for r in org.github["acme/shop-api"].pull_reviews[5] if r["user"]["login"] == "ben"]
    assert self_review and self_review[0]["state"] == "COMMENTED"


def test_pagerduty_incident_status_and_log_entries(built):
    org, refs = built
    incidents = {i["id"]: i for i in org.pagerduty.incidents}
    done, still_open = incidents[refs["inc_done"]], incidents[refs["inc_open"]]
    assert done["status"] == "resolved" and done["resolved_at"] == "2026-03-02T18:00:00Z"
    assert done["last_status_change_at"] == "2026-03-02T18:00:00Z"
    assert still_open["status"] == "triggered" and still_open["resolved_at"] is None
    assert done["service"]["summary"] == "shop-api"
    assert done["incident_number"] == 1 and still_open["incident_number"] == 2
    entries = [e for e in org.pagerduty.log_entries if e["incident"]["id"] == refs["inc_done"]]
    assert [e["type"] for e in entries] == [
        "trigger_log_entry",
        "acknowledge_log_entry",
        "annotate_log_entry",
        "resolve_log_entry",
    ]
    assert entries[2]["channel"] == {"type": "note", "summary": "Rolled back"}
    assert all(e["service"]["id"] == done["service"]["id"] for e in entries)


# ------------------------------------------------------------------------------------------------
# server: GitHub
# ------------------------------------------------------------------------------------------------


def test_link_pagination_preserves_params(server):
    resp = gh(server, "/repos/acme/shop-api/pulls", state="all", sort="updated", direction="desc", per_page=2)
    assert resp.status_code == 200
    assert set(resp.links) == {"next", "last"}
    assert resp.links["last"]["url"].endswith("page=3")
    assert "state=all" in resp.links["next"]["url"] and "per_page=2" in resp.links["next"]["url"]
    assert resp.links["next"]["url"].startswith(server.github_url + "/repos/acme/shop-api/pulls?")
    items, pages = follow(
        server, "/repos/acme/shop-api/pulls", state="all", sort="updated", direction="desc", per_page=2
    )
    assert len(pages) == 3
    assert set(pages[1].links) == {"prev", "next", "last", "first"}
    assert set(pages[2].links) == {"prev", "first"}
    assert [p["number"] for p in items] == [5, 4, 3, 2, 1]
    updated = [p["updated_at"] for p in items]
    assert updated == sorted(updated, reverse=True)
    # list shape omits detail-only fields; detail has them; URLs point at the server
    assert "additions" not in items[0] and "merged" not in items[0]
    detail = gh(server, "/repos/acme/shop-api/pulls/1").json()
    assert detail["additions"] == 10 and detail["merged"] is True
    assert detail["url"] == server.github_url + "/repos/acme/shop-api/pulls/1"
    assert detail["html_url"] == "https://github.com/acme/shop-api/pull/1"


def test_pull_state_and_sort_filters(server):
    assert [p["number"] for p in gh(server, "/repos/acme/shop-api/pulls").json()] == [3]
    closed = gh(server, "/repos/acme/shop-api/pulls", state="closed", sort="created", direction="asc").json()
    assert [p["number"] for p in closed] == [1, 2, 4, 5]
    single = gh(server, "/repos/acme/shop-api/pulls", state="all", per_page=100)
    assert "Link" not in single.headers and len(single.json()) == 5


def test_pull_commits_and_reviews(server, built):
    _, refs = built
    commits = gh(server, "/repos/acme/shop-api/pulls/5/commits").json()
    assert [c["sha"] for c in commits] == refs["late"].commit_shas
    reviews = gh(server, "/repos/acme/shop-api/pulls/5/reviews").json()
    assert [r["user"]["login"] for r in reviews] == ["ben", "ana", "ana"]
    assert gh(server, "/repos/acme/shop-api/pulls/99").status_code == 404


def test_commits_since_until(server, built):
    _, refs = built
    all_commits, _ = follow(server, "/repos/acme/shop-api/commits", per_page=3)
    window = gh(
        server, "/repos/acme/shop-api/commits", since="2026-03-02T14:00:00Z", until="2026-03-02T23:59:59Z"
    ).json()
    assert {c["sha"] for c in window} == {refs["early"].merge_commit_sha, refs["squash"].merge_commit_sha}
    assert len(window) < len(all_commits)
    since = gh(server, "/repos/acme/shop-api/commits", since="2026-03-03T10:00:00Z").json()
    assert [c["sha"] for c in since] == [
        refs["late"].merge_commit_sha,
        refs["late"].head_sha,
        refs["late"].commit_shas[0],
    ]


def test_deployments_and_statuses(server, built):
    _, refs = built
    prod = gh(server, "/repos/acme/shop-api/deployments", environment="production").json()
    assert [d["id"] for d in prod] == [refs["deploy_b"], refs["deploy_a"]]
    statuses = gh(server, f"/repos/acme/shop-api/deployments/{refs['deploy_b']}/statuses").json()
    assert statuses[0]["state"] == "failure"


def test_workflow_runs_created_filter(server):
    body = gh(server, "/repos/acme/shop-api/actions/runs", created=">=2026-03-02T20:00:00Z").json()
    created = [r["created_at"] for r in body["workflow_runs"]]
    assert body["total_count"] == len(created) == 6
    assert created == sorted(created, reverse=True)
    assert all(c >= "2026-03-02T20:00:00Z" for c in created)
    ranged = gh(
        server, "/repos/acme/shop-api/actions/runs", created="2026-03-02T10:00:00Z..2026-03-02T16:00:00Z"
    ).json()
    assert [r["created_at"] for r in ranged["workflow_runs"]] == [
        "2026-03-02T15:00:00Z",
        "2026-03-02T10:00:00Z",
    ]
    paged = gh(server, "/repos/acme/shop-api/actions/runs", per_page=3)
    assert paged.json()["total_count"] == 8 and len(paged.json()["workflow_runs"]) == 3
    assert paged.links["last"]["url"].endswith("page=3")
    run = body["workflow_runs"][0]
    assert run["status"] == "completed" and run["run_attempt"] == 2
    assert run["updated_at"] > run["run_started_at"] >= run["created_at"]


def test_github_auth_and_not_found(server):
    for headers in ({}, {"Authorization": "Bearer nope"}):
        resp = requests.get(server.github_url + "/repos/acme/shop-api/pulls", headers=headers, timeout=10)
        assert resp.status_code == 401
        assert resp.json() == {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }
    ok = requests.get(
        server.github_url + "/repos/acme/shop-api/pulls",
        headers={"Authorization": "token demo-github-token"},
        timeout=10,
    )
    assert ok.status_code == 200
    missing = gh(server, "/repos/acme/nope/pulls")
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"


def test_rate_limit_headers_decrement(built):
    with ReplayServer(built[0], rate_limit=3) as srv:
        first = gh(srv, "/repos/acme/shop-api/pulls")
        second = gh(srv, "/repos/acme/shop-api/pulls")
        assert first.headers["X-RateLimit-Limit"] == "3"
        assert first.headers["X-RateLimit-Remaining"] == "2"
        assert second.headers["X-RateLimit-Remaining"] == "1"
        assert second.headers["X-RateLimit-Used"] == "2"
        assert second.headers["X-RateLimit-Resource"] == "core"
        assert int(second.headers["X-RateLimit-Reset"]) > 1_700_000_000
        gh(srv, "/repos/acme/shop-api/pulls")
        exhausted = gh(srv, "/repos/acme/shop-api/pulls")
        assert exhausted.status_code == 403
        assert exhausted.headers["X-RateLimit-Remaining"] == "0"
        assert "rate limit" in exhausted.json()["message"]


def test_fault_injection_consumed_once(server):
    server.fail("/pulls", 429, retry_after=7)
    server.fail("/commits", 502, times=2)
    limited = gh(server, "/repos/acme/shop-api/pulls")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert gh(server, "/repos/acme/shop-api/pulls").status_code == 200
    bad = [gh(server, "/repos/acme/shop-api/commits") for _ in range(3)]
    assert [r.status_code for r in bad] == [502, 502, 200]
    assert "Bad Gateway" in bad[0].text and bad[0].headers["Content-Type"].startswith("text/html")
    server.fail("/incidents", 200, body='{"incidents": [{"id": "Q1')
    truncated = pd(server, "/incidents")
    assert truncated.status_code == 200
    with pytest.raises(ValueError):
        truncated.json()
    assert pd(server, "/incidents").json()["incidents"]


def test_request_recording_without_tokens(server):
    server.clear_requests()
    gh(server, "/repos/acme/shop-api/pulls", state="all", page=2)
    pd(server, "/incidents", {"limit": 2})
    recorded = server.requests
    assert [(r.prefix, r.path, r.status) for r in recorded] == [
        ("github", "/repos/acme/shop-api/pulls", 200),
        ("pagerduty", "/incidents", 200),
    ]
    assert recorded[0].query == {"state": ["all"], "page": ["2"]}
    assert recorded[0].method == "GET"
    dump = repr(recorded)
    assert "demo-github-token" not in dump and "demo-pagerduty-token" not in dump
    server.clear_requests()
    assert server.requests == []


def test_set_org_serves_new_data(server, built):
    b = OrgBuilder("acme")
    b.repo("acme/shop-api")
    b.pull_request("acme/shop-api", author="ana", title="Only one", opened_at=h(1), commit_times=[h(0)])
    server.set_org(b.build())
    assert [p["title"] for p in gh(server, "/repos/acme/shop-api/pulls").json()] == ["Only one"]
    server.set_org(built[0])


# ------------------------------------------------------------------------------------------------
# server: PagerDuty
# ------------------------------------------------------------------------------------------------


def test_pagerduty_offset_pagination(server):
    seen, offset = [], 0
    while True:
        body = pd(server, "/incidents", {"limit": 3, "offset": offset, "total": "true"}).json()
        assert body["limit"] == 3 and body["offset"] == offset and body["total"] == 7
        seen += body["incidents"]
        if not body["more"]:
            break
        offset += body["limit"]
    assert len(seen) == 7 and offset == 6
    assert [i["incident_number"] for i in seen] == list(range(1, 8))
    assert pd(server, "/incidents", {"limit": 3}).json()["total"] is None
    window = pd(
        server, "/incidents", {"since": "2026-03-02T20:00:00Z", "until": "2026-03-04T00:00:00Z"}
    ).json()
    assert [i["title"] for i in window["incidents"]] == ["Errors after deploy"]


def test_pagerduty_log_entries_include_incidents(server, built):
    _, refs = built
    plain = pd(server, "/log_entries", {"limit": 100}).json()["log_entries"]
    assert [e["created_at"] for e in plain] == sorted(e["created_at"] for e in plain)
    assert plain[0]["incident"]["type"] == "incident_reference"
    full = pd(
        server,
        "/log_entries",
        [
            ("include[]", "incidents"),
            ("since", "2026-03-02T17:00:00Z"),
            ("until", "2026-03-02T19:00:00Z"),
            ("is_overview", "false"),
        ],
    ).json()
    kinds = [e["type"] for e in full["log_entries"]]
    assert kinds == ["trigger_log_entry", "acknowledge_log_entry", "annotate_log_entry", "resolve_log_entry"]
    incident = full["log_entries"][0]["incident"]
    assert (
        incident["type"] == "incident"
        and incident["status"] == "resolved"
        and incident["id"] == refs["inc_done"]
    )
    assert full["more"] is False
    services = pd(server, "/services").json()
    assert [s["name"] for s in services["services"]] == ["shop-api"]


def test_pagerduty_auth(server):
    resp = requests.get(
        server.pagerduty_url + "/incidents", headers={"Authorization": "Token token=bad"}, timeout=10
    )
    assert resp.status_code == 401
    assert resp.json() == {"error": {"message": "Unauthorized", "code": 2006}}


# ------------------------------------------------------------------------------------------------
# generator
# ------------------------------------------------------------------------------------------------


def _dump(org: Org) -> str:
    return json.dumps(org.as_dict(), sort_keys=True)


def test_generator_is_deterministic():
    a = generate_org(teams=2, weeks=3, seed=11)
    b = generate_org(teams=2, weeks=3, seed=11)
    c = generate_org(teams=2, weeks=3, seed=12)
    assert _dump(a) == _dump(b)
    assert _dump(a) != _dump(c)
    assert _dump(generate_org(teams=2, weeks=3, seed=11, end=date(2026, 6, 1))) != _dump(a)


def test_generator_shape_and_scaling():
    org = generate_org(teams=9, weeks=1)
    owners = {name.split("/")[1].rsplit("-", 1)[0] for name in org.github}
    assert owners == {
        "payments",
        "search",
        "platform",
        "mobile",
        "growth",
        "identity",
        "data",
        "infra",
        "team9",
    }
    services = {s["name"] for s in org.pagerduty.services}
    assert services == {name.split("/")[1] for name in org.github}
    assert all(name.endswith(("-api", "-web")) for name in org.github)


def test_demo_teams_each_use_their_tools():
    """payments: GitHub with GitHub issues its pull requests fix; search: GitHub with Jira keys in titles and
    branches; platform: GitLab (pipelines from its runs), Jira, and a Jenkins job deploying its API to production."""
    generated = generate_org(teams=3, weeks=4, seed=5)
    org = split_by_tool(generated, 3)
    assert sorted(org.github) == ["acme/payments-api", "acme/payments-web", "acme/search-api", "acme/search-web"]
    assert sorted(org.gitlab.projects) == sorted(r for r in generated.github if r.startswith("acme/platform"))
    payments = org.github["acme/payments-api"]
    issue_numbers = {issue["number"] for issue in payments.issues}
    fixed = [int(pull["body"].rsplit("#", 1)[1]) for pull in payments.pulls if "Fixes #" in (pull["body"] or "")]
    assert fixed and set(fixed) <= issue_numbers  # every "Fixes #n" names an issue, never a pull request
    assert not issue_numbers & {pull["number"] for pull in payments.pulls}  # one number sequence
    assert {issue["state_reason"] for issue in payments.issues} >= {"completed", "not_planned"}
    search_titles = [pull["title"] for pull in org.github["acme/search-api"].pulls if "Revert" not in pull["title"]]
    assert search_titles and all(title.startswith("SEA-") for title in search_titles)
    jira_keys = {issue["key"] for issue in org.jira.issues}
    assert {title.split(" ", 1)[0] for title in search_titles} <= jira_keys
    assert {key.split("-")[0] for key in jira_keys} == {"SEA", "PLA"}
    assert all(sprint["state"] in ("closed", "active") for sprints in org.jira.sprints.values() for sprint in sprints)
    deploys = generated.github["acme/platform-api"].deployments
    assert len(org.jenkins.builds["platform-api-deploy"]) == sum(d["environment"] == "production" for d in deploys)
    platform = org.gitlab.projects["acme/platform-api"]
    assert len(platform.pipelines) == len(generated.github["acme/platform-api"].workflow_runs)
    assert platform.deployments == []  # Jenkins deploys the API


def _incident_kind(org: Org, incident: dict) -> str:
    service = incident["service"]["summary"]
    repo = org.github[f"acme/{service}"]
    created = incident["created_at"]
    prod = [d for d in repo.deployments if d["environment"] == "production" and d["created_at"] <= created]
    notes = [
        e["channel"].get("summary", "")
        for e in org.pagerduty.log_entries
        if e["incident"]["id"] == incident["id"] and e["type"] == "annotate_log_entry"
    ]
    text = " ".join([incident["title"], *notes])
    if any(d["sha"][:7] in text for d in prod):
        return "sha"
    cutoff = (datetime.fromisoformat(created) - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if any(d["created_at"] >= cutoff for d in prod):
        return "time"
    return "unrelated"


def test_generated_org_has_every_incident_kind_and_consistent_graph():
    org = generate_org()
    kinds = {_incident_kind(org, i) for i in org.pagerduty.incidents}
    assert kinds == {"sha", "time", "unrelated"}
    statuses = {i["status"] for i in org.pagerduty.incidents}
    assert statuses == {"triggered", "acknowledged", "resolved"}
    rollbacks = reverts = squashes = 0
    for repo in org.github.values():
        by_sha = {c["sha"]: c for c in repo.commits}
        for pull in repo.pulls:
            if pull["merged_at"]:
                assert pull["merge_commit_sha"] in by_sha
                squashes += len(by_sha[pull["merge_commit_sha"]]["parents"]) == 1
            if pull["title"].startswith('Revert "'):
                reverts += 1
                number = int(pull["body"].rsplit("#", 1)[1])
                original = next(p for p in repo.pulls if p["number"] == number)
                assert pull["title"] == f'Revert "{original["title"]}"'
                assert pull["body"] == f"Reverts {repo.full_name}#{number}"
                assert original["merged_at"] < pull["created_at"]
        for dep in repo.deployments:
            assert dep["sha"] in repo.all_commits
            if (dep["description"] or "").startswith("Rollback to "):
                rollbacks += 1
                assert dep["sha"].startswith(dep["description"].removeprefix("Rollback to "))
        assert {r["name"] for r in repo.workflow_runs} == {"CI", "Deploy"}
    assert rollbacks and reverts and squashes
    assert {"failure", "error"} <= {
        s["state"] for repo in org.github.values() for sts in repo.deployment_statuses.values() for s in sts
    }
