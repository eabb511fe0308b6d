"""The demo organisation's product events tell one story: the deployment that shipped the checkout bug and the
one that fixed it are the releases with the worst and best checkout-conversion impact, and the funnel drops
between them; its goals show every status the report explains. The demo is built as of pinned days, never the
day the test runs: 2026-12-02 (the day this test failed when it read the real clock; the demo the suite shares,
conftest.py), a month end and a leap day. These builds repeat data the shared demo's build checks with every dbt
data test, so they build the models only (dbt_unit_tests.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO

from ingestion.demo.events import generate_events
from ingestion.demo.generator import generate_org
from yardstick.demo import run_demo
from yardstick.refresh import Progress

TODAY = date(2026, 12, 2)
OTHER_DAYS = [date(2027, 1, 31), date(2028, 2, 29)]
DBT_DATA_TESTS = False
GOAL_STATUSES = {"met", "missed", "on_track", "off_track"}  # the statuses the report's goals section explains


@dataclass
class Demo:
    warehouse: Path
    story: object
    today: date


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[date], Demo]:
    """A small demo (2 teams, 8 weeks) ending on a given day, built once per day in this module (the shared one for
    2026-12-02)."""
    built: dict[date, Demo] = {}

    def get(today: date) -> Demo:
        if today not in built:
            work = tmp_path_factory.mktemp(f"demo-{today}")
            story = generate_events(generate_org(teams=2, weeks=8, seed=3, end=today), work / "events", seed=3)
            if today == DEMO["today"]:  # the suite's shared demo (conftest.py) is this one
                warehouse = request.getfixturevalue("demo_warehouse")
            else:
                warehouse = work / "warehouse.duckdb"
                run_demo(warehouse, teams=2, weeks=8, seed=3, today=today, progress=Progress(quiet=True))  # same org
            built[today] = Demo(warehouse, story, today)
        return built[today]

    return get


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("today", [TODAY, *OTHER_DAYS], ids=str)
def test_every_goal_status_shows_on_any_day(demos: Callable[[date], Demo], today: date) -> None:
    demo = demos(today)
    statuses = dict(query(demo.warehouse, "select goal_id, status from marts.goals_status"))
    assert set(statuses.values()) >= GOAL_STATUSES, statuses
    judged_on = {day for (day,) in query(demo.warehouse, "select distinct judged_on from marts.goals_status "
                                                         "where judged_on is not null")}
    assert judged_on == {today}  # goals are judged on the demo's last day, whatever day the test runs


@pytest.mark.parametrize("today", [TODAY, *OTHER_DAYS], ids=str)
def test_the_bug_and_fix_releases_line_up_with_the_funnel(demos: Callable[[date], Demo], today: date) -> None:
    warehouse, story = demos(today).warehouse, demos(today).story
    assert story.fix_shipped_at.date() <= today  # type: ignore[attr-defined]
    assert {service for (service,) in query(warehouse,
                                             "select distinct service from marts.product_release_impact")} \
        == {story.service}
    impact = query(warehouse, """
        select deployment_id, deployed_date, difference from marts.product_release_impact
        where metric = 'conversion_checkout' and before_days = window_days and after_days = window_days
        order by difference""")
    by_id = {deployment: difference for deployment, _, difference in impact}
    bug_day, fix_day = story.bug_shipped_at.date(), story.fix_shipped_at.date()
    # the most harmful release (with full 7-day windows) landed on the bug's day or the release day before it (the
    # deployment day is in neither window, so the day before's release compares nearly the same days and day-to-day
    # noise can put it first); the bug and fix releases moved checkout conversion by more than 10 points each way;
    # releases more than a window away from both by less
    assert bug_day - timedelta(days=1) <= impact[0][1] <= bug_day
    assert by_id[str(story.bug_deployment_id)] < -0.1
    assert by_id[str(story.fix_deployment_id)] > 0.1
    quiet = [difference for _, day, difference in impact
             if min(abs((day - bug_day).days), abs((day - fix_day).days)) > 7]
    assert quiet and max(abs(difference) for difference in quiet) < 0.1

    conversion = dict(query(warehouse, f"""
        select
            case
                when cohort_date < '{story.bug_shipped_at.date()}' then 'before'
                when cohort_date > '{story.fix_shipped_at.date()}' then 'after'
                when cohort_date > '{story.bug_shipped_at.date()}' and cohort_date < '{story.fix_shipped_at.date()}'
                    then 'bug'
            end as period,
            sum(units_reached) filter (where step = 4) / sum(units_reached) filter (where step = 1)
        from marts.product_funnel_daily where funnel = 'checkout' group by 1"""))
    assert conversion["bug"] < conversion["before"] / 2
    assert conversion["after"] > conversion["bug"] * 2

    # during the bug, mobile is the platform that hurts errors per user the most
    worst = query(warehouse, f"""
        select segment from marts.product_metric_segments_daily
        where metric = 'errors_per_user' and dimension = 'platform'
            and metric_date > '{story.bug_shipped_at.date()}' and metric_date < '{story.fix_shipped_at.date()}'
        group by segment order by sum(impact) desc limit 1""")
    assert worst == [("mobile",)]
