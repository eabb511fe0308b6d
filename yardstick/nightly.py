"""`yardstick nightly`: one lock, one refresh (ingest → raw gate → dbt build → mart gate → atomic publish),
a run log that survives failed runs, and an optional PostgreSQL copy of the marts for BI tools.

Where things live, beside the published warehouse `W`:
- `W.lock` — held with `flock` for the whole run. The kernel drops the lock when its process dies, so a lock
  left by a killed run is free again at once; the file keeps the holder's pid and start time for messages.
- `W.ops.duckdb` — the run log (`run_log`, `versions`): a small sidecar DuckDB file written only by the
  nightly, in short transactions under the lock. It cannot live only in the published file: a failed run
  throws its work copy away (so its row would vanish with it), and writing into the published file would
  need a write connection that DuckDB refuses while readers have it open. Each publish also copies the run
  log and a new `ops.versions` row into the work copy, so the published warehouse carries `ops.run_log` (as
  of that publish) and `ops.versions` (one row per publish: readers can tell which version they read).
- `W.building` — the work copy (of the private file); a leftover from a killed run is deleted when the next run
  starts.
- `<W stem>.private.duckdb` — the private working file: raw layer, dlt cursors, staging, intermediate and marts
  (yardstick/publish.py). `W` itself holds only what readers may see.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from yardstick.errors import BuildFailed, QualityGateFailed, YardstickError, find_domain_error
from yardstick.refresh import Progress, RefreshResult

PAUSE_AT = "YARDSTICK_PAUSE_AT"  # test hook: stop at this checkpoint until <pause file>.release exists
PAUSE_FILE = "YARDSTICK_PAUSE_FILE"

RUN_LOG_DDL = """
create table if not exists run_log (
    run_id varchar primary key,
    pid integer,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    status varchar,            -- running | succeeded | failed | interrupted
    step varchar,              -- the step running now, or the one that failed
    error varchar,             -- one-line reason of a failure
    failing_check varchar,     -- the quality gate or dbt test that failed, if one did
    rows_loaded json,          -- {"raw_github.pull_requests": 12, ...}
    published_version bigint
);
create table if not exists versions (
    version bigint primary key,
    run_id varchar,
    published_at timestamp with time zone
);
"""


class NightlyRunning(YardstickError):
    """Another nightly holds the lock."""


class NightlyFailed(YardstickError):
    """A step of the nightly failed; the message names the step."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def ops_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".ops.duckdb")


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- lock

@contextmanager
def nightly_lock(warehouse: Path) -> Iterator[dict[str, Any] | None]:
    """Hold the nightly lock for a block; yields the details of a stale lock it recovered (or None).
    Raises NightlyRunning at once when a live process holds it."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise NightlyRunning(f"a nightly is already running (pid {holder.get('pid', '?')}, "
                             f"started at {holder.get('started_at', '?')})") from None
    stale = _read_holder(fd) or None  # the file still names a holder: it died without releasing
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "started_at": _now().isoformat(timespec="seconds")}).encode(), 0)
    os.fsync(fd)
    try:
        yield stale
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}


# ---------------------------------------------------------------- run log

class RunLog:
    """The run log in the sidecar file; every write is its own short connection and transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with duckdb.connect(str(self.path)) as con:
            con.execute(RUN_LOG_DDL)
            yield con

    def recover(self, published: Path) -> list[str]:
        """Mark runs left 'running' by a dead process as interrupted (we hold the lock, so none is alive),
        keeping the version they published if their rename happened before they died."""
        versions = _published_versions(published)
        with self._connect() as con:
            stuck = [run_id for (run_id,) in con.execute(
                "select run_id from run_log where status = 'running'").fetchall()]
            for run_id in stuck:
                con.execute("update run_log set status = 'interrupted', published_version = ?, error = "
                            "'the run stopped without finishing (killed or crashed)' where run_id = ?",
                            [versions.get(run_id), run_id])
        return stuck

    def start(self) -> str:
        run_id = _now().strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
        with self._connect() as con:
            con.execute("insert into run_log (run_id, pid, started_at, status) values (?, ?, ?, 'running')",
                        [run_id, os.getpid(), _now()])
        return run_id

    def step(self, run_id: str, step: str) -> None:
        with self._connect() as con:
            con.execute("update run_log set step = ? where run_id = ?", [step, run_id])

    def finish(self, run_id: str, *, status: str, rows_loaded: Mapping[str, int] | None = None,
               error: str | None = None, failing_check: str | None = None, version: int | None = None) -> None:
        with self._connect() as con:
            con.execute(
                "update run_log set finished_at = ?, status = ?, error = ?, failing_check = ?, rows_loaded = ?, "
                "published_version = coalesce(?, published_version), "
                "step = case when ? = 'succeeded' then null else step end where run_id = ?",
                [_now(), status, error, failing_check, json.dumps(dict(rows_loaded or {}), sort_keys=True),
                 version, status, run_id])

    def record_version(self, version: int, run_id: str, published_at: datetime) -> None:
        with self._connect() as con:
            con.execute("insert or replace into versions values (?, ?, ?)", [version, run_id, published_at])
            con.execute("update run_log set published_version = ? where run_id = ?", [version, run_id])

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with duckdb.connect(str(self.path), read_only=True) as con:
            cursor = con.execute("select * from run_log order by started_at desc limit ?", [limit])
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _published_versions(warehouse: Path) -> dict[str, int]:
    if not warehouse.exists():
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        exists = con.execute("select count(*) from information_schema.tables where table_schema = 'ops' "
                             "and table_name = 'versions'").fetchone()[0]
        if not exists:
            return {}
        return {run_id: version for version, run_id in con.execute("select version, run_id from ops.versions").fetchall()}


