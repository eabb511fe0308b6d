"""`yardstick nightly` as a scheduler runs it (a separate process): the lock, kill -9 at every step and a rerun
that converges, the run log, a failed run that names its step, and no secret anywhere afterwards.

One chain of runs on the March 2026 scenario (module-scoped: each full run is a dbt build):
  1. a good nightly publishes version 1; then a new pull request arrives at the API;
  2. a nightly paused during ingest (after GitHub, before PagerDuty) — a second nightly is refused at once
     naming the first one's pid — then kill -9;
  3. kill -9 during the dbt build (after its 10th node), 4. at the raw quality gate,
  5. during publish (work copy stamped and complete, before the rename);
  6. a run whose PagerDuty ingest keeps failing (503): non-zero exit naming the step;
  7. a plain rerun: it recovers the stale lock and leftovers and publishes version 2.
Its marts must equal (order-independent digest) those of one uninterrupted nightly in a fresh directory.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import TEST_PERSON_KEY
from scenarios import PAYMENTS, at, march_2026

from ingestion.demo.server import ReplayServer
from yardstick.demo import source_settings
from yardstick.person_key import pads
from yardstick.publish import private_path

# builds without dbt data tests: they run on the suite's shared builds (dbt_unit_tests.py); the chain is about
# kills, publishing and convergence
DBT_DATA_TESTS = False

GITHUB_TOKEN = "ghp_KNOWNsecret0123456789abcdefNIGHTLY"
PAGERDUTY_TOKEN = "pdKNOWNsecretTOKEN+nightly/987"
KILL_POINTS = {  # checkpoint → the step the run log must show for the killed run
    "Ingest pagerduty": "Ingest pagerduty",
    "dbt node 10": "Build models and run dbt tests",
    "Check raw data (Great Expectations)": "Check raw data (Great Expectations)",
    "publish rename": "Publish warehouse.duckdb",
}
RAW_KEYS = {
    "raw_github.pull_requests": "id", "raw_github.pull_request_commits": "repository, pull_request_number, sha",
    "raw_github.pull_request_reviews": "id", "raw_github.commits": "repository, sha", "raw_github.deployments": "id",
    "raw_github.deployment_statuses": "id", "raw_github_actions.workflow_runs": "id",
    "raw_pagerduty.incidents": "id", "raw_pagerduty.log_entries": "id",
}


def start_nightly(cwd: Path, env: dict[str, str], pause_at: str | None = None) -> subprocess.Popen[str]:
    extra = {"YARDSTICK_PAUSE_AT": pause_at, "YARDSTICK_PAUSE_FILE": str(cwd / "paused")} if pause_at else {}
    return subprocess.Popen([sys.executable, "-m", "yardstick.cli", "nightly"], cwd=cwd, env={**env, **extra},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_paused(process: subprocess.Popen[str], barrier: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not barrier.exists():
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"nightly ended (rc {process.returncode}) before its checkpoint: {err[-2000:]}")
        assert time.monotonic() < deadline, "nightly never reached its checkpoint"
        time.sleep(0.05)


def marts_digest(warehouse: Path) -> dict[str, tuple[int, str]]:
    """Per mart: row count and a digest of its rows, independent of row order."""
    digests = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'marts' order by 1").fetchall()]
        for table in tables:
            rows = sorted(repr(row) for row in con.execute(f"select * from marts.{table}").fetchall())
            digests[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return digests


def raw_counts(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Per raw table (in the private file beside the published one): (rows, distinct primary keys)."""
    with duckdb.connect(str(private_path(warehouse)), read_only=True) as con:
        return {table: con.execute(f"select count(*), count(distinct ({key})) from {table}").fetchone()
                for table, key in RAW_KEYS.items()}


@dataclass
class Chain:
    directory: Path
    reference: Path
    outputs: list[str] = field(default_factory=list)  # every stdout and stderr of every run
    refused: subprocess.CompletedProcess[str] | None = None
    paused_pid: int = 0
    published_after_kill: dict[str, bool] = field(default_factory=dict)
    leftover_after_kill: dict[str, bool] = field(default_factory=dict)
    failed: subprocess.CompletedProcess[str] | None = None
    final: subprocess.CompletedProcess[str] | None = None
    version_1_bytes: bytes = b""


