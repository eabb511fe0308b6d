"""`group/*` for GitLab: every project of the group and its subgroups, archived projects and forks only on
request, exclusion globs."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from ingestion.demo import gitlab_api
from ingestion.demo.gitlab_api import GitLabData, GitLabProject
from ingestion.demo.org import Org, PagerDutyData
from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ingest_source
from yardstick.demo import environment


def _org() -> Org:
    projects = {"acme/app": GitLabProject(id=1), "acme/mobile/ios": GitLabProject(id=2),
                "acme/mobile/legacy": GitLabProject(id=3, archived=True),
                "acme/forked-lib": GitLabProject(id=4, forked_from="upstream/lib"),
                "acme/sandbox-tmp": GitLabProject(id=5), "other/app": GitLabProject(id=6)}
    return Org(github={}, pagerduty=PagerDutyData(), gitlab=GitLabData(projects=projects))


def _synced(tmp_path: Path, **extra: str) -> list[str]:
    with ReplayServer(_org()) as server, environment({
        **gitlab_api.source_settings(server.url + "/gitlab", ["acme/*", "other/app"], "2026-01-01"),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05", **extra,
    }):
        ingest_source("gitlab", tmp_path / "w.duckdb")
        paths = [unquote(r.path) for r in server.requests if r.prefix == "gitlab"]
    assert "/api/v4/groups/acme/projects" in paths
    return sorted({p.removeprefix("/api/v4/projects/").rsplit("/merge_requests", 1)[0]
                   for p in paths if p.endswith("/merge_requests")})


def test_group_star_takes_the_group_and_its_subgroups(tmp_path: Path) -> None:
    assert _synced(tmp_path) == ["acme/app", "acme/mobile/ios", "acme/sandbox-tmp", "other/app"]


def test_archived_forks_and_exclusions(tmp_path: Path) -> None:
    assert _synced(tmp_path, SOURCES__GITLAB__INCLUDE_ARCHIVED="true", SOURCES__GITLAB__INCLUDE_FORKS="true",
                   SOURCES__GITLAB__EXCLUDE_PROJECTS=json.dumps(["acme/SANDBOX-*"])) == [
        "acme/app", "acme/forked-lib", "acme/mobile/ios", "acme/mobile/legacy", "other/app"]


def test_an_unknown_group_is_a_clear_error(tmp_path: Path) -> None:
    from ingestion.errors import SourceError

    with ReplayServer(_org()) as server, environment({
        **gitlab_api.source_settings(server.url + "/gitlab", ["nobody/*"], "2026-01-01"),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    }), pytest.raises(SourceError, match="404"):
        ingest_source("gitlab", tmp_path / "w.duckdb")
