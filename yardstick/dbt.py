"""Runs the dbt project (at the repository root) against a warehouse file through dbt's Python API."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ingestion.environment import environment
from yardstick import build_state, person_key
from yardstick.errors import BuildFailed

PROJECT_DIR = Path(__file__).resolve().parent.parent

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

# profiles.yml reads the warehouse path from this var (dbt renders `var()` there for --vars values only)
WAREHOUSE_VAR = "yardstick_warehouse"
# dbt's parse state (one per target directory) and how many earlier ones are kept, one per set of --vars
PARSE_STATE = "partial_parse.msgpack"
PARSE_SLOTS = 8
# the commands whose JSON artifacts (manifest.json, catalog.json) the code reads afterwards
ARTIFACT_COMMANDS = ("parse", "docs")


def target_dir() -> Path:
    """dbt's target directory (DBT_TARGET_PATH, else the project's `target/`)."""
    target = Path(os.environ.get("DBT_TARGET_PATH", "target"))
    return target if target.is_absolute() else PROJECT_DIR / target


@contextmanager
def stable_path(warehouse: Path) -> Iterator[Path]:
    """The path dbt is given for `warehouse`: a symbolic link, always at the same place in dbt's target directory
    (named like the file up to its first dot, as DuckDB names the database), held for one dbt invocation.

    dbt parses the whole project again (seconds; most of a small build) whenever the profile or the `--vars` differ
    from its last run, and the warehouse path is in both. A refresh builds a work copy, the tests build many
    warehouses: through the link dbt sees one path and parses only what changed. Invocations sharing a target
    directory take turns (a lock beside the link; dbt itself cannot share target/ either), so the link never moves
    under a running build. DuckDB follows the link; its WAL would sit beside the link, so a WAL left there by a
    crashed build (of whatever file the link named then) is removed before the link moves, and one a build leaves
    behind is checkpointed into the file, so code opening the file by its own path sees every table."""
    real = warehouse.resolve()
    link = target_dir() / f"{real.name.split('.')[0]}.duckdb"
    link.parent.mkdir(parents=True, exist_ok=True)
    with link.with_name(link.name + ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process dies
        if not (link.is_symlink() and Path(os.readlink(link)) == real):
            _wal(link).unlink(missing_ok=True)
            staged = link.with_name(f".{link.name}.{os.getpid()}")
            staged.unlink(missing_ok=True)
            staged.symlink_to(real)
            staged.replace(link)  # atomic: the link always names one file
        yield link
        _checkpoint(link)


@contextmanager
def parse_state_for(key: str) -> Iterator[None]:
    """dbt keeps one parse state per target directory and parses the whole project again (seconds) when the
    `--vars` or the profile differ from its last run's. Runs that take turns with different vars (a nightly and
    an ad-hoc build with other vars, the demo and a real warehouse, the test suite's scenarios) each get back
    the state of their own last run: kept per `key` (a hash of the project directory, the target and the vars)
    beside dbt's own, the last PARSE_SLOTS of them. dbt itself still checks the state it is given (version, vars,
    profile, project and every file's checksum) and parses again whatever changed. Call inside `stable_path`
    (its lock)."""
    state = target_dir() / PARSE_STATE
    slot = target_dir() / "parse-states" / f"{key}.msgpack"
    if slot.exists():
        _copy(slot, state)
    else:  # not the last run's state, which may be another project directory's with the same vars: a whole parse
        state.unlink(missing_ok=True)
    yield
    slot.parent.mkdir(parents=True, exist_ok=True)
    _copy(state, slot)
    for stale in sorted(slot.parent.glob("*.msgpack"), key=_mtime)[:-PARSE_SLOTS]:
        stale.unlink(missing_ok=True)


def _copy(source: Path, destination: Path) -> None:
    """Copy through a staged file, so a reader never sees half a state; nothing when there is no source."""
    staged = destination.with_name(f".{destination.name}.{os.getpid()}")
    try:
        shutil.copyfile(source, staged)
    except FileNotFoundError:
        return
    staged.replace(destination)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # pruned meanwhile by another target directory's user
        return 0.0


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _checkpoint(link: Path) -> None:
    """Fold a WAL left beside the link into the file (DuckDB checkpoints on close: a safety net)."""
    if _wal(link).exists():
        import duckdb

        with duckdb.connect(str(link)) as connection:
            connection.execute("checkpoint")


def dbt(args: list[str], warehouse: Path, *, vars: Mapping[str, Any] | None = None,
        callbacks: Sequence[Callable[[Any], None]] = ()) -> Any:
    """Invoke dbt with the project and profile of this repository on `warehouse`; raise BuildFailed
    naming every failing model or test. `callbacks` receive dbt's events (e.g. finished nodes)."""
    from dbt.cli.main import dbtRunner  # heavy import, only when building

    # the file log at info, not dbt's default debug: one line per node, and a third off the build time (bench/)
    command = [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet",
               "--log-level-file", "info"]
    if args[0] in ARTIFACT_COMMANDS:  # what they are run for, even where DBT_WRITE_JSON=false (the test suite's)
        command.append("--write-json")
    # PostgreSQL and Spark sessions get the person key's padded keys from the environment (DuckDB's come from the
    # dbt-duckdb plugin yardstick.dbt_plugin); never in SQL text or logs, and nothing leaks past the call
    settings: dict[str, str] = {}
    if not os.environ.get("YARDSTICK_DUCKDB_THREADS"):  # profiles.yml: DuckDB's threads, default every core
        settings["YARDSTICK_DUCKDB_THREADS"] = str(os.cpu_count() or 1)
    if "postgres" in args:
        settings["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} {person_key.postgres_options(person_key.resolve())}"
    if "spark" in args:
        inner, outer = person_key.pads(person_key.resolve())
        settings |= {"YARDSTICK_PERSON_KEY_IPAD": inner.hex(), "YARDSTICK_PERSON_KEY_OPAD": outer.hex()}
    with stable_path(warehouse) as link, environment(settings):
        cli_vars = json.dumps({**dict(vars or {}), WAREHOUSE_VAR: str(link)}, sort_keys=True, default=str)
        command += ["--vars", cli_vars]
        target = next((args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--target"), "")
        # the project's directory too: dbt checks each file's checksum by its path inside the project, while the
        # state holds absolute paths (a seed's CSV), so a state made for a copy of the project elsewhere (a test's,
        # since removed) would pass dbt's checks and load seeds from the copy's path
        key = hashlib.sha256(f"{PROJECT_DIR}\0{target}\0{cli_vars}".encode()).hexdigest()[:16]
        with parse_state_for(key):
            try:
                result = dbtRunner(callbacks=list(callbacks)).invoke(command)
            finally:
                _release_duckdb()
    if result.exception is not None:
        raise BuildFailed(f"dbt {args[0]} failed: {result.exception}")
    if not result.success:
        failing = [
            f"{r.node.resource_type} {r.node.name}: {' '.join(str(r.message).split())[:200]}"
            for r in getattr(result.result, "results", []) or []
            if str(r.status) in ("error", "fail", "runtime error")
        ]
        raise BuildFailed(f"dbt {args[0]} failed: " + ("; ".join(failing) or "see dbt logs"))
    return result.result


def _release_duckdb() -> None:
    """Close the DuckDB file dbt kept open for the invocation (profiles.yml `keep_open`), as dbt-duckdb's
    maintainers advise for programmatic runs (duckdb/dbt-duckdb#616): this process opens it next (the checkpoint
    below, the gates, publish, read-only too), and the next invocation may open another file through the link."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        opened = DuckDBConnectionManager.env()
    except Exception:  # dbt opened no DuckDB file (a parse, another adapter's target)
        return
    opened.close()  # at once, not when the garbage collector gets to it
    DuckDBConnectionManager.close_all_connections()


def build(warehouse: Path, *, vars: Mapping[str, Any] | None = None,
          callbacks: Sequence[Callable[[Any], None]] = (), full_refresh: bool = False,
          command: str = "build") -> build_state.Plan:
    """Build what the new data reaches (yardstick/build_state.py): everything, unit tests included, on a first
    build or after the project, a seed or a var changed; every table from scratch with `full_refresh` or after a
    macro or the person key changed; otherwise the models downstream of the raw tables that changed since the
    last build (and of today's date, on a new day), with their data tests. Incremental models recompute only the
    entities whose raw rows were loaded since their last build. `command="run"` builds the same models without
    tests. Returns the plan it followed. The teams' metric files (metrics/*.yml) are checked first; MetricFlow's
    own checks run as dbt parses."""
    from yardstick.metrics import check_team_metric_files

    check_team_metric_files()
    key = person_key.resolve()
    chosen = build_state.plan(warehouse, PROJECT_DIR, vars, key, full_refresh=full_refresh)
    if chosen.select != []:
        dbt(chosen.args(command), warehouse, vars=vars, callbacks=callbacks)
    build_state.record(warehouse, PROJECT_DIR, vars, key, marks=chosen.marks)
    return chosen
