"""The demo organisation's product events tell one story: the deployment that shipped the checkout bug and the
one that fixed it are the releases with the worst and best checkout-conversion impact, and the funnel drops
between them; its goals show every status the report explains. The demo is built as of pinned days, never the
day the test runs: 2026-12-02 (the day this test failed when it read the real clock), a month end and a leap day.

Readers see only what they should: no login, name or e-mail of the raw data is in any text column of the
published file or of the PostgreSQL copy, unless `expose_individuals` is set."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest
from conftest import TEST_PERSON_KEY
from postgres_server import Postgres

from ingestion.demo.events import generate_events
from ingestion.demo.generator import generate_org
from yardstick.dbt import PROJECT_DIR
from yardstick.demo import demo_vars, run_demo
from yardstick.person_key import pads
from yardstick.postgres import publish_postgres
from yardstick.publish import private_path
from yardstick.refresh import Progress, refresh

TODAY = date(2026, 12, 2)
OTHER_DAYS = [date(2027, 1, 31), date(2028, 2, 29)]
GOAL_STATUSES = {"met", "missed", "on_track", "off_track"}  # the statuses the report's goals section explains


@dataclass
class Demo:
    warehouse: Path
    story: object
    today: date


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Callable[[date], Demo]:
    """A small demo (2 teams, 8 weeks) ending on a given day, built once per day in this module."""
    built: dict[date, Demo] = {}

    def get(today: date) -> Demo:
        if today not in built:
            work = tmp_path_factory.mktemp(f"demo-{today}")
            story = generate_events(generate_org(teams=2, weeks=8, seed=3, end=today), work / "events", seed=3)
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


# every person-identifying string the raw layer holds: logins, usernames, account ids, names, e-mails
IDENTIFYING = {
    "raw_github.pull_requests": ["user_login", "merged_by_login"],
    "raw_github.pull_request_reviews": ["user_login"],
    "raw_github.pull_request_commits": ["author_login", "author_name", "author_email", "committer_email"],
    "raw_github.commits": ["author_login", "author_name", "author_email", "committer_email"],
    "raw_github.issues": ["user_login", "assignee_login"],
    "raw_jira.issues": ["assignee_account_id", "assignee_email", "assignee_name", "reporter_account_id"],
    "raw_gitlab.merge_requests": ["author_username", "merged_by_username"],
    "raw_gitlab.merge_request_notes": ["author_username"],
    "raw_gitlab.commits": ["author_name", "author_email", "committer_email"],
    "raw_git.commits": ["author_name", "author_email", "committer_name", "committer_email"],
}


def identifying_values(warehouse: Path) -> set[str]:
    """Every login, account id, name and e-mail in the raw data (in the private file)."""
    found: set[str] = set()
    for table, columns in IDENTIFYING.items():
        for column in columns:
            found |= {value for (value,) in query(private_path(warehouse), f"select distinct {column} from {table}")
                      if value}
    return found


def duckdb_hits(warehouse: Path, identifying: set[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) of every identifying value in any text column of any table of the file."""
    hits = []
    for schema, table, column in query(warehouse, """
            select table_schema, table_name, column_name from information_schema.columns
            where data_type in ('VARCHAR', 'JSON') or data_type like '%[]' or data_type like 'STRUCT%'"""):
        values = {value for (value,) in query(
            warehouse, f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"') if value}
        hits += [(f"{schema}.{table}", column, value) for value in values
                 if value in identifying or any(f'"{person}"' in value or f"'{person}'" in value
                                                for person in identifying)]
    return hits


def postgres_hits(url: str, identifying: set[str]) -> list[tuple[str, str, str]]:
    """The same scan over every text column of every user schema of the PostgreSQL copy."""
    hits = []
    with psycopg.connect(url) as con:
        columns = con.execute("""
            select table_schema, table_name, column_name from information_schema.columns
            where table_schema not in ('pg_catalog', 'information_schema')
                and data_type in ('text', 'character varying', 'json', 'jsonb')""").fetchall()
        assert columns
        for schema, table, column in columns:
            values = {value for (value,) in con.execute(
                f'select distinct cast("{column}" as text) from "{schema}"."{table}"').fetchall() if value}
            hits += [(f"{schema}.{table}", column, value) for value in values if value in identifying]
    return hits


def test_readers_see_no_login_name_or_email_unless_a_team_opts_in(
    demos: Callable[[date], Demo], postgres: Postgres, tmp_path: Path,
) -> None:
    demo = demos(TODAY)
    identifying = identifying_values(demo.warehouse)
    assert len(identifying) > 20  # the demo has people in every tool, so the scans below mean something
    schemas = {s for (s,) in query(demo.warehouse, "select distinct table_schema from information_schema.tables")}
    assert schemas == {"marts", "seeds"}  # a demo has no ops schema: no nightly ran
    assert duckdb_hits(demo.warehouse, identifying) == []
    assert duckdb_hits(private_path(demo.warehouse), identifying)  # the private file has them all
    publish_postgres(demo.warehouse, postgres.url())
    assert postgres_hits(postgres.url(), identifying) == []

    # a team that opts in (`expose_individuals: true`) sees them: the same scans find them, so they can
    exposed = tmp_path / "warehouse.duckdb"
    shutil.copyfile(private_path(demo.warehouse), private_path(exposed))
    refresh(exposed, ingest=False, progress=Progress(quiet=True),
            vars={**demo_vars(demo.story, TODAY), "expose_individuals": True})
    assert {hit[0] for hit in duckdb_hits(exposed, identifying)} >= {"marts.fct_changes", "marts.dim_people"}
    publish_postgres(exposed, postgres.url())
    assert {hit[0] for hit in postgres_hits(postgres.url(), identifying)} >= {"marts.fct_changes"}


def test_the_person_key_is_in_no_compiled_sql_log_or_file(demos: Callable[[date], Demo]) -> None:
    demo = demos(TODAY)
    secrets = [TEST_PERSON_KEY.encode(), *(pad.hex().encode() for pad in pads(TEST_PERSON_KEY))]
    folders = [PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target"),
               PROJECT_DIR / os.environ.get("DBT_LOG_PATH", "logs"), demo.warehouse.parent]
    files = [path for folder in folders for path in folder.rglob("*") if path.is_file()]
    assert any(path.name == "fct_changes.sql" for path in files)  # dbt's compiled SQL is among them
    assert [path for path in files if any(secret in path.read_bytes() for secret in secrets)] == []
