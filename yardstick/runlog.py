"""The nightly's run log: the sidecar DuckDB file `W.ops.duckdb` beside a published warehouse `W` (tables
`run_log` and `versions`), and the `ops` copy of it that each publish stamps into the work copy."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

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


def ops_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".ops.duckdb")


def _now() -> datetime:
    return datetime.now(UTC)


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
