"""Build in a private work copy, publish a readers' file by atomic rename.

Two files live side by side:
- `warehouse.duckdb` — the published file analysts and BI tools open: schemas `marts`, `ops` and the seeds the
  marts are read with (no people in them). Nothing else: no raw data, staging or intermediate models.
- `warehouse.private.duckdb` — the private working file: everything, raw layer (and the dlt cursors incremental
  loads resume from), staging, intermediate, marts. Only the nightly, `yardstick status` and `yardstick docs`
  open it.

A run works on a copy of the private file; `publish` renames the copy over the private file and writes the
published file fresh (so no freed page of it ever held raw data), then renames it into place. Readers only ever
open a complete file, and a failed run leaves both files untouched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

PUBLIC_SCHEMAS = ("marts", "ops")
# seeds that name people (logins, e-mails, team memberships) stay in the private file
PRIVATE_SEEDS = frozenset({"identities", "people_teams", "people_roles"})


def default_warehouse() -> Path:
    """`YARDSTICK_WAREHOUSE`, or `warehouse.duckdb` in the working directory."""
    return Path(os.environ.get("YARDSTICK_WAREHOUSE", "warehouse.duckdb")).resolve()


def private_path(warehouse: Path) -> Path:
    """The private working file beside a published warehouse: `warehouse.duckdb` → `warehouse.private.duckdb`."""
    return warehouse.with_name(f"{warehouse.stem}.private{warehouse.suffix or '.duckdb'}")


def _remove(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def _has_raw_layer(path: Path) -> bool:
    with duckdb.connect(str(path), read_only=True) as con:
        return bool(con.execute("select count(*) from information_schema.schemata "
                                "where schema_name like 'raw\\_%' escape '\\'").fetchone()[0])


@contextmanager
def work_copy(warehouse: Path, *, from_scratch: bool = False) -> Iterator[Path]:
    """Yield a copy of the private file (or a new file) beside it; it is removed unless `publish` moved it.
    A published file from before the split (it holds the raw layer) seeds the first private file."""
    private = private_path(warehouse)
    work = warehouse.with_name(warehouse.name + ".building")
    _remove(work)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    if not from_scratch:
        if private.exists():
            shutil.copyfile(private, work)
        elif warehouse.exists() and _has_raw_layer(warehouse):
            shutil.copyfile(warehouse, work)
    try:
        yield work
    finally:
        _remove(work)


def publish(work: Path, warehouse: Path) -> None:
    """Make the work copy the private file and write the readers' file from it; each lands by atomic rename."""
    with duckdb.connect(str(work)) as con:
        con.execute("checkpoint")
    staged = warehouse.with_name(warehouse.name + ".publishing")
    _remove(staged)
    try:
        _write_public(work, staged)
        _move(work, private_path(warehouse))
        _move(staged, warehouse)
    finally:
        _remove(staged)


def public_tables(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    """(schema, table) of everything readers may see in `database`: marts, ops and the people-free seeds."""
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? order by 1, 2",
        [database]).fetchall()
    return [(schema, table) for schema, table in rows
            if schema in PUBLIC_SCHEMAS or (schema == "seeds" and table not in PRIVATE_SEEDS)]


def _write_public(work: Path, staged: Path) -> None:
    """A new file with the public tables of `work`: their definitions (constraints included) and rows."""
    with duckdb.connect(str(staged)) as con:
        quoted = str(work).replace("'", "''")
        con.execute(f"attach '{quoted}' as work (read_only)")
        definitions = {(s, t): sql for s, t, sql in con.execute(
            "select schema_name, table_name, sql from duckdb_tables() where database_name = 'work'").fetchall()}
        for schema, table in public_tables(con, "work"):
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(definitions[(schema, table)])
            con.execute(f'insert into "{schema}"."{table}" select * from work."{schema}"."{table}"')
        con.execute("detach work")
        con.execute("checkpoint")


def _move(source: Path, target: Path) -> None:
    """Flush `source` to disk and rename it over `target` in one step (readers of the old file keep it)."""
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
