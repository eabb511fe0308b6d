"""Beyond DORA end to end: one team (payments) in April 2026, served by the replay server as GitHub pull requests
and deployments, PagerDuty incidents and a Jira board with two sprints, ingested by the real clients, built with
`refresh`, and checked against figures computed by hand below. All times UTC; Monday 6 April 2026 starts ISO
week 15.

GitHub, acme/payments-api (team payments):
  P1 ana "PAY-1 Card vault v2": commit 6 Apr 09:00, opened 10:00, bob approves 12:00, bob merges 13:00 (60 lines)
  P2 bob "PAY-2 Retry declined payments": commit 7 Apr 08:00, opened 11:00, ana approves 12:00, ana merges 15:00
     (400 lines)
  P3 ana "Hotfix refund rounding": commit 8 Apr 11:00, opened 11:30, merged by ana 12:00, never reviewed (10 lines)
  P4 cat "PAY-4 Currency rounding": commit 9 Apr 09:00, opened 10:00, ana comments 14:00, bob approves 15:00, bob
     merges 16:00 (1100 lines)
  P5 cat "PAY-99 Tidy logging" (no such issue): commit 22 Apr 09:00, opened 10:00, bob approves 11:00, merged 12:00
  direct commit 20 Apr 17:00 "Bump dependencies" (no pull request)
  D1 prod 6 Apr 16:00 (ships P1)  D2 prod 8 Apr 10:00 (P2)  D3 prod 8 Apr 13:00 (P3, a hotfix → rework)
  D4 prod 10 Apr 11:00 (P4)  D5 prod 21 Apr 09:00 (only the direct commit: no change)
PagerDuty, payments-api:
  I1 8 Apr 10:30 → 13:30: D2 deployed 30 minutes before → attributed to D2
  I2 20 Apr 10:00 → 10:30: nothing deployed in the previous 24 h → unattributed
Jira, project PAY (seeds/project_teams.csv: payments), board 1, statuses To Do / In Progress / Done:
  Sprint 1: 6 Apr 09:00 → completed 17 Apr 17:00.  Sprint 2: 20 Apr 09:00 → completed 30 Apr 17:00.
  PAY-1 Story 3 pts, in sprint 1 from 2 Apr; in progress 6 Apr 09:30, done 8 Apr 15:00
  PAY-2 Story 5 pts, in sprint 1 from 2 Apr; in progress 7 Apr 08:00, done 9 Apr 10:00
  PAY-3 Bug 2 pts, in sprint 1 from 2 Apr; carried to sprint 2 on 17 Apr 17:05; in progress 20 Apr 10:00, done
        22 Apr 12:00
  PAY-4 Story 8 pts, in sprint 1 from 2 Apr; in progress 9 Apr 09:00, done 10 Apr 12:00
  PAY-5 Task, no estimate, label tech-debt, added to sprint 1 on 8 Apr 10:00; in progress 13 Apr 09:00, done
        15 Apr 10:00
  PAY-6 Story 1 pt, added to sprint 1 on 9 Apr 11:00 and taken out 16:00 the same day
  PAY-7 Story 2 pts, in sprint 1 from 2 Apr, taken out 13 Apr 10:00
  PAY-8 Story 3 pts, in sprint 2 from 17 Apr 18:00, out 22 Apr 10:00 and back 23 Apr 09:00; in progress 23 Apr
        10:00, done 28 Apr 12:00
  PAY-9 Story 5 pts, in sprint 2 from 17 Apr 18:00; in progress 27 Apr 09:00, done 1 May 10:00 (after the end)
  PAY-10 Bug 1 pt, added to sprint 2 on 21 Apr 10:00; in progress 22 Apr 09:00, done 24 Apr 09:00
  PAY-11 Story 3 pts, added to sprint 2 on 27 Apr 10:00, never started
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import START

from ingestion.demo import jira_api
from ingestion.demo.jira_api import JiraData
from ingestion.demo.org import Org, OrgBuilder
from ingestion.demo.server import ReplayServer
from yardstick.demo import environment, source_settings
from yardstick.publish import private_path
from yardstick.refresh import Progress, refresh

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

PAYMENTS = "acme/payments-api"
WEEK = date(2026, 4, 6)
APRIL = date(2026, 4, 1)
STATUSES = {"todo": ("10000", "To Do", "new"), "in_progress": ("3", "In Progress", "indeterminate"),
            "done": ("10001", "Done", "done")}


def at(day: int, hour: int, minute: int = 0, month: int = 4) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


SPRINTS = {1: ("PAY Sprint 1", at(6, 9), at(17, 17)), 2: ("PAY Sprint 2", at(20, 9), at(30, 17))}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def github_and_pagerduty() -> Org:
    b = OrgBuilder("acme")
    def ok(when: datetime) -> list[tuple[str, datetime]]:
        return [("success", when)]
    b.pull_request(PAYMENTS, author="ana", title="PAY-1 Card vault v2", opened_at=at(6, 10),
                   commit_times=[at(6, 9)], reviews=[("bob", "APPROVED", at(6, 12))], merged_at=at(6, 13),
                   merged_by="bob", additions=50, deletions=10)
    b.pull_request(PAYMENTS, author="bob", title="PAY-2 Retry declined payments", opened_at=at(7, 11),
                   commit_times=[at(7, 8)], reviews=[("ana", "APPROVED", at(7, 12))], merged_at=at(7, 15),
                   merged_by="ana", additions=300, deletions=100)
    b.pull_request(PAYMENTS, author="ana", title="Hotfix refund rounding", opened_at=at(8, 11, 30),
                   commit_times=[at(8, 11)], merged_at=at(8, 12), additions=5, deletions=5)
    b.pull_request(PAYMENTS, author="cat", title="PAY-4 Currency rounding", opened_at=at(9, 10),
                   commit_times=[at(9, 9)], reviews=[("ana", "COMMENTED", at(9, 14)), ("bob", "APPROVED", at(9, 15))],
                   merged_at=at(9, 16), merged_by="bob", additions=900, deletions=200)
    b.direct_commit(PAYMENTS, at=at(20, 17), message="Bump dependencies", author="bob")
    b.pull_request(PAYMENTS, author="cat", title="PAY-99 Tidy logging", opened_at=at(22, 10),
                   commit_times=[at(22, 9)], reviews=[("bob", "APPROVED", at(22, 11))], merged_at=at(22, 12),
                   merged_by="bob")
    for when in (at(6, 16), at(8, 10), at(8, 13), at(10, 11), at(21, 9)):
        b.deployment(PAYMENTS, environment="production", at=when, statuses=ok(when))
    b.incident("payments-api", created_at=at(8, 10, 30), title="Card declines spike",
               acknowledged_at=at(8, 10, 40), resolved_at=at(8, 13, 30))
    b.incident("payments-api", created_at=at(20, 10), title="Card network outage",
               acknowledged_at=at(20, 10, 5), resolved_at=at(20, 10, 30))
    return b.build()


def _sprint_field(ids: list[int]) -> list[dict[str, Any]]:
    return [{"id": i, "name": SPRINTS[i][0], "state": "closed", "boardId": 1} for i in ids]


def jira_issue(number: int, issue_type: str, points: float | None, *, sprints: list[tuple[datetime, list[int]]],
               statuses: Sequence[tuple[datetime, str]] = (), labels: tuple[str, ...] = ()) -> dict[str, Any]:
    """A Jira Cloud issue created on 1 April in To Do: `sprints` are the sprint field's values over time (each
    change one changelog entry), `statuses` the status categories it moved to."""
    histories, sprint_ids, status = [], [], "todo"
    changes = [(when, "sprint", ids) for when, ids in sprints] + [(when, "status", cat) for when, cat in statuses]
    for index, (when, kind, value) in enumerate(sorted(changes, key=lambda change: change[0])):
        if kind == "sprint":
            item = {"field": "Sprint", "fieldtype": "custom", "fieldId": "customfield_10020",
                    "from": ", ".join(map(str, sprint_ids)), "fromString": "",
                    "to": ", ".join(map(str, value)), "toString": ""}
            sprint_ids = list(value)
        else:
            (from_id, from_name, _), (to_id, to_name, _) = STATUSES[status], STATUSES[value]
            item = {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": from_id,
                    "fromString": from_name, "to": to_id, "toString": to_name}
            status = value
        histories.append({"id": str(number * 100 + index), "created": iso(when),
                          "author": {"accountId": "acc-ana"}, "items": [item]})
    status_id, status_name, category = STATUSES[status]
    created = at(1, 9)
    last = max([created] + [when for when, _, _ in changes])
    done_at = max((when for when, cat in statuses if cat == "done"), default=None) if status == "done" else None
    return {
        "id": str(10000 + number), "key": f"PAY-{number}",
        "fields": {
            "project": {"key": "PAY"}, "summary": f"Issue {number}",
            "issuetype": {"name": issue_type, "subtask": False},
            "status": {"id": status_id, "name": status_name, "statusCategory": {"key": category}},
            "priority": {"name": "Medium"}, "resolution": {"name": "Done"} if done_at else None,
            "labels": list(labels), "assignee": None, "reporter": {"accountId": "acc-ana"},
            "created": iso(created), "updated": iso(last), "resolutiondate": iso(done_at) if done_at else None,
            "customfield_10020": _sprint_field(sprint_ids) or None, "customfield_10016": points,
        },
        "changelog": {"histories": list(reversed(histories))},  # Jira sends the newest first
    }


def jira_board() -> JiraData:
    s1, s2, both = [1], [2], [1, 2]
    issues = [
        jira_issue(1, "Story", 3, sprints=[(at(2, 10), s1)], statuses=[(at(6, 9, 30), "in_progress"),
                                                                     (at(8, 15), "done")]),
        jira_issue(2, "Story", 5, sprints=[(at(2, 10), s1)], statuses=[(at(7, 8), "in_progress"),
                                                                     (at(9, 10), "done")]),
        jira_issue(3, "Bug", 2, sprints=[(at(2, 10), s1), (at(17, 17, 5), both)],
                   statuses=[(at(20, 10), "in_progress"), (at(22, 12), "done")]),
        jira_issue(4, "Story", 8, sprints=[(at(2, 10), s1)], statuses=[(at(9, 9), "in_progress"),
                                                                     (at(10, 12), "done")]),
        jira_issue(5, "Task", None, sprints=[(at(8, 10), s1)], labels=("tech-debt",),
                   statuses=[(at(13, 9), "in_progress"), (at(15, 10), "done")]),
        jira_issue(6, "Story", 1, sprints=[(at(9, 11), s1), (at(9, 16), [])]),
        jira_issue(7, "Story", 2, sprints=[(at(2, 10), s1), (at(13, 10), [])]),
        jira_issue(8, "Story", 3, sprints=[(at(17, 18), s2), (at(22, 10), []), (at(23, 9), s2)],
                   statuses=[(at(23, 10), "in_progress"), (at(28, 12), "done")]),
        jira_issue(9, "Story", 5, sprints=[(at(17, 18), s2)],
                   statuses=[(at(27, 9), "in_progress"), (at(1, 10, month=5), "done")]),
        jira_issue(10, "Bug", 1, sprints=[(at(21, 10), s2)], statuses=[(at(22, 9), "in_progress"),
                                                                     (at(24, 9), "done")]),
        jira_issue(11, "Story", 3, sprints=[(at(27, 10), s2)]),
    ]
    sprints = [{"id": i, "name": name, "state": "closed", "startDate": iso(start), "endDate": iso(end),
                "completeDate": iso(end), "originBoardId": 1, "goal": ""}
               for i, (name, start, end) in SPRINTS.items()]
    statuses = [{"id": ident, "name": name, "untranslatedName": name, "statusCategory": {"key": category}}
                for ident, name, category in STATUSES.values()]
    return JiraData(issues=issues, statuses=statuses, sprints={1: sprints},
                    boards=[{"id": 1, "name": "PAY board", "type": "scrum", "location": {"projectKey": "PAY"}}])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The scenario ingested through the real GitHub, PagerDuty and Jira clients and built once."""
    path = tmp_path_factory.mktemp("beyond_dora") / "warehouse.duckdb"
    org = github_and_pagerduty()
    org.jira = jira_board()
    with ReplayServer(org) as server, environment({
        **source_settings(server, [PAYMENTS], date.fromisoformat(START)),
        **jira_api.source_settings(server.url + "/jira", ["PAY"], START),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    }):
        refresh(path, from_scratch=True, progress=Progress(quiet=True))
    yield path


