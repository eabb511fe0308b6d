"""What a newcomer types first works: every command in the README's shell blocks (```sh, ```bash, ```console)
is either run here, as written, from a directory laid out like a checkout after `make demo` (the virtualenv
and a copy of the shared demo warehouse), or listed in SKIPPED with the reason it is not run by a test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from yardstick.runlog import RunLog, ops_path

PROJECT = Path(__file__).resolve().parents[2]
README = PROJECT / "README.md"
VENV = Path(sys.prefix)  # the virtualenv running the tests: `make setup` builds it at .venv

# Commands not run here, each with its reason (a README command matching none of these nor SAFE fails the test,
# so a new command must be classified when it is added).
SKIPPED = {
    "make demo": "creates the virtualenv and builds the demo warehouse: what this test's fixture already did "
                 "(run_demo); checked here with `make -n demo`",
    "make test": "runs this very suite; checked here with `make -n test`",
    "make lint": "run by `make test` before the tests; checked here with `make -n lint`",
    "export SOURCES__": "settings for a real organisation's GitHub (`acme/*`); discovery, exclusion and the budget "
                        "are tested against the replay server in test_github_discovery.py and test_github_budget.py",
    "COLLECTOR__WRITE_KEY=": "a server on a fixed port that runs until stopped (test_collect.py drives the "
                             "collector on a free port)",
}
# Read-only or local commands run by this test, as written
SAFE = [
    r"\. \.venv/bin/activate",
    r"duckdb (-readonly )?warehouse(\.private)?\.duckdb(\.ops\.duckdb)? \"select .*\"",
    r"\.venv/bin/python -c \"import duckdb; .*read_only=True.*\"",
    r"yardstick status",
    r"yardstick --help",
    r"yardstick report --track https://collect\.example\.com --write-key wk_report_change_me",  # writes report/
    r"yardstick metrics (list|query .*)",  # read-only: the published file opened read_only=True
]
# what each safe command must print, where the README says what it shows
EXPECTED = {
    "marts.dora_team_monthly": ["team", "month_start", "deployments", "payments"],
    "from run_log": ["run_id", "status", "succeeded"],
    "raw_github._rejected": ["table_name", "record_id", "reason"],
    "yardstick metrics list": ["metric", "better", "lead_time", "payments_api_prs_merged_without_review"],
    "--metrics lead_time,change_failure_rate": ["team", "metric_time__week", "lead_time", "payments"],
    "--metrics merged_prs": ["change__repository", "metric_time__month", "share_unreviewed", "acme/payments-api"],
    "yardstick status": ["Last 10 nightly runs", "succeeded", "Data freshness per source", "pull_requests"],
}


def readme_blocks() -> list[list[str]]:
    """The commands of each shell block, comments and blank lines dropped."""
    blocks = re.findall(r"^```(?:sh|bash|console|shell)\n(.*?)^```", README.read_text(), re.M | re.S)
    commands = [[re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()] for block in blocks]
    return [[command.removeprefix("$ ") for command in block if command] for block in commands]


def skip_reason(command: str) -> str | None:
    return next((reason for prefix, reason in SKIPPED.items() if command.startswith(prefix)), None)


def test_every_readme_command_is_classified() -> None:
    commands = [command for block in readme_blocks() for command in block]
    assert len(commands) >= 6
    unclassified = [c for c in commands if skip_reason(c) is None and not any(re.fullmatch(p, c) for p in SAFE)]
    assert unclassified == []
    assert commands[:2] == ["make demo", "make test"]  # the README still opens with the two commands


@pytest.mark.parametrize(("target", "extras"), [("demo", ".[test]"), ("test", ".[test]"), ("lint", ".[test]"),
                                               ("test-spark", ".[test,spark]")])
def test_make_targets_exist(target: str, extras: str) -> None:
    # a dry run runs nothing: with the tools in a folder that does not exist, any line make ran would fail (make
    # runs a line that calls $(MAKE) even for -n: a `make -n test` once ran the whole suite inside this test);
    # -B prints every step as on a fresh clone, the install with the whole list of extras (a comma once cut it)
    result = subprocess.run(["make", "-n", "-B", target, "BIN=/nonexistent/bin"], cwd=PROJECT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "/nonexistent/bin/" in result.stdout  # the dry run printed the target's commands
    assert f"install --python /nonexistent/bin/python --quiet --compile-bytecode -e '{extras}'" in result.stdout


@pytest.fixture()
def checkout(demo_warehouse: Path, tmp_path: Path) -> Path:
    """A directory like a checkout after `make demo`: .venv and warehouse.duckdb (a copy: `duckdb FILE` opens it
    for writing), plus the nightly's run-log sidecar holding one finished run, as `yardstick nightly` leaves it
    (the nightly itself, a full dbt build, is tested in test_nightly.py)."""
    (tmp_path / ".venv").symlink_to(VENV)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    private = demo_warehouse.with_name("warehouse.private.duckdb")  # raw, staging, intermediate (the quarantine)
    shutil.copyfile(private, tmp_path / private.name)
    run_log = RunLog(ops_path(warehouse))
    run_log.finish(run_log.start(), status="succeeded", rows_loaded={"raw_github.pull_requests": 1})
    return tmp_path


@pytest.mark.parametrize("number", range(len(readme_blocks())))
def test_readme_block_runs_as_written(number: int, checkout: Path) -> None:
    block = readme_blocks()[number]
    runnable = [command for command in block if skip_reason(command) is None]
    if not runnable:
        pytest.skip(f"every command of block {number} is in SKIPPED: {block}")
    # as a reader types the README top to bottom in one terminal: the virtualenv is active once a command
    # above activated it, and PATH otherwise has only the system's directories (not the virtualenv running
    # these tests, nor a `duckdb` of this machine's)
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "YARDSTICK_WAREHOUSE")}
    env["COLUMNS"] = "200"  # a terminal's width: rich wraps tables to 80 columns when stdout is not one
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != (VENV / "bin").resolve())
    before = [command for earlier in readme_blocks()[:number] for command in earlier]
    for position, command in enumerate(runnable):
        prelude = [c for c in before + runnable[:position] if c.startswith(". ")]
        script = "\n".join(["set -e", *prelude[-1:], command])
        result = subprocess.run(["bash", "-c", script], cwd=checkout, env=env, capture_output=True, text=True,
                                check=False, timeout=300)
        assert result.returncode == 0, f"{command!r} exited {result.returncode}: {result.stderr[-2000:]}"
        for marker, words in EXPECTED.items():
            if marker in command:
                missing = [word for word in words if word not in result.stdout]
                assert missing == [], f"{command!r} printed no {missing}: {result.stdout[-2000:]}"
