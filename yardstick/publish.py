"""Build into a work copy, publish by atomic rename: readers only ever open a complete warehouse, and a
failed run leaves the last published file untouched."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


def default_warehouse() -> Path:
    """`YARDSTICK_WAREHOUSE`, or `warehouse.duckdb` in the working directory."""
    return Path(os.environ.get("YARDSTICK_WAREHOUSE", "warehouse.duckdb")).resolve()


def _remove(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


@contextmanager
def work_copy(warehouse: Path, *, from_scratch: bool = False) -> Iterator[Path]:
    """Yield a private copy of the published warehouse (or a new file) beside it; it is removed unless
    `publish` moved it into place."""
    work = warehouse.with_name(warehouse.name + ".building")
    _remove(work)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    if warehouse.exists() and not from_scratch:
        shutil.copyfile(warehouse, work)
    try:
        yield work
    finally:
        _remove(work)


def publish(work: Path, warehouse: Path) -> None:
    """Checkpoint the work copy into one self-contained file, flush it to disk, and rename it over the
    published warehouse in one step (readers holding the old file keep reading it)."""
    with duckdb.connect(str(work)) as con:
        con.execute("checkpoint")
    with open(work, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(work, warehouse)
    directory = os.open(warehouse.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