def one(path: Path, sql: str) -> dict[str, Any]:
    with duckdb.connect(str(private_path(path)), read_only=True) as con:
        rows = con.sql(sql)
        names = rows.columns
        fetched = rows.fetchall()
    assert len(fetched) == 1, (sql, fetched)
    return dict(zip(names, fetched[0], strict=True))


def test_stage_medians_of_the_week(warehouse: Path) -> None:
    row = one(warehouse, f"select * from marts.flow_stage_breakdown_weekly "
                         f"where team = 'payments' and week_start = '{WEEK}'")
    # deployed that week: P1 (coding 1, pickup 2, review 1, deploy 13:00 → 16:00 = 3, lead 7),
    # P2 (3, 1, 3, 7 Apr 15:00 → 8 Apr 10:00 = 19, lead 26), P3 (0.5, never reviewed: no pickup or review, 1, lead 2),
    # P4 (1, ana's comment after 4 h, 14:00 → 16:00 = 2, 9 Apr 16:00 → 10 Apr 11:00 = 19, lead 26)
    assert row["changes"] == 4
    assert row["coding_median_hours"] == pytest.approx(1.0)  # (0.5, 1, 1, 3)
    assert row["coding_p75_hours"] == pytest.approx(1.5)  # 1 + 0.25 × (3 − 1)
    assert row["pickup_median_hours"] == pytest.approx(2.0)  # (1, 2, 4)
    assert row["review_median_hours"] == pytest.approx(2.0)  # (1, 2, 3)
    assert row["deploy_median_hours"] == pytest.approx(11.0)  # (1, 3, 19, 19) → (3 + 19) / 2
    assert row["lead_time_median_hours"] == pytest.approx(16.5)  # (2, 7, 26, 26) → (7 + 26) / 2
    # shares over P1, P2 and P4 (every span known): lead 7 + 26 + 26 = 59
    assert row["coding_share"] == pytest.approx(5 / 59)  # 1 + 3 + 1
    assert row["pickup_share"] == pytest.approx(7 / 59)  # 2 + 1 + 4
    assert row["review_share"] == pytest.approx(6 / 59)  # 1 + 3 + 2
    assert row["deploy_share"] == pytest.approx(41 / 59)  # 3 + 19 + 19


