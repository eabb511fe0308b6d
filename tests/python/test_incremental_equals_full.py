"""Incremental equals full: five nightly steps over the hand-written March 2026 organisation (scenarios.py),
first loaded through the real dlt sources from the replay server. Each day adds records, updates old ones and
delivers some late: four days write straight into the raw tables with a new dlt load id, as dlt's merge leaves
them (the old version of an updated record gone); the fifth goes through the real sources again, after the
organisation moved on. After every step the incremental build's marts (and the incremental models themselves)
must equal a `--full-refresh` build of the same raw data, row for row, compared with `except all` both ways on a
copy of the warehouse (the incremental chain goes on undisturbed). The dbt project is copied, so a step can move
a person to another team in a seed. The clock is pinned (`as_of_date`)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from recorded import recorded_jira
from scenarios import march_2026

from ingestion.demo import jira_api
from ingestion.demo.jira_api import JiraData
from ingestion.demo.org import Org, OrgBuilder
from ingestion.demo.server import ReplayServer
from yardstick import dbt as dbt_module
from yardstick.demo import environment, source_settings
from yardstick.publish import private_path
from yardstick.refresh import Progress, refresh

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

# int_page_events' record of which build last changed a row: the build history, which a full refresh does not have
BOOKKEEPING = {"changed_by", "changed_from_date"}

# the clock is pinned: goals and anything "as of today" are judged on this day
VARS: dict[str, object] = {"as_of_date": "2026-03-31"}
PAYMENTS, SEARCH = "acme/payments-api", "acme/search-api"
PR5_ID, PR5_COMMIT, PR5_MERGE = 9_000_000_005, "c5" * 20, "e5" * 20
P5_ID, P6_ID, LATE_PR_ID = 9_100_000_005, 9_100_000_016, 9_000_000_099
INCIDENT = "QINCREMENTAL4"
JIRA_ISSUE, GITHUB_ISSUE = "EE-1", "Ranking is slow"  # EE-1: a real Jira issue (tests/fixtures/jira), still to do


def load_id() -> str:
    """A new dlt load id: dlt's own are the load's Unix time, so a later load has a larger id."""
    time.sleep(0.01)
    return f"{time.time():.6f}"


def clone(con: duckdb.DuckDBPyConnection, table: str, where: str, source: str | None = None,
          **values: object) -> None:
    """Insert into `table` a copy of the row of `source` (default: `table`) matching `where`, with `values`
    replaced and a new load id."""
    values |= {"_dlt_load_id": load_id(), "_dlt_id": f"inc{time.time_ns()}"}
    replace = ", ".join(f"${i + 1} as {name}" for i, name in enumerate(values))
    con.execute(f"insert into {table} select * replace ({replace}) from {source or table} where {where} limit 1",
                list(values.values()))


def update(con: duckdb.DuckDBPyConnection, table: str, where: str, **values: object) -> None:
    """A new version of the row of `table` matching `where`, as dlt's merge leaves it: the old version is gone."""
    con.execute(f"create temp table old_version as select * from {table} where {where} limit 1")
    con.execute(f"delete from {table} where {where}")
    clone(con, table, "true", source="old_version", **values)
    con.execute("drop table old_version")


def page_events(con: duckdb.DuckDBPyConnection, *events: tuple[str, str, str | None, str, str]) -> None:
    """Segment page/track events: (message id, anonymous id, user id, event time, received time)."""
    loaded = load_id()
    for message_id, anonymous_id, user_id, at, received in events:
        con.execute("""
            insert into raw_events.segment_events (message_id, type, event, name, user_id, anonymous_id, timestamp,
                received_at, page_path, page_title, platform, browser, country, _dlt_load_id, _dlt_id)
            values (?, 'page', null, 'Checkout', ?, ?, ?, ?, '/checkout', 'Checkout', 'web', 'Firefox', 'nl', ?, ?)
        """, [message_id, user_id, anonymous_id, at, received, loaded, f"ev{message_id}"])


