"""Readers are never blocked and never see a torn warehouse: reader processes query the published file
read-only, continuously, while nightly builds run back to back and publish new versions.

Bounded for CI: one first publish, then BUILDS nightly builds (each a full dbt build of the March 2026
scenario plus one new pull request, so every version has different marts) while READERS processes query.
Each query reads the version (ops.versions) and the marts in one statement; the test knows each version's
marts, so a result mixing two versions would not match any of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from scenarios import PAYMENTS, at, march_2026

from ingestion.demo.server import ReplayServer
from yardstick.demo import environment, source_settings
from yardstick.nightly import nightly
from yardstick.refresh import Progress

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

# Two publishes under the readers (it was four, then three): every publish is the same code path (a nightly's
# atomic rename while readers hold the file), more added a full dbt build each and no new case. The readers go on
# until each has seen the last version, so every one of versions 1..3 is seen (asserted below).
BUILDS = 2
READERS = 2

QUERY = """
select
    (select max(version) from ops.versions) as version,
    (select count(*) from marts.fct_changes) as changes,
    (select count(*) from ops.run_log) as runs,  -- the published file has no raw layer to count
    (select coalesce(sum(deployments), 0) from marts.dora_team_monthly) as deployments
"""

READER = r"""
import json, sys, time, pathlib, duckdb
warehouse, out, stop = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
query = sys.argv[4]
with out.open("w") as log:
    while not stop.exists():
        try:
            with duckdb.connect(warehouse, read_only=True) as con:  # a fresh connection, as BI tools reconnect
                row = con.execute(query).fetchone()
            log.write(json.dumps({"row": list(row)}) + "\n")
        except Exception as exc:
            log.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        log.flush()
        time.sleep(0.2)  # ~5 queries/s per reader: continuous, without starving the builds of CPU
"""


def _has_read(log: Path, version: int) -> bool:
    """Whether a reader's log (being written: its last line may be partial) has a result of `version`."""
    return log.exists() and any(line.startswith(f'{{"row": [{version},') for line in log.read_text().splitlines())


def snapshot(warehouse: Path) -> list:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return list(con.execute(QUERY).fetchone())


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[int, list], list[dict], float]:
    directory = tmp_path_factory.mktemp("readers")
    warehouse = directory / "warehouse.duckdb"
    scenario = march_2026()
    quiet = Progress(quiet=True)
    expected: dict[int, list] = {}
    with ReplayServer(scenario.org) as server, environment({
        **source_settings(server, sorted(scenario.org.github), date(2026, 1, 1)),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    }):
        first = nightly(warehouse, progress=quiet)
        expected[first.version] = snapshot(warehouse)
        stop = directory / "stop"
        readers = [subprocess.Popen([sys.executable, "-c", READER, str(warehouse), str(directory / f"r{i}.jsonl"),
                                     str(stop), QUERY]) for i in range(READERS)]
        started = time.monotonic()
        try:
            for build in range(BUILDS):
                scenario.builder.pull_request(PAYMENTS, author="bob", title=f"Change {build}",
                                              opened_at=at(25 + build % 3, 10), commit_times=[at(25 + build % 3, 9)],
                                              reviews=[("cat", "APPROVED", at(25 + build % 3, 11))],
                                              merged_at=at(25 + build % 3, 12))
                server.set_org(scenario.builder.build())
                result = nightly(warehouse, progress=quiet)
                expected[result.version] = snapshot(warehouse)
            deadline = time.monotonic() + 60
            while not all(_has_read(directory / f"r{i}.jsonl", BUILDS + 1) for i in range(READERS)):
                assert time.monotonic() < deadline, "the readers never saw the last version"
                time.sleep(0.1)
        finally:
            stop.touch()
            for reader in readers:
                reader.wait(timeout=60)
        elapsed = time.monotonic() - started
    lines = [json.loads(line) for i in range(READERS) for line in (directory / f"r{i}.jsonl").read_text().splitlines()]
    return expected, lines, elapsed


def test_readers_never_fail_while_builds_publish(observed: tuple[dict[int, list], list[dict], float]) -> None:
    expected, lines, elapsed = observed
    assert sorted(expected) == list(range(1, BUILDS + 2))
    errors = [line["error"] for line in lines if "error" in line]
    assert errors == []
    assert len(lines) >= 40, f"only {len(lines)} queries in {elapsed:.0f}s"


def test_every_result_comes_from_exactly_one_published_version(
    observed: tuple[dict[int, list], list[dict], float],
) -> None:
    expected, lines, _ = observed
    assert len({tuple(v) for v in expected.values()}) == len(expected)  # each version's marts differ
    rows = [line["row"] for line in lines]
    torn = [row for row in rows if expected.get(row[0]) != row]
    assert torn == []
    seen = {row[0] for row in rows}
    assert seen == set(expected)  # readers saw every version: it changed under them twice
