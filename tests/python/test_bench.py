"""The benchmark end to end at a tiny scale: the generator is deterministic, and one `bench/run` writes a
results file with every ratio and the API cost (no timing is asserted: the machine is shared)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from dbt_unit_tests import data_tests_off

PROJECT = Path(__file__).resolve().parents[2]
SCALE = "0.0005"
RATIO_ROWS = (
    "| ingest: DuckDB-native records/s ÷ dlt-sources records/s |",
    "| ingest, CPU only: dlt-sources CPU s per record ÷ DuckDB-native CPU s per record (server excluded) |",
    "| build: `dbt build` ÷ compiled SQL run directly |",
    "| nightly incremental (ingest + build) ÷ full (ingest + build) |",
    "| full ingest + build wall time |",
    "| peak RSS of any step |",
    "| first full sync |",
    "| one-day incremental |",
)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_is_deterministic_and_run_writes_every_ratio(tmp_path: Path) -> None:
    first, second, results = tmp_path / "a", tmp_path / "b", tmp_path / "results"
    for out in (first, second):
        subprocess.run([str(PROJECT / "bench" / "generate"), "--scale", SCALE, "--out", str(out)], check=True)
    generated = _files(first)
    assert generated == _files(second)
    manifest = json.loads(generated["manifest.json"])
    assert manifest["records"]["pulls"] == 400  # 200 pull requests per engineer and year, 2 engineers at least
    assert {"github/acme__svc-0001/pulls.ndjson", "pagerduty/log_entries.ndjson", "jira/issues.ndjson"} <= set(generated)
    # every deployment status its own node id (GraphQL keys a status by the id inside it: one shared id loaded
    # a single status)
    statuses = [status for name, body in generated.items() if name.endswith("deployment_statuses.ndjson")
                for line in body.decode().splitlines() for status in json.loads(line)["items"]]
    assert len({status["node_id"] for status in statuses}) == len(statuses) > 0

    # the run's builds without dbt's data tests, which check data the suite's shared builds check (the steps and
    # their figures are what this test is about; the raw-SQL step then runs the models alone too)
    with data_tests_off():
        subprocess.run([str(PROJECT / "bench" / "run"), "--scale", SCALE, "--data", str(first),
                        "--work", str(tmp_path / "work"), "--results", str(results)], check=True)
    [report] = results.glob(f"*-{SCALE}.md")
    text = report.read_text()
    for row in RATIO_ROWS:
        assert row in text, row
    assert f"bench/run --scale {SCALE}" in text and "load average" in text

    [raw] = results.glob(f"*-{SCALE}.json")
    measured = json.loads(raw.read_text())
    requests = measured["figures"]["requests"]
    # every pull request before the last day is fetched with its commits and reviews: through GraphQL (the
    # default) a page of them per query, far below REST's three requests per pull request; Actions stays REST
    before = sum(1 for line in (first / "github").glob("*/pulls.ndjson")
                 for pull in map(json.loads, line.read_text().splitlines()) if pull["created_at"] < manifest["cutoff"])
    cost = measured["figures"]["github_cost"]
    assert measured["measured"]["github_api"] == "graphql"
    assert cost["full"]["queries"] > 0 and 0 < cost["full"]["points"] < before
    assert cost["full"]["total"] == cost["full"]["rest"] + cost["full"]["points"]
    assert "GitHub GraphQL points" in text
    assert 0 < requests["nightly"]["github"] < requests["full"]["github"]
    steps = measured["measured"]["steps"]
    assert steps["ingest_full"]["rows"] > steps["ingest_nightly"]["rows"] > 0
    statuses = len(json.loads(generated["jira/statuses.json"]))  # native reads every table but sprints
    assert steps["native"]["rows"] == sum(manifest["records"].values()) - manifest["records"]["sprints"] + statuses
