"""The GitHub Copilot source against the replay server's Copilot simulator (ingestion/demo/copilot_api.py), and the AI
marts built from a small hand-written scenario whose figures are computed by hand below.

"Today" is pinned: every sync names its report days with SOURCES__GITHUB_COPILOT__START_DATE / END_DATE.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.demo import copilot_api
from ingestion.demo.copilot_api import CopilotData
from ingestion.demo.org import Org, OrgBuilder, PagerDutyData
from ingestion.demo.server import ReplayServer
from ingestion.errors import SourceError
from ingestion.pipeline import ingest_source
from yardstick.demo import environment
from yardstick.publish import private_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"


def official(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"copilot__{name}.json").read_text())


def user_record(login: str, day: str, *, lines: int = 10, agent: bool = False) -> dict[str, Any]:
    """A per-user report record with the documented fields (example-schema.md)."""
    counters = {"user_initiated_interaction_count": 2, "code_generation_activity_count": 3,
                "code_acceptance_activity_count": 1, "loc_suggested_to_add_sum": lines,
                "loc_suggested_to_delete_sum": 0, "loc_added_sum": lines // 2, "loc_deleted_sum": 0}
    features = [{"feature": "code_completion", **counters}]
    if agent:
        features.append({"feature": "agent_edit", **counters})
    return {"day": day, "organization_id": "4242", "enterprise_id": None, "user_id": copilot_api.user_id(login),
            "user_login": login, **counters, "used_chat": False, "used_agent": agent, "used_cli": False,
            "totals_by_feature": features, "totals_by_ide": [{"ide": "vscode", **counters}],
            "totals_by_language_feature": [], "totals_by_language_model": [], "totals_by_model_feature": []}


def team_record(login: str, day: str, team: str, team_id: int) -> dict[str, Any]:
    return {"user_id": copilot_api.user_id(login), "user_login": login, "day": day, "organization_id": "4242",
            "team_id": team_id, "slug": team}


def small_data() -> CopilotData:
    """Three days: 5 Oct with two users, 6 Oct with none (an empty file), 7 Oct with one."""
    data = CopilotData(last_day="2026-10-07")
    data.reports["users-1-day"] = {"2026-10-05": [user_record("ada", "2026-10-05"), user_record("bo", "2026-10-05")],
                                   "2026-10-06": [], "2026-10-07": [user_record("ada", "2026-10-07", agent=True)]}
    data.reports["user-teams-1-day"] = {day: [team_record("ada", day, "search", 7)]
                                        for day in ("2026-10-05", "2026-10-06", "2026-10-07")}
    data.reports["organization-1-day"] = {"2026-10-05": [{"organization_id": "4242", "day_totals": [
        {"day": "2026-10-05", "daily_active_users": 2, "pull_requests": {"total_created_by_copilot": 1}}]}]}
    example = official("list-copilot-seats")["responses"]["200"]["content"]["application/json"]["examples"]
    data.seats = example["default"]["value"]["seats"]  # GitHub's own example body, whose two seats share id 1:
    data.seats[1]["assignee"]["id"] = 2  # a seat list names each user once
    return data


def settings(server: ReplayServer, start: str, end: str, org: str = "acme") -> dict[str, str]:
    return copilot_api.source_settings(server.url + "/copilot", org, start, end)


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).fetchall()


def report_requests(server: ReplayServer) -> list[tuple[str, str]]:
    return [(r.path.rsplit("/", 1)[1], r.query["day"][0]) for r in server.requests if "/metrics/reports/" in r.path]


@pytest.fixture()
def server() -> Iterator[ReplayServer]:
    with ReplayServer(Org(github={}, pagerduty=PagerDutyData(), copilot=small_data())) as running:
        yield running


def test_simulator_answers_the_documented_wrapper(server: ReplayServer) -> None:
    import requests

    schema = official("copilot-organization-users-one-day-usage-metrics")["responses"]
    body = requests.get(server.url + "/copilot/orgs/acme/copilot/metrics/reports/users-1-day?day=2026-10-05",
                        headers={"Authorization": f"Bearer {copilot_api.TOKEN}"}, timeout=5).json()
    required = schema["200"]["content"]["application/json"]["schema"]["required"]
    assert sorted(body) == sorted(required) == ["download_links", "report_day"]
    assert "204" in schema  # "A header with no content is returned."


def test_reports_and_seats_land_in_raw_tables_without_links(server: ReplayServer, tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with environment(settings(server, "2026-10-05", "2026-10-07")):
        counts = ingest_source("github_copilot", path)
    assert counts["raw_github_copilot.user_days"] == 3
    assert counts["raw_github_copilot.user_day_features"] == 4  # ada's agent day has two features
    assert counts["raw_github_copilot.seats"] == 2
    assert query(path, "select day, daily_active_users, pull_requests_created_by_copilot "
                       "from raw_github_copilot.entity_days") == [("2026-10-05", 2, 1)]
    assert query(path, "select organization, assignee_login, assigning_team_slug from raw_github_copilot.seats "
                       "order by 2") == [("acme", "octocat", "justice-league"), ("acme", "octokitten", None)]
    with duckdb.connect(str(path), read_only=True) as con:  # signed links are never stored, not even in state
        for schema, table, column in con.sql(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_schema = 'raw_github_copilot' and data_type = 'VARCHAR'").fetchall():
            hits = con.sql(f'select count(*) from {schema}."{table}" where "{column}" like \'%signature=%\'')
            assert hits.fetchone() == (0,), f"{table}.{column} holds a signed link"


def test_an_expired_link_is_signed_again_and_refetched(server: ReplayServer, tmp_path: Path) -> None:
    server.org.copilot.expire_next = 1  # the first link handed out has already expired
    with environment(settings(server, "2026-10-05", "2026-10-05")):
        counts = ingest_source("github_copilot", tmp_path / "warehouse.duckdb")
    assert counts["raw_github_copilot.user_days"] == 2
    files = [(r.path, r.status) for r in server.requests if r.path.startswith("/files/")]
    assert files[0] == ("/files/orgs/acme/users-1-day/2026-10-05/0.ndjson", 403)
    assert files[1] == ("/files/orgs/acme/users-1-day/2026-10-05/0.ndjson", 200)
    assert report_requests(server)[:2] == [("users-1-day", "2026-10-05")] * 2  # asked again for fresh links


def test_server_errors_are_retried_and_the_file_host_never_sees_the_token(server: ReplayServer,
                                                                         tmp_path: Path) -> None:
    server.fail("/metrics/reports/users-1-day", 503, times=2)
    with environment(settings(server, "2026-10-05", "2026-10-05")):
        counts = ingest_source("github_copilot", tmp_path / "warehouse.duckdb")
    assert counts["raw_github_copilot.user_days"] == 2
    assert [r.status for r in server.requests if r.path.endswith("/users-1-day")] == [503, 503, 200]
    # the simulated file host answers 400 to a request carrying an Authorization header: none did
    assert {r.status for r in server.requests if r.path.startswith("/files/")} == {200}


def test_a_link_that_keeps_failing_is_a_clear_error_without_the_signature(server: ReplayServer,
                                                                          tmp_path: Path) -> None:
    server.org.copilot.expire_next = 99
    with environment(settings(server, "2026-10-05", "2026-10-05")), pytest.raises(SourceError) as raised:
        ingest_source("github_copilot", tmp_path / "warehouse.duckdb")
    assert "could not download users-1-day for 2026-10-05" in str(raised.value)
    assert "signature" not in str(raised.value) and copilot_api.TOKEN not in str(raised.value)


def test_a_204_day_is_skipped_and_a_day_without_data_loads_nothing(server: ReplayServer, tmp_path: Path) -> None:
    data = server.org.copilot
    data.no_content_days = ["2026-10-05"]
    path = tmp_path / "warehouse.duckdb"
    with environment(settings(server, "2026-10-05", "2026-10-07")):
        ingest_source("github_copilot", path)
    statuses = {(r.path.rsplit("/", 1)[1], r.query["day"][0]): r.status for r in server.requests
                if "/metrics/reports/" in r.path}
    assert statuses[("users-1-day", "2026-10-05")] == 204
    assert statuses[("users-1-day", "2026-10-06")] == 200  # no activity: an empty file, nothing loaded
    assert query(path, "select day, count(*) from raw_github_copilot.user_days group by day") == [("2026-10-07", 1)]
    assert query(path, "select count(*) from raw_github_copilot.user_teams where day = '2026-10-06'") == [(1,)]


def test_a_record_that_breaks_its_contract_is_quarantined_not_loaded(server: ReplayServer, tmp_path: Path) -> None:
    data = server.org.copilot
    data.reports["users-1-day"]["2026-10-05"][1]["user_id"] = "not-a-number"  # bo's record
    path = tmp_path / "warehouse.duckdb"
    with environment({**settings(server, "2026-10-05", "2026-10-07"),
                      "SOURCES__GITHUB_COPILOT__MAX_REJECTED_SHARE": "0.5"}):
        ingest_source("github_copilot", path)
    assert query(path, "select count(*) from raw_github_copilot.user_days") == [(2,)]  # ada's two days
    key = "org:acme/2026-10-05/not-a-number"
    assert query(path, "select table_name, record_id from raw_github_copilot._rejected order by 1") == [
        ("user_day_features", f"{key}/code_completion"), ("user_day_ides", f"{key}/vscode"), ("user_days", key)]


def test_an_unknown_organisation_is_a_clear_404(server: ReplayServer, tmp_path: Path) -> None:
    with environment(settings(server, "2026-10-05", "2026-10-05", org="nobody")), \
            pytest.raises(SourceError) as raised:
        ingest_source("github_copilot", tmp_path / "warehouse.duckdb")
    message = str(raised.value)
    assert "404" in message and "org:nobody" in message and "View Organization Copilot Metrics" in message
    assert copilot_api.TOKEN not in message


def test_the_second_sync_asks_only_for_new_days(server: ReplayServer, tmp_path: Path) -> None:
    data = server.org.copilot
    data.last_day = "2026-10-06"  # 7 Oct's report is not generated yet: 204
    path = tmp_path / "warehouse.duckdb"
    with environment(settings(server, "2026-10-05", "2026-10-07")):
        ingest_source("github_copilot", path)
    assert {day for _, day in report_requests(server)} == {"2026-10-05", "2026-10-06", "2026-10-07"}
    server.clear_requests()
    data.last_day = "2026-10-08"
    data.reports["users-1-day"]["2026-10-08"] = [user_record("bo", "2026-10-08")]
    with environment(settings(server, "2026-10-05", "2026-10-08")):
        ingest_source("github_copilot", path)
    assert {day for _, day in report_requests(server)} == {"2026-10-07", "2026-10-08"}
    assert query(path, "select day, count(*) from raw_github_copilot.user_days group by day order by day") == [
        ("2026-10-05", 2), ("2026-10-07", 1), ("2026-10-08", 1)]


def test_the_enterprise_reports_are_read_when_an_enterprise_is_set(server: ReplayServer, tmp_path: Path) -> None:
    server.org.copilot.enterprise = "acme-ent"
    path = tmp_path / "warehouse.duckdb"
    with environment({**settings(server, "2026-10-05", "2026-10-05"),
                      "SOURCES__GITHUB_COPILOT__ENTERPRISE": "acme-ent"}):
        ingest_source("github_copilot", path)
    assert ("users-1-day", "2026-10-05") in report_requests(server)
    assert any(r.path == "/enterprises/acme-ent/copilot/metrics/reports/users-1-day" for r in server.requests)
    assert query(path, "select scope, count(*) from raw_github_copilot.user_days group by scope order by 1") == [
        ("enterprise:acme-ent", 2), ("org:acme", 2)]


# ----------------------------------------------------------------------------------- the AI marts, end to end

SEARCH = "acme/search-api"
AI, OTHER = [f"s{i}" for i in range(1, 6)], [f"o{i}" for i in range(1, 5)]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def impact_org() -> Org:
    """October 2026, team search (acme/search-api), all changes opened in the week of Monday 5 October.

    s1–s5 use Copilot on 5, 6 and 7 October (3 days: AI-active); o1 on 5 October only (active, not AI-active);
    o2–o4 not at all. Every change's first commit is 6 Oct 09:00; its review approves one hour before merge.
      s1, s2 merged 6 Oct 12:00 / 12:10 → D1 6 Oct 14:00: lead 5 h each
      s3 merged 6 Oct 15:00           → D2 7 Oct 09:00: lead 24 h
      s4, s5 merged 7 Oct 10:00/10:10 → D3 8 Oct 09:00: lead 48 h; incident 8 Oct 10:00 on search-api → D3 failed
      o1–o4 merged 8 Oct 11:00–11:30  → D4 9 Oct 09:00: lead 72 h
    ai_active: 5 authors, lead 5, 5, 24, 48, 48 → median 24, p75 48; review 1 h; size 12; 3 deployments, 1 failed
    → CFR 1/3. other: 4 authors → suppressed.
    """
    b = OrgBuilder("acme")
    merges = {"s1": at(6, 12), "s2": at(6, 12, 10), "s3": at(6, 15), "s4": at(7, 10), "s5": at(7, 10, 10),
              "o1": at(8, 11), "o2": at(8, 11, 10), "o3": at(8, 11, 20), "o4": at(8, 11, 30)}
    for author, merged in merges.items():
        b.pull_request(SEARCH, author=author, title=f"Change by {author}", opened_at=at(6, 10),
                       commit_times=[at(6, 9)], reviews=[("reviewer", "APPROVED", merged.replace(
                           hour=merged.hour - 1))], merged_at=merged)
    for when in (at(6, 14), at(7, 9), at(8, 9), at(9, 9)):
        b.deployment(SEARCH, environment="production", at=when, statuses=[("success", when)])
    b.incident("search-api", created_at=at(8, 10), title="Search errors", acknowledged_at=at(8, 10, 5),
               resolved_at=at(8, 11))
    org = b.build()
    data = CopilotData(last_day="2026-10-11")
    days = [f"2026-10-{d:02d}" for d in range(5, 12)]
    active = {"2026-10-05": AI + ["o1"], "2026-10-06": AI, "2026-10-07": AI}
    data.reports["users-1-day"] = {day: [user_record(login, day) for login in active.get(day, [])] for day in days}
    data.reports["user-teams-1-day"] = {day: [team_record(login, day, "search", 7) for login in AI + OTHER]
                                        + [team_record(f"p{i}", day, "payments", 8) for i in range(1, 5)]
                                        for day in days}
    data.reports["users-1-day"]["2026-10-05"] += [user_record(f"p{i}", "2026-10-05") for i in range(1, 5)]
    data.seats = [{"created_at": "2026-09-01T00:00:00Z", "updated_at": "2026-09-01T00:00:00Z",
                   "assignee": {"login": login, "id": copilot_api.user_id(login), "type": "User"}}
                  for login in AI + OTHER + [f"p{i}" for i in range(1, 5)]]
    org.copilot = data
    return org


@pytest.fixture(scope="module")
def impact_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from yardstick.demo import source_settings
    from yardstick.refresh import Progress, refresh

    path = tmp_path_factory.mktemp("ai") / "warehouse.duckdb"
    org = impact_org()
    with ReplayServer(org) as server, environment({
        **source_settings(server, sorted(org.github), date(2026, 9, 1)),
        **settings(server, "2026-10-05", "2026-10-11"),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    }):
        refresh(path, from_scratch=True, progress=Progress(quiet=True),
                sources=["github", "github_actions", "pagerduty", "github_copilot"])
    return path


def test_impact_figures_by_hand_with_the_four_author_cohort_suppressed(impact_warehouse: Path) -> None:
    rows = query(impact_warehouse, """
        select team, cohort, group_size, is_suppressed, merged_changes, lead_time_median_hours, lead_time_p75_hours,
               review_median_hours, pr_size_median_lines, deployments, round(change_failure_rate, 4),
               rework_rate, lead_time_median_diff_hours
        from marts.ai_impact_team_monthly where month_start = date '2026-10-01' order by team, cohort""")
    ai_row = (5, False, 5, 24.0, 48.0, 1.0, 12.0, 3, 0.3333, 0.0, None)
    suppressed = (4, True, None, None, None, None, None, None, None, None, None)
    assert rows == [("org", "ai_active", *ai_row), ("org", "other", *suppressed),
                    ("search", "ai_active", *ai_row), ("search", "other", *suppressed)]


def test_adoption_shown_at_five_engineers_and_suppressed_at_four(impact_warehouse: Path) -> None:
    rows = query(impact_warehouse, """
        select team, team_engineers, is_suppressed, engineers_with_seat, active_engineers, ai_active_engineers,
               round(ai_active_share, 4), completion_engineers, agent_engineers, lines_suggested
        from marts.ai_adoption_team_weekly where week_start = date '2026-10-05' order by team""")
    # org: 13 engineers; active s1–s5, o1, p1–p4 = 10; AI-active s1–s5; lines 10 a day: 5×3 + 1 + 4 = 20 days
    assert rows == [("org", 13, False, 13, 10, 5, round(5 / 13, 4), 10, None, 200),
                    ("payments", 4, True, None, None, None, None, None, None, None),
                    ("search", 9, False, 9, 6, 5, round(5 / 9, 4), 6, None, 160)]


def test_no_mart_row_carries_a_login(impact_warehouse: Path) -> None:
    logins = {"reviewer", "deploy-bot", "octocat", *AI, *OTHER, *(f"p{i}" for i in range(1, 5))}
    with duckdb.connect(str(private_path(impact_warehouse)), read_only=True) as con:  # the raw layer's file
        logins |= {row[0] for row in con.sql("select user_login from raw_github_copilot.user_days").fetchall()}
    with duckdb.connect(str(impact_warehouse), read_only=True) as con:  # what readers open
        columns = con.sql("select table_name, column_name from information_schema.columns "
                          "where table_schema = 'marts' and data_type = 'VARCHAR'").fetchall()
        assert any(table.startswith("ai_") for table, _ in columns)
        for table, column in columns:
            values = {row[0] for row in con.sql(f'select distinct "{column}" from marts."{table}"').fetchall()}
            assert not values & logins, f"marts.{table}.{column} carries a login"


def test_unconfigured_copilot_is_skipped_with_a_one_line_notice(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "yardstick.cli", "ingest", "--source", "github_copilot"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
                            env={key: value for key, value in __import__("os").environ.items()
                                 if not key.startswith("SOURCES__GITHUB_COPILOT__")})
    assert result.returncode == 0, result.stderr
    assert ("skipping github_copilot: not configured (set SOURCES__GITHUB_COPILOT__ORGANIZATIONS, "
            "SOURCES__GITHUB_COPILOT__ACCESS_TOKEN)") in result.stderr
