"""The local git source on a repository this test builds with the real `git`: commits with parents and merge
subjects naming pull requests, tags, incremental syncs (a merged branch's older commits included), a path that
is not a repository, and the commits in `int_commits`."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.errors import SourceError
from ingestion.pipeline import ensure_raw_tables, ingest_source
from yardstick.dbt import dbt
from yardstick.demo import environment


def git(repo: Path, *args: str, when: str = "2026-03-02T10:00:00+00:00") -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(repo.parent)}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def commit(repo: Path, message: str, when: str) -> str:
    name = f"{abs(hash(message))}.txt"  # one file per commit: branches merge without conflicts
    (repo / name).write_text(message + "\n")
    git(repo, "add", name, when=when)
    git(repo, "commit", "-q", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """main: c1 (PROJ-7) ← c2 "Add cache (#13)" ← merge of branch feature (f1) "Merge pull request #12 …";
    tag v1.0 (annotated) on c2 and v1.1 (lightweight) on the merge."""
    path = tmp_path / "tool"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Ann Example")
    git(path, "config", "user.email", "ann@example.com")
    git(path, "remote", "add", "origin", "git@github.com:acme/tool.git")
    commit(path, "PROJ-7 first cut\n\nWith a body line.", "2026-03-02T10:00:00+00:00")
    c2 = commit(path, "Add cache (#13)", "2026-03-03T10:00:00+00:00")
    git(path, "tag", "-a", "v1.0", "-m", "First release", c2, when="2026-03-03T11:00:00+00:00")
    git(path, "checkout", "-q", "-b", "feature")
    commit(path, "Feature work", "2026-03-03T12:00:00+00:00")
    git(path, "checkout", "-q", "main")
    git(path, "merge", "-q", "--no-ff", "feature", "-m", "Merge pull request #12 from acme/feature",
        when="2026-03-04T09:00:00+00:00")
    git(path, "tag", "v1.1")
    return path


def settings(*paths: Path) -> dict[str, str]:
    return {"SOURCES__GIT__REPOSITORIES": json.dumps([str(p) for p in paths]),
            "SOURCES__GIT__START_DATE": "2026-01-01"}


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.sql(sql).fetchall()


def test_commits_tags_and_merge_subjects_from_a_real_repository(repo: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with environment(settings(repo)):
        loaded = ingest_source("git", warehouse)
    assert loaded == {"raw_git.commits": 4, "raw_git.tags": 2}
    assert rows(warehouse, "select repository, subject, body, pull_request_number, author_email, committed_at, "
                           "length(parent_shas) from raw_git.commits order by committed_at") == [
        ("acme/tool", "PROJ-7 first cut", "With a body line.", None, "ann@example.com",
         datetime(2026, 3, 2, 10, tzinfo=UTC), 0),
        ("acme/tool", "Add cache (#13)", None, 13, "ann@example.com", datetime(2026, 3, 3, 10, tzinfo=UTC), 40),
        ("acme/tool", "Feature work", None, None, "ann@example.com", datetime(2026, 3, 3, 12, tzinfo=UTC), 40),
        ("acme/tool", "Merge pull request #12 from acme/feature", None, 12, "ann@example.com",
         datetime(2026, 3, 4, 9, tzinfo=UTC), 81),  # two parents
    ]
    c2 = git(repo, "rev-parse", "v1.0^{commit}")
    merge = git(repo, "rev-parse", "HEAD")
    assert rows(warehouse, "select name, sha, is_annotated, subject from raw_git.tags order by name") == [
        ("v1.0", c2, True, "First release"), ("v1.1", merge, False, "Merge pull request #12 from acme/feature")]


def test_second_sync_reads_only_new_commits_even_from_an_older_branch(repo: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with environment(settings(repo)):
        ingest_source("git", warehouse)
        assert ingest_source("git", warehouse).get("raw_git.commits", 0) == 0  # nothing new

        # a branch committed before the last sync's newest commit, merged after it
        git(repo, "checkout", "-q", "-b", "old", "v1.0")
        commit(repo, "Old branch work", "2026-03-03T15:00:00+00:00")
        git(repo, "checkout", "-q", "main")
        git(repo, "merge", "-q", "--no-ff", "old", "-m", "Merge branch 'old'", when="2026-03-05T09:00:00+00:00")
        assert ingest_source("git", warehouse)["raw_git.commits"] == 2
    assert rows(warehouse, "select count(*), count(distinct sha) from raw_git.commits") == [(6, 6)]


def test_a_path_that_is_not_a_repository_is_one_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with environment(settings(plain)), pytest.raises(SourceError) as info:
        ingest_source("git", tmp_path / "warehouse.duckdb")
    assert str(info.value) == f"git: {plain} is not a git repository"


def test_git_commits_join_the_domain_layer(repo: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with environment(settings(repo)):
        ingest_source("git", warehouse)
    ensure_raw_tables(warehouse)
    dbt(["seed"], warehouse)
    dbt(["build", "--select", "+int_commits", "--indirect-selection", "cautious"], warehouse)
    assert rows(warehouse, "select source_system, count(*), count(*) filter (where is_merge_commit), "
                           "count(distinct author_key) from intermediate.int_commits group by 1") == [("git", 4, 1, 0)]