def test_pr_hygiene_shares_of_the_week(warehouse: Path) -> None:
    row = one(warehouse, f"select * from marts.flow_pr_hygiene_weekly "
                         f"where team = 'payments' and week_start = '{WEEK}'")
    # merged that week: P1 60 lines, P2 400, P3 10, P4 1100
    assert row["merged_prs"] == 4
    assert row["share_unreviewed"] == pytest.approx(1 / 4)  # P3
    assert row["share_self_merged"] == pytest.approx(1 / 4)  # P3 (ana merged her own PR)
    assert row["share_merged_without_approval"] == pytest.approx(1 / 4)  # P3
    assert row["size_lines_median"] == pytest.approx(230.0)  # (10, 60, 400, 1100) → (60 + 400) / 2
    assert (row["prs_small"], row["prs_medium"], row["prs_large"], row["prs_huge"]) == (2, 1, 0, 1)
    assert row["review_turnaround_median_hours"] == pytest.approx(2.0)  # pickups (2, 1, 4)


def test_rework_rate_of_the_month(warehouse: Path) -> None:
    row = one(warehouse, f"select * from marts.dora_team_monthly where team = 'payments' and month_start = '{APRIL}'")
    # D1…D5 are successful production deployments; only D3 ships an unplanned fix (the hotfix P3)
    assert row["deployments"] == 5
    assert row["rework_deployments"] == 1
    assert row["rework_rate"] == pytest.approx(1 / 5)
    with duckdb.connect(str(private_path(warehouse)), read_only=True) as con:
        flags = con.sql("select deployed_at, is_rework from marts.fct_deployments order by deployed_at").fetchall()
    assert [rework for _, rework in flags] == [False, False, True, False, False]