def track_event(con: duckdb.DuckDBPyConnection, message_id: str, anonymous_id: str, user_id: str, event: str,
                at: str) -> None:
    """A Segment track event delivered now (its time `at` may be days before)."""
    con.execute("""
        insert into raw_events.segment_events (message_id, type, event, user_id, anonymous_id, timestamp, received_at,
            platform, browser, country, _dlt_load_id, _dlt_id)
        values (?, 'track', ?, ?, ?, ?, ?, 'web', 'Firefox', 'nl', ?, ?)
    """, [message_id, event, user_id, anonymous_id, at, at, load_id(), f"ev{message_id}"])


def jira_transition(con: duckdb.DuckDBPyConnection, to_category: str, at: str) -> None:
    """EE-1 moves to the first status of `to_category`: a new changelog entry and the issue's new version."""
    issue_id, status_id, status_name = con.execute(
        "select id, status_id, status_name from raw_jira.issues where key = ?", [JIRA_ISSUE]).fetchone()
    to_id, to_name = con.execute("select id, name from raw_jira.statuses where category_key = ? order by id limit 1",
                                 [to_category]).fetchone()
    clone(con, "raw_jira.issue_changelog_items", "field_id = 'status'", issue_id=issue_id, item_index=0,
          history_id=f"incremental-{to_category}", from_value=status_id, from_string=status_name, to_value=to_id,
          to_string=to_name, created_at=at)
    update(con, "raw_jira.issues", f"id = '{issue_id}'", status_id=to_id, status_name=to_name,
           status_category_key=to_category, updated_at=at)


def day_21(con: duckdb.DuckDBPyConnection, project: Path) -> None:
    """A PR opens (not reviewed yet); a deployment starts (in progress); an incident triggers; page events;
    one of 20 March delivered a day late; a Jira issue created years ago is started; a GitHub issue is closed."""
    clone(con, "raw_github.pull_requests", "number = 4 and repository = 'acme/payments-api'", id=PR5_ID, number=5,
          title="Ledger export", state="open", head_sha=PR5_COMMIT, head_ref="ana/ledger-export",
          user_login="ana", created_at="2026-03-21 10:00:00+00", updated_at="2026-03-21 10:00:00+00",
          closed_at=None, merged_at=None, merge_commit_sha=None, merged_by_login=None)
    clone(con, "raw_github.pull_request_commits", "pull_request_number = 4 and repository = 'acme/payments-api'",
          pull_request_number=5, sha=PR5_COMMIT, message="Ledger export", author_login="ana",
          authored_at="2026-03-21 09:00:00+00", committed_at="2026-03-21 09:00:00+00")
    clone(con, "raw_github.deployments", "environment = 'production' and repository = 'acme/payments-api'",
          id=P5_ID, created_at="2026-03-21 12:00:00+00", updated_at="2026-03-21 12:00:00+00",
          sha=head_sha(con, PAYMENTS))
    clone(con, "raw_github.deployment_statuses", "repository = 'acme/payments-api'", deployment_id=P5_ID,
          id=P5_ID + 1, state="in_progress", environment="production", created_at="2026-03-21 12:00:00+00",
          updated_at="2026-03-21 12:00:00+00")
    clone(con, "raw_pagerduty.incidents", "service_name = 'payments-api'", id=INCIDENT, incident_number=4,
          title="Ledger totals wrong", description="Ledger totals wrong", status="triggered",
          created_at="2026-03-21 13:00:00+00", updated_at="2026-03-21 13:00:00+00",
          last_status_change_at="2026-03-21 13:00:00+00", resolved_at=None)
    page_events(con, ("e1", "device-1", None, "2026-03-21 23:50:00", "2026-03-21 23:50:01"),
                ("e2", "device-1", None, "2026-03-21 23:55:00", "2026-03-21 23:55:01"),
                ("e3", "device-2", "user-2", "2026-03-21 08:00:00", "2026-03-21 08:00:01"),
                ("e9", "device-4", "user-3", "2026-03-20 12:00:00", "2026-03-21 06:00:00"))
    jira_transition(con, "indeterminate", "2026-03-21 10:00:00+00")
    update(con, "raw_github.issues", f"title = '{GITHUB_ISSUE}'", state="closed", state_reason="completed",
           closed_at="2026-03-21 15:00:00+00", updated_at="2026-03-21 15:00:00+00")


