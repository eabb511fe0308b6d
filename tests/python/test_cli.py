"""The `yardstick` command as a user runs it: a separate process, one-line reasons, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from scenarios import march_2026

from ingestion.demo.server import ReplayServer


def yardstick(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yardstick.cli", *args], check=False, cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=600)


def test_unconfigured_sources_are_skipped_with_a_notice(tmp_path: Path) -> None:
    result = yardstick("ingest", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "skipping github: not configured (set SOURCES__GITHUB__REPOSITORIES, SOURCES__GITHUB__ACCESS_TOKEN)" \
        in result.stderr
    assert "skipping pagerduty: not configured (set SOURCES__PAGERDUTY__API_TOKEN)" in result.stderr
    assert (tmp_path / "warehouse.duckdb").exists()


def test_rejected_token_is_one_line_and_nonzero(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    server = serve(march_2026().org)
    result = yardstick("ingest", "--source", "github", cwd=tmp_path,
                       env={"SOURCES__GITHUB__ACCESS_TOKEN": "ghp_not-the-right-one"})
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    # GraphQL is the default collection path: its endpoint is the one that refused the token
    assert last == f"yardstick ingest failed: GitHub GraphQL rejected the token (401) for {server.github_url}/graphql"
    assert "ghp_not-the-right-one" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    result = yardstick("ingest", "--source", "jora", cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown source(s) jora; known: github, github_actions, pagerduty" in result.stderr
