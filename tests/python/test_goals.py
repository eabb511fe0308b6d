"""Goals judged at their due date stay judged: later data never changes a past verdict."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from yardstick.dbt import dbt
from yardstick.publish import private_path

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

GOALS = ["int_goal_metric_values", "int_goal_verdicts", "goals_status", "goals_actions", "goals_team_maturity"]


def build_goals(warehouse: Path, as_of: str) -> None:
    """Rebuild only the goal models on the facts already in the warehouse, judging at `as_of`."""
    dbt(["build", "--select", *GOALS], warehouse, vars={"as_of_date": as_of})


def goal(warehouse: Path, goal_id: str) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select status, current_value, is_frozen, judged_on from marts.goals_status "
                           "where goal_id = ?", [goal_id]).fetchone()


def test_a_verdict_is_frozen_at_the_due_date(scenario_warehouse: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(private_path(scenario_warehouse), warehouse)  # every layer: dbt rebuilds goals on it
    # goals read the intermediate facts (int_change_facts, docs/architecture.md §9a), never marts.
    # seeds/metric_targets.csv: payments-lead-time aims for a 24 h median lead time by 2026-10-31.
    # Two payments changes ship in the 28 days before that (10 and 28 October), at 20 h and 22 h → median 21 h: met.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("""insert into intermediate.int_change_facts (pull_request_key, repository, team, number, merged_at,
                           deployed_at, lead_time_hours, source_system)
                       values ('github:acme/payments-api#90', 'acme/payments-api', 'payments', 90,
                               '2026-10-10 08:00:00', '2026-10-10 10:00:00', 20, 'github'),
                              ('github:acme/payments-api#91', 'acme/payments-api', 'payments', 91,
                               '2026-10-28 08:00:00', '2026-10-28 10:00:00', 22, 'github')""")

    build_goals(warehouse, as_of="2026-10-15")
    assert goal(warehouse, "payments-lead-time")[:3] == ("on_track", 20.0, False)  # open: only the first so far

    build_goals(warehouse, as_of="2026-11-02")
    status, value, frozen, judged_on = goal(warehouse, "payments-lead-time")
    assert (status, value, frozen, str(judged_on)) == ("met", 21.0, True, "2026-11-02")

    # late data arrives for the judged window: it would now be missed (median 30 h) — the verdict stands
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update intermediate.int_change_facts set lead_time_hours = 40 where number = 91 "
                    "and repository = 'acme/payments-api'")
    build_goals(warehouse, as_of="2026-11-20")
    assert goal(warehouse, "payments-lead-time") == (status, value, frozen, judged_on)