def day_22(con: duckdb.DuckDBPyConnection, project: Path) -> None:
    """The PR is reviewed a day after it opened; the deployment settles; the incident is resolved; page events
    arrive a day late, one continuing device-1's session past midnight, and device-1 identifies itself; the
    Jira issue is done; the GitHub issue is reopened (its `closed` move must go)."""
    clone(con, "raw_github.pull_request_reviews", "pull_request_number = 4 and repository = 'acme/payments-api'",
          id=PR5_ID + 1, pull_request_number=5, user_login="bob", state="APPROVED",
          submitted_at="2026-03-22 11:00:00+00", commit_id=PR5_COMMIT)
    update(con, "raw_github.pull_requests", f"id = {PR5_ID}", updated_at="2026-03-22 11:00:00+00")
    clone(con, "raw_github.deployment_statuses", f"id = {P5_ID + 1}", id=P5_ID + 2, state="success",
          created_at="2026-03-22 00:30:00+00", updated_at="2026-03-22 00:30:00+00")
    update(con, "raw_pagerduty.incidents", f"id = '{INCIDENT}'", status="resolved",
          updated_at="2026-03-22 01:00:00+00", last_status_change_at="2026-03-22 01:00:00+00",
          resolved_at="2026-03-22 01:00:00+00")
    clone(con, "raw_pagerduty.log_entries", "type = 'resolve_log_entry'", id="RINC4RESOLVE", incident_id=INCIDENT,
          created_at="2026-03-22 01:00:00+00")
    page_events(con, ("e4", "device-1", None, "2026-03-22 00:05:00", "2026-03-22 00:05:01"),
                ("e5", "device-1", "user-1", "2026-03-22 00:10:00", "2026-03-22 00:10:01"),
                ("e6", "device-2", "user-2", "2026-03-21 08:10:00", "2026-03-22 07:00:00"))
    jira_transition(con, "done", "2026-03-22 16:00:00+00")
    update(con, "raw_github.issues", f"title = '{GITHUB_ISSUE}'", state="open", state_reason="reopened",
           closed_at=None, updated_at="2026-03-22 09:00:00+00")


def day_23(con: duckdb.DuckDBPyConnection, project: Path) -> None:
    """The PR merges; an incident note names the deployment's SHA (attributed later); a search PR merged on
    10 March is delivered only now; ana moves from payments to search, Jira project EE to search (seeds)."""
    update(con, "raw_github.pull_requests", f"id = {PR5_ID}", state="closed", updated_at="2026-03-23 09:00:00+00",
          closed_at="2026-03-23 09:00:00+00", merged_at="2026-03-23 09:00:00+00", merge_commit_sha=PR5_MERGE,
          merged_by_login="bob")
    clone(con, "raw_github.commits", f"sha = '{head_sha(con, PAYMENTS)}'", sha=PR5_MERGE,
          parent_shas=f"{head_sha(con, PAYMENTS)} {PR5_COMMIT}", message="Merge pull request #5",
          authored_at="2026-03-23 09:00:00+00", committed_at="2026-03-23 09:00:00+00")
    deployed = con.execute(f"select sha from raw_github.deployments where id = {P5_ID}").fetchone()[0]
    clone(con, "raw_pagerduty.log_entries", "type = 'resolve_log_entry'", id="RINC4NOTE", incident_id=INCIDENT,
          type="annotate_log_entry", summary=f"Caused by {deployed[:7]}", channel_summary=f"Caused by {deployed[:7]}",
          created_at="2026-03-23 08:00:00+00")
    clone(con, "raw_github.pull_requests", "number = 2 and repository = 'acme/search-api'", id=LATE_PR_ID,
          number=7, title="Typo tolerance", created_at="2026-03-10 09:00:00+00",
          updated_at="2026-03-10 12:00:00+00", closed_at="2026-03-10 12:00:00+00",
          merged_at="2026-03-10 12:00:00+00", merge_commit_sha="f7" * 20)
    (project / "seeds" / "people_teams.csv").write_text(
        "person,team,valid_from,valid_to\nana,payments,2026-01-01,2026-03-23\nana,search,2026-03-23,\n")
    with (project / "seeds" / "project_teams.csv").open("a") as seed:
        seed.write("EE,search\n")


