"""An empty setting means "not set" (issue 16, item 7): GitHub Actions passes an undefined secret as "", and the
project's own examples/github-actions/nightly.yml passes every source's secrets that way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from scenarios import march_2026
from test_cli import yardstick

from ingestion.demo import jira_api
from ingestion.demo.server import ReplayServer
from ingestion.errors import SourceError
from ingestion.pipeline import ingest_source, missing_settings
from yardstick.demo import environment


def test_a_source_whose_settings_are_all_empty_is_skipped_with_the_usual_notice(tmp_path: Path) -> None:
    result = yardstick("ingest", "--source", "pagerduty", "--source", "jira", cwd=tmp_path,
                       env={"SOURCES__PAGERDUTY__API_TOKEN": "", "SOURCES__JIRA__PROJECTS": "",
                            "SOURCES__JIRA__BASE_URL": "", "SOURCES__JIRA__API_TOKEN": ""})
    assert result.returncode == 0, result.stderr
    assert "skipping pagerduty: not configured (set SOURCES__PAGERDUTY__API_TOKEN)" in result.stderr
    assert "skipping jira: not configured (set SOURCES__JIRA__BASE_URL, SOURCES__JIRA__PROJECTS, " \
           "SOURCES__JIRA__API_TOKEN)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_partly_configured_source_fails_with_one_line_naming_the_missing_key(tmp_path: Path) -> None:
    result = yardstick("ingest", "--source", "jira", cwd=tmp_path,
                       env={"SOURCES__JIRA__BASE_URL": "https://acme.atlassian.net", "SOURCES__JIRA__PROJECTS": "",
                            "SOURCES__JIRA__API_TOKEN": "a-token-value"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "yardstick ingest failed: jira: partly configured: SOURCES__JIRA__BASE_URL, SOURCES__JIRA__API_TOKEN set "
        "but SOURCES__JIRA__PROJECTS empty or unset")
    assert "a-token-value" not in result.stderr + result.stdout
    assert not (tmp_path / "warehouse.duckdb").exists()


@pytest.mark.parametrize("empty", ["", "[]"])
def test_an_empty_list_counts_as_unset(empty: str) -> None:
    with environment({"SOURCES__GITHUB__REPOSITORIES": empty, "SOURCES__GITHUB__ACCESS_TOKEN": ""}):
        assert missing_settings("github") == ["SOURCES__GITHUB__REPOSITORIES", "SOURCES__GITHUB__ACCESS_TOKEN"]
    with environment({"SOURCES__GITHUB__REPOSITORIES": empty, "SOURCES__GITHUB__ACCESS_TOKEN": "t"}), \
            pytest.raises(SourceError, match="SOURCES__GITHUB__REPOSITORIES empty or unset"):
        missing_settings("github")


def test_an_empty_optional_setting_takes_its_default(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    """`SOURCES__JIRA__API_VERSION=""` and `SOURCES__JIRA__EMAIL=""`: Cloud (3) and a bearer token, as if unset."""
    from test_jira import PROJECTS, jira_org

    with ReplayServer(jira_org()) as server, environment({
            **jira_api.source_settings(server.url + "/jira", PROJECTS, "2010-01-01"),
            "SOURCES__JIRA__API_VERSION": "", "SOURCES__JIRA__EMAIL": ""}):
        counts = ingest_source("jira", tmp_path / "w.duckdb")
        paths = {r.path for r in server.requests}
    assert counts["raw_jira.issues"] == 33
    assert "/rest/api/3/search/jql" in paths


def test_an_empty_postgres_url_means_no_postgres_publish(tmp_path: Path) -> None:
    result = yardstick("publish-postgres", cwd=tmp_path, env={"YARDSTICK_POSTGRES_URL": ""})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "yardstick publish-postgres failed: set YARDSTICK_POSTGRES_URL (or [postgres] url in .dlt/secrets.toml)")


def test_the_example_workflow_without_pagerduty_runs(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    """The issue's report: examples/github-actions/nightly.yml passes `SOURCES__PAGERDUTY__API_TOKEN:
    ${{ secrets.… }}`, which is "" for a team without PagerDuty; GitHub loads and PagerDuty is skipped."""
    workflow = (Path(__file__).resolve().parents[2] / "examples" / "github-actions" / "nightly.yml").read_text()
    assert "SOURCES__PAGERDUTY__API_TOKEN: ${{ secrets." in workflow
    serve(march_2026().org)
    result = yardstick("ingest", "--source", "github", "--source", "pagerduty", cwd=tmp_path,
                       env={"SOURCES__PAGERDUTY__API_TOKEN": ""})
    assert result.returncode == 0, result.stderr
    assert "skipping pagerduty: not configured (set SOURCES__PAGERDUTY__API_TOKEN)" in result.stderr
    assert "Ingest github" in result.stderr
