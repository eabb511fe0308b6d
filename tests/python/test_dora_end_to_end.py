"""Ingest → build → gates → publish against the replay server, on the hand-written March 2026 scenario
(see scenarios.py for the story). Every expected figure below is computed by hand in the comments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

MARCH = date(2026, 3, 1)


@pytest.fixture()
def warehouse(scenario_warehouse: Path) -> Path:
    return scenario_warehouse


def rows(warehouse: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(sql)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


DORA_COLUMNS = ("deployments, deployment_days, lead_time_median_hours, lead_time_p75_hours, change_failure_rate, "
                "recovery_median_hours, time_to_restore_median_hours, rework_rate, deployment_frequency_tier, "
                "lead_time_tier, change_failure_rate_tier, recovery_time_tier")


def test_team_monthly_dora(warehouse: Path) -> None:
    got = {row.pop("team"): row for row in rows(warehouse, f"""
        select team, {DORA_COLUMNS} from marts.dora_team_monthly where month_start = '{MARCH}' order by team""")}
    assert got == {
        "payments": {
            # D1, D2, D4 succeeded in production (D3 failed, staging is not production): 3 on 3 days
            "deployments": 3, "deployment_days": 3,
            # lead times 7 (PR1), 34 (PR2), 9 (PR3), 23 (PR4) → median (9+23)/2, p75 23 + 0.25·(34−23)
            "lead_time_median_hours": 16.0, "lead_time_p75_hours": 25.75,
            # only D2 has incidents (I1 by window, I2 explicitly) → 1/3
            "change_failure_rate": pytest.approx(1 / 3),
            # attributed incidents restore in 1.5 h (I1) and 3 h (I2); all three: 1.5, 3, 0.5
            "recovery_median_hours": 2.25, "time_to_restore_median_hours": 1.5,
            "rework_rate": 0.0,
            # 2023 tiers: 3·7/31 = 0.68 deploys a week (medium); 16 h (elite); 33 % (low); 2.25 h (high)
            "deployment_frequency_tier": "medium", "lead_time_tier": "elite",
            "change_failure_rate_tier": "low", "recovery_time_tier": "high",
        },
        "search": {
            # S1, S2, S3 (the rollback) on 2 and 3 March
            "deployments": 3, "deployment_days": 2,
            # PR5 3 h, PR6 4 h → median 3.5, p75 3.75
            "lead_time_median_hours": 3.5, "lead_time_p75_hours": 3.75,
            # S2 was rolled back by S3 → 1/3; S3 is rework → 1/3; no incidents
            "change_failure_rate": pytest.approx(1 / 3), "recovery_median_hours": None,
            "time_to_restore_median_hours": None, "rework_rate": pytest.approx(1 / 3),
            "deployment_frequency_tier": "medium", "lead_time_tier": "elite",
            "change_failure_rate_tier": "low", "recovery_time_tier": None,
        },
    }


def test_team_weekly_dora(warehouse: Path) -> None:
    got = {(row.pop("team"), str(row.pop("week_start"))): row for row in rows(warehouse, """
        select team, week_start, deployments, deployment_days, lead_time_median_hours, lead_time_p75_hours,
               change_failure_rate, recovery_median_hours
        from marts.dora_team_weekly where team = 'payments' order by week_start""")}
    assert got == {
        # week of Monday 2 March: D1, D2; lead times 7, 34, 9 → median 9, p75 9 + 0.5·(34−9); D2 failed → 1/2;
        # I1 started this week (1.5 h)
        ("payments", "2026-03-02"): {"deployments": 2, "deployment_days": 2, "lead_time_median_hours": 9.0,
                                     "lead_time_p75_hours": 21.5, "change_failure_rate": 0.5,
                                     "recovery_median_hours": 1.5},
        # week of 9 March: D4 (PR4, 23 h), no failure; I2 started this week though it was caused by D2 (3 h)
        ("payments", "2026-03-09"): {"deployments": 1, "deployment_days": 1, "lead_time_median_hours": 23.0,
                                     "lead_time_p75_hours": 23.0, "change_failure_rate": 0.0,
                                     "recovery_median_hours": 3.0},
        # week of 16 March: only I3, unattributed
        ("payments", "2026-03-16"): {"deployments": 0, "deployment_days": 0, "lead_time_median_hours": None,
                                     "lead_time_p75_hours": None, "change_failure_rate": None,
                                     "recovery_median_hours": None},
    }


def test_org_monthly_dora(warehouse: Path) -> None:
    [got] = rows(warehouse, f"select {DORA_COLUMNS} from marts.dora_org_monthly where month_start = '{MARCH}'")
    assert got == {
        "deployments": 6, "deployment_days": 4,  # 2, 3, 4 and 10 March
        # lead times 3, 4, 7, 9, 23, 34 → median (7+9)/2, p75 9 + 0.75·(23−9)
        "lead_time_median_hours": 8.0, "lead_time_p75_hours": 19.5,
        "change_failure_rate": pytest.approx(2 / 6), "recovery_median_hours": 2.25,
        "time_to_restore_median_hours": 1.5, "rework_rate": pytest.approx(1 / 6),
        # 6·7/31 = 1.35 a week (high)
        "deployment_frequency_tier": "high", "lead_time_tier": "elite",
        "change_failure_rate_tier": "low", "recovery_time_tier": "high",
    }


def test_changes_carry_stage_spans_and_links(warehouse: Path) -> None:
    got = rows(warehouse, """
        select number, coding_hours, pickup_hours, review_hours, deploy_hours, lead_time_hours,
               deployment_link_method
        from marts.fct_changes where repository = 'acme/payments-api' order by number""")
    assert got == [
        {"number": 1, "coding_hours": 1.0, "pickup_hours": 2.0, "review_hours": 1.0, "deploy_hours": 3.0,
         "lead_time_hours": 7.0, "deployment_link_method": "commit_range"},
        {"number": 2, "coding_hours": 4.0, "pickup_hours": 4.0, "review_hours": 1.0, "deploy_hours": 25.0,
         "lead_time_hours": 34.0, "deployment_link_method": "commit_range"},
        # ana's comment on her own PR is not a pickup: bob's approval at 14:00 is
        {"number": 3, "coding_hours": 0.5, "pickup_hours": 4.5, "review_hours": 1.0, "deploy_hours": 3.0,
         "lead_time_hours": 9.0, "deployment_link_method": "commit_range"},
        {"number": 4, "coding_hours": 1.0, "pickup_hours": 2.0, "review_hours": 1.0, "deploy_hours": 19.0,
         "lead_time_hours": 23.0, "deployment_link_method": "commit_range"},
    ]


def test_incidents_are_attributed_by_precedence(warehouse: Path) -> None:
    got = rows(warehouse, """
        select incidents.title, incidents.link_method, incidents.hours_to_restore,
               deployments.deployed_at as caused_by_deployed_at
        from marts.fct_incidents as incidents
        left join marts.fct_deployments as deployments
            on incidents.caused_by_deployment_id = deployments.deployment_id
        order by incidents.started_at""")
    assert [(r["title"], r["link_method"], r["hours_to_restore"], str(r["caused_by_deployed_at"])) for r in got] == [
        ("Checkout errors", "service_window", 1.5, "2026-03-04 18:00:00"),
        ("Refunds failing", "explicit", 3.0, "2026-03-04 18:00:00"),
        ("Card network outage", None, 0.5, "None"),
    ]


def test_deployment_flags(warehouse: Path) -> None:
    got = rows(warehouse, """
        select repository, environment, status, deployed_at, change_count, is_rollback, is_rolled_back,
               is_failure, is_rework
        from marts.fct_deployments order by repository, created_at""")
    summary = [(r["repository"].split("/")[1], r["environment"], r["status"], r["change_count"], r["is_rollback"],
                r["is_rolled_back"], r["is_failure"], r["is_rework"]) for r in got]
    assert summary == [
        ("payments-api", "production", "success", 1, False, False, False, False),   # D1
        ("payments-api", "production", "success", 2, False, False, True, False),    # D2: two incidents
        ("payments-api", "production", "failure", 0, False, False, False, False),   # D3 never deployed
        ("payments-api", "staging", "success", 0, False, False, False, False),
        ("payments-api", "production", "success", 1, False, False, False, False),   # D4
        ("search-api", "production", "success", 1, False, False, False, False),     # S1
        ("search-api", "production", "success", 1, False, True, True, False),       # S2 rolled back
        ("search-api", "production", "success", 0, True, False, False, True),       # S3 the rollback
    ]


def test_marts_hold_no_names_or_logins(warehouse: Path) -> None:
    people = ["ana", "bob", "cat", "dan", "eve", "deploy-bot"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.sql("""select table_name, column_name from information_schema.columns
                             where table_schema = 'marts' and data_type = 'VARCHAR'""").fetchall()
        for table, column in columns:
            values = {v for (v,) in con.sql(f'select distinct "{column}" from marts.{table}').fetchall()}
            assert not values & set(people), f"marts.{table}.{column} exposes a login"


def test_summary_table_shows_each_team_with_tiers(warehouse: Path) -> None:
    from rich.console import Console

    from yardstick.summary import dora_table

    console = Console(width=120, record=True)
    console.print(dora_table(warehouse))
    text = console.export_text()
    assert "DORA by team, March 2026 (tiers: 2023 report)" in text
    payments = next(line.split() for line in text.splitlines() if "payments" in line)
    #         team        deploys   days  lead p50   p75     CFR        recovery  rework
    assert payments == ["payments", "3", "M", "3", "16", "E", "26", "33%", "L", "2.2", "H", "0%"]


# one bad row per reconciliation of the mart gate: (what is planted, the check it must trip, the row it names)
PLANTS = {
    "stage hours sum to lead time": (
        ("update marts.fct_changes set lead_time_hours = lead_time_hours + 1 where pull_request_key = "
         "'github:acme/payments-api#1'"), "'pull_request_key': 'github:acme/payments-api#1'"),
    "deployment change count equals linked changes": (
        ("update marts.fct_deployments set change_count = change_count + 1 where deployment_id = "
         "(select min(deployment_id) from marts.fct_changes)"), "'change_count': "),
    "dora_team_monthly deployments and CFR recomputed": (
        "update marts.dora_team_monthly set change_failure_rate = 0.5 where team = 'search'",
        "'team': 'search', 'month_start': '2026-03-01"),
    "dora_team_weekly periods within the data": (
        ("insert into marts.dora_team_weekly select * replace (date '2030-01-07' as week_start) "
         "from marts.dora_team_weekly where team = 'payments' limit 1"),
        "'team': 'payments', 'week_start': '2030-01-07"),
}


def test_the_built_marts_pass_every_reconciliation(warehouse: Path) -> None:
    from yardstick.quality import MART_SUITE, run_gate

    assert run_gate("marts", warehouse, MART_SUITE) == []
    stages = rows(warehouse, "select count(*) as n from marts.fct_changes where coding_hours is not null and "
                             "pickup_hours is not null and review_hours is not null and deploy_hours is not null")
    assert stages[0]["n"] >= 3  # the stage-sum check has rows to look at


@pytest.mark.parametrize("check", list(PLANTS))
def test_mart_gate_fails_on_a_planted_bad_row(warehouse: Path, tmp_path: Path, check: str) -> None:
    import shutil

    from yardstick.errors import QualityGateFailed
    from yardstick.quality import MART_SUITE, enforce, run_gate

    plant, named = PLANTS[check]
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        assert con.execute(plant).fetchall()[0][0] >= 1  # the plant changed a row
    failures = {failure.table: failure for failure in run_gate("marts", copy, MART_SUITE)}
    assert check in failures, failures
    assert failures[check].unexpected_count >= 1 and named in str(failures[check].sample)
    with pytest.raises(QualityGateFailed, match=rf"marts quality gate failed: .*on {check}: "):
        enforce("marts", copy, MART_SUITE)


def test_hide_logins_test_covers_every_mart(warehouse: Path, tmp_path: Path) -> None:
    """A login planted in a mart other than fct_changes fails dbt's test; the unchanged marts pass it."""
    import shutil

    from yardstick.dbt import dbt
    from yardstick.errors import BuildFailed
    from yardstick.publish import private_path

    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(private_path(warehouse), copy)
    dbt(["test", "--select", "assert_marts_hide_logins"], copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update marts.fct_incidents set title = 'ana' where incident_id = "
                    "(select min(incident_id) from marts.fct_incidents)")
    with pytest.raises(BuildFailed, match=r"test assert_marts_hide_logins: Got 1 result"):
        dbt(["test", "--select", "assert_marts_hide_logins"], copy)