def day_30(con: duckdb.DuckDBPyConnection, project: Path) -> None:
    """A deployment ships the change merged a week earlier (its SHA reaches the merge through parents); a
    sign-up delivered late converts an earlier funnel cohort; the
    Jira site moves EE-1's in-progress status to the done category (every issue's moves recomputed)."""
    clone(con, "raw_github.deployments", f"id = {P5_ID}", id=P6_ID, sha=PR5_MERGE,
          created_at="2026-03-30 10:00:00+00", updated_at="2026-03-30 10:00:00+00")
    clone(con, "raw_github.deployment_statuses", f"id = {P5_ID + 2}", deployment_id=P6_ID, id=P6_ID + 1,
          created_at="2026-03-30 10:05:00+00", updated_at="2026-03-30 10:05:00+00")
    page_events(con, ("e7", "device-1", "user-1", "2026-03-30 09:00:00", "2026-03-30 09:00:01"))
    # user-3, who entered the activation funnel on 20 March from device-4, signs up on 27 March from another
    # device (delivered three days late): only the funnel window (7 days) links that day to the 20 March cohort,
    # a day no other event of this step touches
    track_event(con, "e8", "device-5", "user-3", "Signed Up", "2026-03-27 11:00:00")
    started = con.execute("select to_value from raw_jira.issue_changelog_items "
                          "where history_id = 'incremental-indeterminate'").fetchone()[0]
    update(con, "raw_jira.statuses", f"id = '{started}'", category_key="done")


def extend(builder: OrgBuilder) -> None:
    at = lambda hour: datetime(2026, 3, 31, hour, tzinfo=UTC)  # noqa: E731
    builder.pull_request(SEARCH, author="eve", title="Query cache", opened_at=at(9), commit_times=[at(8)],
                         reviews=[("dan", "APPROVED", at(10))], merged_at=at(11))
    builder.deployment(SEARCH, environment="production", at=at(12), statuses=[("success", at(12))])
    builder.incident("search-api", created_at=at(13), title="Slow search", acknowledged_at=at(13),
                     resolved_at=at(14))


def organisation(builder: OrgBuilder, jira: JiraData) -> Org:
    org = builder.build()
    org.jira = jira
    return org


def head_sha(con: duckdb.DuckDBPyConnection, repository: str) -> str:
    return con.execute("select sha from raw_github.commits where repository = ? order by committed_at desc limit 1",
                       [repository]).fetchone()[0]


