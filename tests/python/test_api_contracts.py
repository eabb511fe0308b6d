"""Our sources speak today's APIs (issue 16, item 8): every GitHub REST request a sync makes is an operation of
GitHub's published description (tests/fixtures/github/openapi-operations.json, see NOTICE.md) that is not
deprecated, with only parameters that operation documents."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from scenarios import march_2026

from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ingest_source

OPERATIONS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "github" /
                         "openapi-operations.json").read_text())


def _operation(method: str, path: str) -> tuple[str, dict] | None:
    for name, operation in OPERATIONS.items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", operation["path"])
        if operation["method"] == method and re.fullmatch(pattern, path):
            return name, operation
    return None


def test_every_github_rest_request_is_a_current_documented_operation(
        serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__GITHUB__API", "rest")  # the REST path (GraphQL has its own schema check)
    server = serve(march_2026().org)
    for name in ("github", "github_actions"):
        ingest_source(name, tmp_path / "w.duckdb")
    requests = [r for r in server.requests if r.prefix == "github"]
    assert len(requests) > 20, {r.prefix for r in server.requests}
    called = set()
    for request in requests:
        match = _operation(request.method, request.path)
        assert match is not None, f"{request.method} {request.path} is not an operation of GitHub's REST description"
        name, operation = match
        assert not operation["deprecated"], f"{name} is deprecated"
        undocumented = set(request.query) - set(operation["parameters"])
        assert not undocumented, f"{name} has no parameter(s) {sorted(undocumented)}"
        called.add(name)
    assert {"pulls__list", "pulls__get", "pulls__list-commits", "pulls__list-reviews", "repos__list-commits",
            "repos__list-deployments", "repos__list-deployment-statuses", "issues__list-for-repo",
            "actions__list-workflow-runs-for-repo"} <= called  # the scenario has no Actions runs, so no jobs