def _finish(process: subprocess.Popen[str], chain: Chain) -> subprocess.CompletedProcess[str]:
    out, err = process.communicate(timeout=600)
    chain.outputs += [out, err]
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    scenario = march_2026()
    server = ReplayServer(scenario.org, github_token=GITHUB_TOKEN, pagerduty_token=PAGERDUTY_TOKEN).start()
    env = {key: value for key, value in os.environ.items() if not key.startswith("YARDSTICK_")}
    env["YARDSTICK_PERSON_KEY"] = TEST_PERSON_KEY  # the reference's key: the same person keys in both marts
    env.update(source_settings(server, sorted(scenario.org.github), date(2026, 1, 1)))
    env.update({"RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05", "RUNTIME__REQUEST_MAX_ATTEMPTS": "2"})
    directory = tmp_path_factory.mktemp("nightly")
    warehouse = directory / "warehouse.duckdb"
    result = Chain(directory, tmp_path_factory.mktemp("reference") / "warehouse.duckdb")
    try:
        first = _finish(start_nightly(directory, env), result)
        assert first.returncode == 0, first.stderr
        result.version_1_bytes = warehouse.read_bytes()

        scenario.builder.pull_request(PAYMENTS, author="bob", title="Idempotency keys", opened_at=at(25, 10),
                                      commit_times=[at(25, 9)], reviews=[("cat", "APPROVED", at(25, 11))],
                                      merged_at=at(25, 12))
        server.set_org(scenario.builder.build())

        for point in KILL_POINTS:
            barrier = directory / "paused"
            barrier.unlink(missing_ok=True)
            process = start_nightly(directory, env, pause_at=point)
            wait_paused(process, barrier)
            if point == "Ingest pagerduty":
                result.paused_pid = process.pid
                started = time.monotonic()
                result.refused = subprocess.run([sys.executable, "-m", "yardstick.cli", "nightly"], cwd=directory,
                                                check=False, env=env, capture_output=True, text=True, timeout=120)
                result.refused.args = time.monotonic() - started  # type: ignore[assignment]
                result.outputs += [result.refused.stdout, result.refused.stderr]
            process.send_signal(signal.SIGKILL)
            _finish(process, result)
            result.published_after_kill[point] = warehouse.read_bytes() == result.version_1_bytes
            result.leftover_after_kill[point] = warehouse.with_name("warehouse.duckdb.building").exists()

        server.fail("/log_entries", 503, times=10)
        result.failed = _finish(start_nightly(directory, env), result)
        server.clear_faults()

        result.final = _finish(start_nightly(directory, env), result)
        # sequentially: two dbt runs at once would share the project's target/ directory
        reference = _finish(start_nightly(result.reference.parent, env), result)
        assert reference.returncode == 0, reference.stderr
    finally:
        server.stop()
    return result


def run_log(warehouse: Path) -> list[dict]:
    with duckdb.connect(str(warehouse.with_name(warehouse.name + ".ops.duckdb")), read_only=True) as con:
        cursor = con.execute("select * from run_log order by started_at")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_a_second_nightly_is_refused_at_once_naming_the_running_one(chain: Chain) -> None:
    refused = chain.refused
    assert refused is not None and refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith(f"yardstick nightly failed: a nightly is already running (pid {chain.paused_pid}, "
                           "started at 20")
    assert refused.args < 30  # type: ignore[operator]  # import time only: it never waited for the lock


def test_every_kill_leaves_the_published_warehouse_untouched(chain: Chain) -> None:
    assert chain.published_after_kill == dict.fromkeys(KILL_POINTS, True)
    assert chain.leftover_after_kill["publish rename"]  # a complete, stamped work copy was left behind


def test_rerun_after_kills_converges_to_an_uninterrupted_run(chain: Chain) -> None:
    final = chain.final
    assert final is not None and final.returncode == 0, final.stderr
    assert "recovered a stale lock" not in final.stderr  # the failed run after the kills released it cleanly
    warehouse = chain.directory / "warehouse.duckdb"
    digest = marts_digest(warehouse)
    assert digest == marts_digest(chain.reference)
    assert digest["fct_changes"][0] == 7  # the pull request that arrived after version 1 is in
    counts = raw_counts(warehouse)
    assert all(rows == keys for rows, keys in counts.values()), counts  # no duplicate raw rows
    assert counts == raw_counts(chain.reference)
    assert not warehouse.with_name("warehouse.duckdb.building").exists()
    assert sorted(p.name for p in chain.directory.iterdir() if p.name.startswith("warehouse")) == [
        "warehouse.duckdb", "warehouse.duckdb.lock", "warehouse.duckdb.ops.duckdb", "warehouse.private.duckdb"]