def test_planning_accuracy_and_scope_creep_of_both_sprints(warehouse: Path) -> None:
    first = one(warehouse, "select * from marts.planning_sprint_outcomes where sprint_name = 'PAY Sprint 1'")
    # committed at the start (6 Apr 09:00): PAY-1, 2, 3, 4, 7 → 5 issues, 3 + 5 + 2 + 8 + 2 = 20 points.
    # added: PAY-5 (8 Apr, no estimate); PAY-6 came and went on 9 Apr → neither added nor removed.
    # removed: PAY-7 (13 Apr). completed by 17 Apr 17:00: PAY-1, 2, 4 (committed) and PAY-5; PAY-3 is not done.
    assert first["team"] == "payments"
    assert (first["committed_issues"], first["committed_points"]) == (5, 20.0)
    assert (first["added_issues"], first["added_points"]) == (1, 0.0)
    assert (first["removed_issues"], first["removed_points"]) == (1, 2.0)
    assert (first["completed_issues"], first["completed_points"]) == (4, 16.0)  # 3 + 5 + 8 + 0
    assert first["churned_issues"] == 0
    assert first["planning_accuracy"] == pytest.approx(3 / 5)
    assert first["scope_creep_issues"] == pytest.approx(1 / 5)
    assert first["scope_creep_points"] == pytest.approx(0 / 20)

    second = one(warehouse, "select * from marts.planning_sprint_outcomes where sprint_name = 'PAY Sprint 2'")
    # committed at the start (20 Apr 09:00): PAY-3 (carried over, 2), PAY-8 (3), PAY-9 (5) → 3 issues, 10 points.
    # added: PAY-10 (1) and PAY-11 (3) → 2 issues, 4 points. PAY-8 went out on 22 Apr and came back: churn.
    # completed by 30 Apr 17:00: PAY-3, PAY-8 (committed) and PAY-10; PAY-9 is done on 1 May, too late.
    assert (second["committed_issues"], second["committed_points"]) == (3, 10.0)
    assert (second["added_issues"], second["added_points"]) == (2, 4.0)
    assert second["removed_issues"] == 0
    assert (second["completed_issues"], second["completed_points"]) == (3, 6.0)  # 2 + 3 + 1
    assert second["churned_issues"] == 1
    assert second["planning_accuracy"] == pytest.approx(2 / 3)
    assert second["scope_creep_issues"] == pytest.approx(2 / 3)
    assert second["scope_creep_points"] == pytest.approx(4 / 10)
    # predictability over the last 6 sprints = these two: mean (3/5 + 2/3) / 2 = 19/30, sample sd |2/3 − 3/5| / √2
    assert second["predictability_mean"] == pytest.approx(19 / 30)
    assert second["predictability_stddev"] == pytest.approx((2 / 3 - 3 / 5) / 2 ** 0.5)