def stamp_version(work: Path, run_log: RunLog, run_id: str) -> tuple[int, datetime]:
    """Add this publish's `ops.versions` row and a copy of the run log to the work copy."""
    published_at = _now()
    with duckdb.connect(str(work)) as con:
        con.execute("create schema if not exists ops")
        con.execute("create table if not exists ops.versions (version bigint primary key, run_id varchar, "
                    "published_at timestamp with time zone)")
        version = con.execute("select coalesce(max(version), 0) + 1 from ops.versions").fetchone()[0]
        con.execute("insert into ops.versions values (?, ?, ?)", [version, run_id, published_at])
        quoted = str(run_log.path).replace("'", "''")
        con.execute(f"attach '{quoted}' as run_log_file (read_only)")
        con.execute("create or replace table ops.run_log as select * from run_log_file.run_log")
        con.execute("update ops.run_log set published_version = ? where run_id = ?", [version, run_id])
        con.execute("detach run_log_file")
    return version, published_at


# ---------------------------------------------------------------- steps and test checkpoints

def checkpoint(name: str) -> None:
    """Test hook: with YARDSTICK_PAUSE_AT=name, announce the pid in YARDSTICK_PAUSE_FILE and wait until
    `<pause file>.release` exists — so a test can kill -9 the run at a known point, deterministically."""
    if os.environ.get(PAUSE_AT) != name:
        return
    barrier = Path(os.environ[PAUSE_FILE])
    barrier.write_text(str(os.getpid()))
    release = barrier.with_name(barrier.name + ".release")
    while not release.exists():
        time.sleep(0.05)


@dataclass
class TrackedProgress(Progress):
    """Progress that remembers the running step and reports each start (to the run log)."""

    on_step: Callable[[str], None] = field(default=lambda label: None)
    current: str | None = None

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        self.current = label
        self.on_step(label)
        checkpoint(label)
        with super().step(label):
            yield


def _dbt_node_checkpoints() -> Callable[[Any], None] | None:
    """With YARDSTICK_PAUSE_AT='dbt node N', pause when dbt reports its N-th finished node (mid-build)."""
    target = os.environ.get(PAUSE_AT) or ""
    if not target.startswith("dbt node "):
        return None
    finished = 0

    def on_event(event: Any) -> None:
        nonlocal finished
        if event.info.name == "NodeFinished":
            finished += 1
            checkpoint(f"dbt node {finished}")

    return on_event


# ---------------------------------------------------------------- the nightly

@dataclass
class NightlyResult:
    run_id: str
    version: int | None
    refresh: RefreshResult
    postgres_tables: list[str] = field(default_factory=list)


def nightly(warehouse: Path, *, full_refresh: bool = False, progress: Progress | None = None,
            postgres_url: str | None = None, postgres_reader: str | None = None) -> NightlyResult:
    """Run the nightly under the lock; on failure record it, keep the published warehouse, and raise
    NightlyFailed naming the step."""
    from yardstick import dbt
    from yardstick.refresh import refresh

    base = progress or Progress()
    with nightly_lock(warehouse) as stale:
        if stale:
            base.note(f"recovered a stale lock (pid {stale.get('pid')}, started at {stale.get('started_at')}, "
                      "no longer running)")
        run_log = RunLog(ops_path(warehouse))
        for run_id in run_log.recover(warehouse):
            base.note(f"run {run_id} was interrupted; marked in the run log")
        run_id = run_log.start()
        tracked = TrackedProgress(console=base.console, quiet=base.quiet,
                                  on_step=lambda label: run_log.step(run_id, label))
        stamped: dict[str, Any] = {}

        def before_publish(work: Path) -> None:
            stamped["version"], stamped["at"] = stamp_version(work, run_log, run_id)
            checkpoint("publish rename")

        on_event = _dbt_node_checkpoints()
        if on_event:
            dbt.CALLBACKS.append(on_event)
        try:
            result = refresh(warehouse, full_refresh=full_refresh, progress=tracked, before_publish=before_publish)
            run_log.record_version(stamped["version"], run_id, stamped["at"])
            checkpoint("published")
            postgres_tables: list[str] = []
            url = postgres_url or configured_postgres_url()
            if url:
                from yardstick.postgres import publish_postgres

                with tracked.step("Publish marts to PostgreSQL"):
                    postgres_tables = publish_postgres(warehouse, url, reader=postgres_reader)
        except BaseException as exc:
            step = tracked.current or "start"
            domain = find_domain_error(exc)
            reason = str(domain) if domain else f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            failing = reason if isinstance(domain, QualityGateFailed | BuildFailed) else None
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            run_log.finish(run_id, status=status, error=reason, failing_check=failing)
            if isinstance(exc, Exception):
                raise NightlyFailed(f"step '{step}' failed: {reason}") from exc
            raise
        finally:
            if on_event:
                dbt.CALLBACKS.remove(on_event)
        run_log.finish(run_id, status="succeeded", rows_loaded=result.rows_loaded, version=stamped["version"])
        return NightlyResult(run_id, stamped["version"], result, postgres_tables)


def configured_postgres_url() -> str | None:
    """`YARDSTICK_POSTGRES_URL`, else `postgres.url` in dlt config/secrets (`[postgres] url = …`)."""
    url = os.environ.get("YARDSTICK_POSTGRES_URL")
    if url:
        return url
    import dlt

    return dlt.secrets.get("postgres.url") or dlt.config.get("postgres.url")