def test_the_run_log_keeps_every_run_with_its_step(chain: Chain) -> None:
    runs = run_log(chain.directory / "warehouse.duckdb")
    assert [r["status"] for r in runs] == ["succeeded", *["interrupted"] * len(KILL_POINTS), "failed", "succeeded"]
    assert [r["step"] for r in runs[1:1 + len(KILL_POINTS)]] == list(KILL_POINTS.values())
    assert [r["published_version"] for r in runs] == [1, None, None, None, None, None, 2]
    failed = runs[-2]
    assert failed["step"] == "Ingest pagerduty"
    assert failed["error"].startswith("PagerDuty answered 503 for http://127.0.0.1:")
    assert failed["finished_at"] is not None and runs[-1]["finished_at"] >= runs[-1]["started_at"]
    loaded = runs[-1]["rows_loaded"]
    assert '"raw_github.pull_requests": 1' in loaded  # only the new pull request was fetched again
    with duckdb.connect(str(chain.directory / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select version from ops.versions order by 1").fetchall() == [(1,), (2,)]
        published_log = con.execute("select status from ops.run_log order by started_at").fetchall()
    assert [s for (s,) in published_log] == [r["status"] for r in runs[:-1]] + ["running"]


def test_a_failed_run_exits_non_zero_naming_the_step(chain: Chain) -> None:
    failed = chain.failed
    assert failed is not None and failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("yardstick nightly failed: step 'Ingest pagerduty' failed: PagerDuty answered 503 for ")
    assert "Traceback" not in failed.stderr
    assert "recovered a stale lock (pid " in failed.stderr  # the last killed run's lock


def test_no_secret_in_any_output_log_run_log_or_warehouse_column(chain: Chain) -> None:
    secrets = [GITHUB_TOKEN, PAGERDUTY_TOKEN, TEST_PERSON_KEY, *(pad.hex() for pad in pads(TEST_PERSON_KEY))]
    texts = list(chain.outputs)
    for warehouse in (chain.directory / "warehouse.duckdb", chain.reference):
        for path in (warehouse, private_path(warehouse)):
            with duckdb.connect(str(path), read_only=True) as con:
                columns = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                                      "where data_type in ('VARCHAR', 'JSON') and table_catalog = current_database()"
                                      ).fetchall()
                assert len(columns) > 50
                for schema, table, column in columns:
                    texts += [v for (v,) in con.execute(
                        f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"').fetchall() if v]
        texts += [str(row) for row in run_log(warehouse)]
    # dbt's logs: logs/*.log, or logs/<worker>/ under pytest-xdist (conftest.py)
    for log in [*(Path(__file__).resolve().parents[2] / "logs").rglob("*.log"), *chain.directory.rglob("*.log")]:
        texts.append(log.read_text(errors="replace"))
    blob = "\n".join(texts)
    assert "PagerDuty answered 503" in blob  # the error messages are in there
    for secret in secrets:
        assert secret not in blob
    for path in chain.directory.iterdir():  # and not in any byte of any file beside the warehouse
        if path.is_file():
            assert not any(s.encode() in path.read_bytes() for s in secrets), path


def test_status_shows_the_runs_and_freshness_per_source(chain: Chain) -> None:
    result = subprocess.run([sys.executable, "-m", "yardstick.cli", "status", "--runs", "3"], cwd=chain.directory,
                            check=False, capture_output=True, text=True, timeout=120,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("YARDSTICK_")},
                                 "COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "Last 3 nightly runs" in out
    assert out.count("succeeded") == 1 and out.count("failed") == 1 and out.count("interrupted") == 1
    assert "Ingest pagerduty: PagerDuty answered 503" in out
    # freshness: the newest pull request update is 25 March 2026, long past the 3-day warn_after
    assert "github pull_requests 7 0 2026-03-25 12:00" in out  # 7 rows, none quarantined
    assert "warn" in out and "pagerduty log_entries 10" in out
