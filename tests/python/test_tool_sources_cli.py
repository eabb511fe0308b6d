"""`yardstick ingest --source jira|gitlab|jenkins` as a user runs it, against the replay of the recorded payloads;
an unconfigured tool is skipped with a one-line notice."""

from __future__ import annotations

from pathlib import Path

import duckdb
from recorded import GITLAB_PROJECT, GITLAB_SELF_HOSTED, recorded_gitlab, recorded_jira
from test_cli import yardstick
from test_jenkins import JOBS, jenkins_data

from ingestion.demo import gitlab_api, jenkins_api, jira_api
from ingestion.demo.org import Org
from ingestion.demo.pagerduty_api import PagerDutyData
from ingestion.demo.server import ReplayServer


def test_ingest_each_tool_source_from_its_replay(tmp_path: Path) -> None:
    org = Org(github={}, pagerduty=PagerDutyData(), jira=recorded_jira(), gitlab=recorded_gitlab(),
              jenkins=jenkins_data())
    with ReplayServer(org) as server:
        env = {**jira_api.source_settings(server.url + "/jira", ["EE", "K5"], "2010-01-01"),
               **gitlab_api.source_settings(server.url + "/gitlab", [GITLAB_PROJECT, GITLAB_SELF_HOSTED],
                                            "2010-01-01"),
               **jenkins_api.source_settings(server.url + "/jenkins", JOBS, "2010-01-01"),
               # yardstick.dbt.dbt() leaves YARDSTICK_WAREHOUSE set in this process for earlier tests' warehouses
               "YARDSTICK_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
        result = yardstick("ingest", "--source", "jira", "--source", "gitlab", "--source", "jenkins", cwd=tmp_path,
                           env=env)
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        counts = [con.sql(f"select count(*) from {table}").fetchone()[0]
                  for table in ("raw_jira.issues", "raw_gitlab.merge_requests", "raw_jenkins.builds")]
    assert counts == [33, 18, 29]
    for token in (jira_api.TOKEN, gitlab_api.TOKEN, jenkins_api.TOKEN):
        assert token not in result.stderr + result.stdout


def test_unconfigured_tools_are_skipped_with_a_notice(tmp_path: Path) -> None:
    result = yardstick("ingest", "--source", "jira", "--source", "gitlab", "--source", "jenkins", cwd=tmp_path,
                       env={"YARDSTICK_WAREHOUSE": str(tmp_path / "warehouse.duckdb")})
    assert result.returncode == 0, result.stderr
    assert "skipping jira: not configured (set SOURCES__JIRA__BASE_URL, SOURCES__JIRA__PROJECTS, " \
           "SOURCES__JIRA__API_TOKEN)" in result.stderr
    assert "skipping gitlab: not configured (set SOURCES__GITLAB__PROJECTS, SOURCES__GITLAB__PRIVATE_TOKEN)" \
        in result.stderr
    assert "skipping jenkins: not configured" in result.stderr
