"""The demo organisation's product events tell one story: the deployment that shipped the checkout bug and the
one that fixed it are the releases with the worst and best checkout-conversion impact, and the funnel drops
between them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO

from ingestion.demo.events import generate_events
from ingestion.demo.generator import generate_org


@pytest.fixture(scope="module")
def demo(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The shared demo warehouse (conftest.py: run_demo with DEMO) and the story of its product events,
    generated again from the same organisation (same seed, today)."""
    work = tmp_path_factory.mktemp("demo")
    story = generate_events(generate_org(teams=DEMO["teams"], weeks=DEMO["weeks"], seed=DEMO["seed"],
                                         end=date.today()), work / "events", seed=DEMO["seed"])
    return demo_warehouse, story


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_bug_and_fix_releases_line_up_with_the_funnel(demo: tuple[Path, object]) -> None:
    warehouse, story = demo
    assert {service for (service,) in query(warehouse,
                                             "select distinct service from marts.product_release_impact")} \
        == {story.service}
    impact = query(warehouse, """
        select deployment_id, deployed_date, difference from marts.product_release_impact
        where metric = 'conversion_checkout' and before_days = window_days and after_days = window_days
        order by difference""")
    by_id = {deployment: difference for deployment, _, difference in impact}
    bug_day, fix_day = story.bug_shipped_at.date(), story.fix_shipped_at.date()
    # the most harmful release (with full 7-day windows) landed on the bug's day; the bug and fix releases moved
    # checkout conversion by more than 10 points each way; releases more than a window away from both by less
    assert impact[0][1] == bug_day
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


def test_no_login_name_or_email_reaches_the_marts_by_default(demo: tuple[Path, object]) -> None:
    warehouse, _ = demo
    identifying: set[str] = set()
    for table, columns in IDENTIFYING.items():
        for column in columns:
            identifying |= {value for (value,) in query(warehouse, f"select distinct {column} from {table}")
                            if value}
    assert len(identifying) > 20  # the demo has people in every tool, so the check below means something
    found = []
    for table, column in query(warehouse, """
            select table_name, column_name from information_schema.columns
            where table_schema = 'marts' and data_type = 'VARCHAR'"""):
        values = {value for (value,) in query(warehouse, f'select distinct "{column}" from marts."{table}"')}
        found += [(table, column, value) for value in values & identifying]
    assert found == []
