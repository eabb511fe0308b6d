"""The March 2026 scenario (scenarios.py) expressed once in GitHub (+ PagerDuty) and once in GitLab + Jenkins
(+ the same PagerDuty account) produces the same changes, deployments and DORA figures: the marts never
depend on the tool. Rows are compared after dropping what is tool-specific by nature (ids and keys that embed
them, `source_system`, and sizes — GitLab's merge request payloads carry no line counts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import START
from scenarios import SEARCH, march_2026

from ingestion.demo import gitlab_api, jenkins_api
from ingestion.demo.server import ReplayServer
from ingestion.demo.tool_org import as_gitlab_and_jenkins, jenkins_jobs
from yardstick.demo import environment, source_settings
from yardstick.publish import private_path
from yardstick.refresh import Progress, refresh


@pytest.fixture(scope="module")
def gitlab_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Payments on GitLab (merge requests, commits, deployments), search on GitLab with Jenkins deploy jobs."""
    path = tmp_path_factory.mktemp("mixed") / "warehouse.duckdb"
    org = as_gitlab_and_jenkins(march_2026().org, jenkins_repos={SEARCH})
    with ReplayServer(org) as server:
        pagerduty = {key: value for key, value in source_settings(server, [], date.fromisoformat(START)).items()
                     if key.startswith("SOURCES__PAGERDUTY__")}
        settings = {**pagerduty,
                    **gitlab_api.source_settings(server.url + "/gitlab", sorted(org.gitlab.projects), START),
                    **jenkins_api.source_settings(server.url + "/jenkins", jenkins_jobs(org), START),
                    "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05"}
        with pytest.MonkeyPatch.context() as patch, environment(settings):
            for key in ("SOURCES__GITHUB__REPOSITORIES", "SOURCES__GITHUB__ACCESS_TOKEN"):
                patch.delenv(key, raising=False)
            refresh(path, from_scratch=True, progress=Progress(quiet=True))
    yield path


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(private_path(warehouse)), read_only=True) as con:
        return con.sql(sql).fetchall()


CHANGES = """
    select * exclude (pull_request_key, deployment_id, source_system, size_lines, changed_files)
    from marts.fct_changes order by repository, number"""


def test_the_gitlab_and_jenkins_warehouse_really_came_from_those_tools(gitlab_warehouse: Path) -> None:
    assert rows(gitlab_warehouse, "select source_system, count(*) from marts.fct_changes group by 1") == [
        ("gitlab", 6)]
    assert rows(gitlab_warehouse, "select source_system, count(*) from intermediate.int_deployments "
                                  "group by 1 order by 1") == [("gitlab", 5), ("jenkins", 3)]
    assert rows(gitlab_warehouse, "select count(*) from raw_github.pull_requests") == [(0,)]


def test_same_changes(scenario_warehouse: Path, gitlab_warehouse: Path) -> None:
    github = rows(scenario_warehouse, CHANGES)
    assert len(github) == 6
    assert rows(gitlab_warehouse, CHANGES) == github


def test_same_deployments(scenario_warehouse: Path, gitlab_warehouse: Path) -> None:
    sql = """select * exclude (deployment_id, source_system)
             from marts.fct_deployments order by repository, created_at"""
    assert rows(gitlab_warehouse, sql) == rows(scenario_warehouse, sql)


def test_same_dora_team_monthly_and_weekly(scenario_warehouse: Path, gitlab_warehouse: Path) -> None:
    for mart in ("dora_team_monthly", "dora_team_weekly", "dora_org_monthly"):
        sql = f"select * from marts.{mart} order by all"
        github = rows(scenario_warehouse, sql)
        assert github, mart
        assert rows(gitlab_warehouse, sql) == github, mart


def test_identities_resolve_and_never_reach_marts(scenario_warehouse: Path, gitlab_warehouse: Path) -> None:
    """A GitHub login and the e-mail of its commits are one person, and the GitLab commits' e-mails resolve to the
    same people; no mart value equals a login, e-mail or name."""
    sql = "select distinct person_id from intermediate.int_people where source_system = '{}' order by 1"
    github_people = rows(scenario_warehouse, sql.format("github"))
    assert len(github_people) == 5 and all("@" in person for (person,) in github_people)  # ana … eve, by e-mail
    assert rows(gitlab_warehouse, sql.format("git")) == github_people
    for warehouse in (scenario_warehouse, gitlab_warehouse):
        with duckdb.connect(str(private_path(warehouse)), read_only=True) as con:
            private = {value for row in con.sql("select identity, email, display_name from intermediate.int_people")
                       .fetchall() for value in row if value}
            assert private
            columns = con.sql("select table_name, column_name from information_schema.columns where table_schema "
                              "= 'marts' and data_type = 'VARCHAR'").fetchall()
            leaked = [(table, column, value) for table, column in columns
                      for (value,) in con.sql(f'select distinct "{column}" from marts."{table}"').fetchall()
                      if value in private]
            assert leaked == []