def incremental_models(warehouse: Path) -> list[str]:
    """`schema.table` of every incremental model (staging, intermediate and the product marts)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [f"{schema}.{name}" for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables where table_name in "
            "(select model from intermediate.incremental_state) and table_schema in ('staging', 'intermediate', 'marts') "
            "order by 2").fetchall()]


def differences(warehouse: Path, full: Path) -> dict[str, tuple[int, int]]:
    """Per table of schema marts (and per incremental model): rows only the incremental build has, rows only the
    full refresh has. Every table the full refresh has must be compared."""
    found: dict[str, tuple[int, int]] = {}
    tables = sorted({f"marts.{name}" for name in marts(full)} | set(incremental_models(full)))
    with duckdb.connect(str(full), read_only=True) as con:
        con.execute(f"attach '{warehouse}' as incremental (read_only)")
        for table in tables:
            columns = ", ".join(f'"{c[0]}"' for c in con.execute(f"describe {table}").fetchall()
                                if c[0] not in BOOKKEEPING)
            inc = f"select {columns} from incremental.{table}"
            ref = f"select {columns} from {table}"
            only_inc = con.execute(f"select count(*) from ({inc} except all {ref})").fetchone()[0]
            only_full = con.execute(f"select count(*) from ({ref} except all {inc})").fetchone()[0]
            found[table] = (only_inc, only_full)
    return found


def marts(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]


def scalar(warehouse: Path, sql: str) -> object:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


Step = Callable[[duckdb.DuckDBPyConnection, Path], None]


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project (its seeds change during the test)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("models", "macros", "seeds", "tests"):
        shutil.copytree(dbt_module.PROJECT_DIR / name, copy / name, ignore=shutil.ignore_patterns("python", "fixtures"))
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(dbt_module.PROJECT_DIR / name, copy / name)
    monkeypatch.setattr(dbt_module, "PROJECT_DIR", copy)
    return copy


def test_nightly_incremental_builds_equal_full_refreshes(tmp_path: Path, project: Path) -> None:
    # the full refreshes' copy is named like the warehouse (dbt's link is named after the file: one parse state)
    published, full = tmp_path / "warehouse.duckdb", tmp_path / "full_refresh" / "warehouse.duckdb"
    full.parent.mkdir()
    warehouse = private_path(published)  # refresh loads raw data there; dbt builds on it like the nightly
    scenario, jira = march_2026(), recorded_jira()
    scenario.builder.issue(SEARCH, author="dan", title=GITHUB_ISSUE, opened_at=datetime(2026, 3, 20, 9, tzinfo=UTC))
    scenario.org = organisation(scenario.builder, jira)
    with ReplayServer(scenario.org) as server, environment({
        **source_settings(server, sorted(scenario.org.github), date(2026, 1, 1)),
        **jira_api.source_settings(server.url + "/jira", ["EE", "K5"], "2010-01-01"),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    }):
        # the first load and build (every model built from scratch)
        refresh(published, from_scratch=True, build=False, progress=Progress(quiet=True))
        dbt_module.dbt(["seed"], warehouse, vars=VARS)
        assert dbt_module.build(warehouse, vars=VARS, command="run").select is None  # the first build: everything

        def day_31(con: duckdb.DuckDBPyConnection, project: Path) -> None:
            """Through the real sources: the organisation moves on (a search PR opened, reviewed and merged, a
            deployment, an incident) and the nightly sync loads it from the replay server."""
            con.close()
            extend(scenario.builder)
            server.set_org(organisation(scenario.builder, jira))  # the sync reloads Jira's status list too
            refresh(published, build=False, progress=Progress(quiet=True))

        plans: dict[str, list[str] | None] = {}
        steps: list[tuple[str, Step]] = [("21 Mar", day_21), ("22 Mar", day_22), ("23 Mar", day_23),
                                         ("30 Mar", day_30), ("31 Mar", day_31)]
        for name, step in steps:
            with duckdb.connect(str(warehouse)) as con:
                step(con, project)
            if step is day_23:  # the seeds changed
                dbt_module.dbt(["seed"], warehouse, vars=VARS)
            # the nightly's build: the models downstream of the raw tables that changed (all of them after the
            # seed changed), incremental models recomputing only the entities loaded since
            plans[name] = dbt_module.build(warehouse, vars=VARS, command="run").select
            shutil.copy(warehouse, full)
            dbt_module.dbt(["run", "--full-refresh"], full, vars=VARS)
            assert len(marts(full)) >= 25
            assert set(incremental_models(full)) >= {
                "intermediate.int_pull_requests", "intermediate.int_reviews", "intermediate.int_deployments",
                "intermediate.int_incidents", "intermediate.int_commits", "intermediate.int_page_events",
                "marts.fct_page_views", "marts.fct_sessions", "intermediate.int_issues",
                "intermediate.int_issue_transitions", "intermediate.int_funnel_progress",
                "intermediate.int_product_measures", "marts.product_metric_daily",
                "marts.product_metric_segments_daily", "marts.product_funnel_daily",
                "staging.stg_github__pull_requests", "staging.stg_github__pull_request_commits",
                "staging.stg_events__segment_events", "staging.stg_jira__issue_changelog_items"}
            unequal = {table: diff for table, diff in differences(warehouse, full).items() if diff != (0, 0)}
            assert unequal == {}, f"after {name}: (rows only incremental, rows only full refresh) {unequal}"

        # a nightly with nothing new: the sources' look-back re-reads a window (and Jira's status list and sprints)
        # and reloads those rows unchanged, with a new load id; no raw table's content changed, so only the staging
        # models of the reloaded tables are built (their rows keep the load id), and still equal a full refresh
        reloaded = refresh(published, build=False, progress=Progress(quiet=True)).rows_loaded
        assert sum(count for table, count in reloaded.items() if not table.endswith("_rejected")) > 0
        quiet = dbt_module.build(warehouse, vars=VARS, command="run")
        assert quiet.reason.startswith("0 raw table(s) changed, ") and quiet.select
        assert all(selector.endswith("+1") for selector in quiet.select), quiet.select
        shutil.copy(warehouse, full)
        dbt_module.dbt(["run", "--full-refresh"], full, vars=VARS)
        unequal = {table: diff for table, diff in differences(warehouse, full).items() if diff != (0, 0)}
        assert unequal == {}, f"after a nightly with nothing new: {unequal}"

    # the nightly built only what the day's raw tables reach, except after the seed changed
    assert plans["23 Mar"] is None
    assert plans["21 Mar"] is not None and "source:pagerduty.incidents+" in plans["21 Mar"]
    assert "source:jira.issue_changelog_items+" in plans["21 Mar"] and "source:github.issues+" in plans["21 Mar"]
    assert not any("gitlab" in s or "jira.statuses" in s for s in plans["21 Mar"])
    assert plans["30 Mar"] is not None and not any("pagerduty" in s for s in plans["30 Mar"])
    assert "source:jira.statuses+" in plans["30 Mar"]
    assert plans["31 Mar"] is not None and "source:github.pull_requests+" in plans["31 Mar"]
    # the late arrivals did reach the incremental chain (so the comparisons above compared something)
    assert scalar(warehouse, "select first_review_at from intermediate.int_pull_requests "
                             f"where pull_request_id = {PR5_ID}") is not None
    assert scalar(warehouse, f"select status from intermediate.int_deployments where deployment_id = {P5_ID}") \
        == "success"
    assert scalar(warehouse, "select resolved_at is not null from intermediate.int_incidents "
                             f"where incident_id = '{INCIDENT}'") is True
    assert scalar(warehouse, "select link_method from intermediate.int_change_deployments "
                             f"where pull_request_key = 'github:{PAYMENTS}#5'") == "commit_range"
    assert scalar(warehouse, "select count(*) from intermediate.int_pull_requests where title = 'Query cache' "
                             "and first_review_at is not null and merged_at is not null") == 1
    assert scalar(warehouse, "select count(distinct session_key) from intermediate.int_page_events "
                             "where anonymous_id = 'device-1' and event_at < '2026-03-23'") == 1
    # device-1 came back on 30 March (e7): its earlier events came out of that recomputation as they were and kept
    # the build that last changed them (22 March's identify), so the daily product models left 21 and 22 March alone
    assert scalar(warehouse, "select max(changed_by) filter (where event_at < '2026-03-23') "
                             "< max(changed_by) filter (where event_id = 'e7') "
                             "from intermediate.int_page_events where anonymous_id = 'device-1'") is True
    assert scalar(warehouse, "select count(distinct changed_by) from intermediate.int_page_events "
                             "where anonymous_id = 'device-1' and event_at < '2026-03-23'") == 1
    # EE-1 moved twice in March 2026 and is done since 22 March, for its project's new team; the reopened GitHub
    # issue is open again, with no `closed` move left
    assert scalar(warehouse, "select count(*) from intermediate.int_issue_transitions "
                             f"where issue_key = 'jira:{JIRA_ISSUE}' and transitioned_at >= '2026-03-21'") == 2
    assert scalar(warehouse, "select status || '/' || strftime(done_at, '%d %H') || '/' || team "
                             f"from intermediate.int_issues where issue_ref = '{JIRA_ISSUE}'") == "done/22 16/search"
    assert scalar(warehouse, "select status from intermediate.int_issues where title = 'Ranking is slow'") == "todo"
    assert scalar(warehouse, "select count(*) from intermediate.int_issue_transitions "
                             f"where issue_key like 'github:{SEARCH}#%'") == 0
    # the late sign-up converted user-3's 20 March activation cohort (reached step 2)
    assert scalar(warehouse, "select count(*) from intermediate.int_funnel_progress where funnel = 'activation' "
                             "and unit_id = 'user-3' and cohort_date = '2026-03-20' and step = 2") == 1
    assert scalar(warehouse, "select units_reached from marts.product_funnel_daily where funnel = 'activation' "
                             "and cohort_date = '2026-03-20' and step = 2") == 1