def test_cycle_time_and_investment(warehouse: Path) -> None:
    row = one(warehouse, "select * from marts.planning_issue_cycle_time where issue_ref = 'PAY-1'")
    assert row["cycle_time_hours"] == pytest.approx(53.5)  # 6 Apr 09:30 → 8 Apr 15:00
    with duckdb.connect(str(private_path(warehouse)), read_only=True) as con:
        shares = con.sql(f"""select category, done_issues, done_points, issue_share
                             from marts.planning_investment_monthly
                             where team = 'payments' and month_start = '{APRIL}' order by category""").fetchall()
    # done in April: Stories PAY-1, 2, 4, 8 (3 + 5 + 8 + 3 points), Bugs PAY-3, 10 (2 + 1), PAY-5 labelled tech-debt
    assert shares == [("defects", 2, 3.0, pytest.approx(2 / 7)), ("features", 4, 19.0, pytest.approx(4 / 7)),
                      ("tech_debt", 1, 0.0, pytest.approx(1 / 7))]


def test_link_coverage_of_the_month(warehouse: Path) -> None:
    row = one(warehouse, f"select * from marts.quality_link_coverage where team = 'payments' and month = '{APRIL}'")
    # merged: P1…P5; linked to a known issue: P1, P2, P4 (PAY-99 is no issue); shipped: P1…P4 (P5 after D5)
    assert (row["merged_prs"], row["prs_linked_to_issue"], row["prs_linked_to_deployment"]) == (5, 3, 4)
    assert row["pr_issue_link_share"] == pytest.approx(3 / 5)
    assert row["pr_deployment_link_share"] == pytest.approx(4 / 5)
    # deployments D1…D5, D5 shipped no change; incidents I1 (→ D2) and I2 (nothing deployed within 24 h)
    assert (row["deployments"], row["deployments_with_changes"]) == (5, 4)
    assert row["deployment_change_share"] == pytest.approx(4 / 5)
    assert (row["incidents"], row["incidents_attributed"]) == (2, 1)
    assert row["incident_attribution_share"] == pytest.approx(1 / 2)


def test_story_points_field_must_be_a_number() -> None:
    from ingestion.errors import PayloadError
    from ingestion.sources.jira import story_points

    assert story_points(3, "/rest/api/3/search", "10001") == "3.0"
    assert story_points(None, "/rest/api/3/search", "10001") is None
    with pytest.raises(PayloadError, match=r"^jira: bad record '10001' from /rest/api/3/search: story points field: "
                                           r"expected a number, got 'three'"):
        story_points("three", "/rest/api/3/search", "10001")


def test_an_older_warehouse_gains_the_story_points_column(tmp_path: Path) -> None:
    from ingestion.pipeline import ensure_raw_tables

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # raw_jira.issues as releases before story points created it
        con.execute("create schema raw_jira")
        con.execute("create table raw_jira.issues (id varchar, key varchar, sprint_ids varchar)")
        con.execute("insert into raw_jira.issues values ('1', 'PAY-1', '7')")
    ensure_raw_tables(path)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.sql("select key, sprint_ids, story_points from raw_jira.issues").fetchall() == [
            ("PAY-1", "7", None)]
