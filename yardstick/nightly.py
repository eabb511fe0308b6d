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
- `W.building` — the work copy; a leftover from a killed run is deleted when the next run starts.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.errors import YardstickError, find_domain_error
from yardstick.errors import BuildFailed, QualityGateFailed
from yardstick.refresh import Progress, RefreshResult, refresh
from yardstick.runlog import RunLog, ops_path, stamp_version

PAUSE_AT = "YARDSTICK_PAUSE_AT"  # test hook: stop at this checkpoint until <pause file>.release exists
PAUSE_FILE = "YARDSTICK_PAUSE_FILE"




class NightlyRunning(YardstickError):
    """Another nightly holds the lock."""


class NightlyFailed(YardstickError):
    """A step of the nightly failed; the message names the step."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


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
        def before_publish(work: Path) -> tuple[int, datetime]:
            stamp = stamp_version(work, run_log, run_id)
            checkpoint("publish rename")
            return stamp

        on_event = _dbt_node_checkpoints()
        try:
            result = refresh(warehouse, full_refresh=full_refresh, progress=tracked, before_publish=before_publish,
                             dbt_callbacks=[on_event] if on_event else [])
            version, published_at = result.stamp
            run_log.record_version(version, run_id, published_at)
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
        run_log.finish(run_id, status="succeeded", rows_loaded=result.rows_loaded, version=version)
        return NightlyResult(run_id, version, result, postgres_tables)


def configured_postgres_url() -> str | None:
    """`YARDSTICK_POSTGRES_URL`, else `postgres.url` in dlt config/secrets (`[postgres] url = …`)."""
    url = os.environ.get("YARDSTICK_POSTGRES_URL")
    if url:
        return url
    import dlt

    return dlt.secrets.get("postgres.url") or dlt.config.get("postgres.url")
