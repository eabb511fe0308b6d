"""Record projection with validation (payload → typed raw row), the quarantine of records that break their
raw contract, and the dlt hints of raw tables.

Lossless coercions are accepted (docs/architecture.md §4, "Bad input"): an integer sent as a numeric string or
as a whole float, a boolean sent as "true"/"false", a timestamp in another offset or ISO form (it means one
instant).
Anything else that breaks a field's contract rejects the whole record: inside a source run that quarantines
(`quarantining`), it goes to `raw_<source>._rejected` with its reason and payload and the rest of the load goes on;
outside one it raises PayloadError.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import dlt

from ingestion.errors import PayloadError
from ingestion.timestamps import parse_timestamp


@dataclass(frozen=True)
class Field:
    """One column of a raw table: where it comes from in the payload (dotted path), its type and rules."""

    name: str
    path: str
    type: str = "text"  # text | bigint | bool | timestamp
    required: bool = False
    enum: frozenset[str] | None = None


def fields(*specs: tuple[Any, ...]) -> tuple[Field, ...]:
    return tuple(Field(*spec) for spec in specs)


def column_hints(spec: Sequence[Field]) -> dict[str, dict[str, Any]]:
    """dlt column hints so raw tables have stable types even when the first load is empty or NULL."""
    return {f.name: {"data_type": f.type if f.type != "timestamp" else "timestamp", "nullable": not f.required}
            for f in spec}


def lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in _parts(path):
        if type(value) is not dict and not isinstance(value, Mapping):  # a dict spares the ABC check
            return None
        value = value.get(part)
    return value


@lru_cache(maxsize=1024)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def project(record: Any, spec: Sequence[Field], *, source: str, endpoint: str,
            extra: Mapping[str, Any] | None = None, id_path: str = "id") -> dict[str, Any]:
    """Pick, type-check and convert the fields of one payload record. Anything off raises a PayloadError
    naming the source, endpoint and record id, so a bad load stops before it reaches the warehouse."""
    if not isinstance(record, Mapping):
        raise PayloadError(source, endpoint, None, f"expected a JSON object, got {type(record).__name__}")
    record_id = lookup(record, id_path)
    row: dict[str, Any] = dict(extra or {})
    for f in spec:
        value = lookup(record, f.path)
        if value is None:
            if f.required:
                raise PayloadError(source, endpoint, record_id, f"missing required field '{f.path}'")
            row[f.name] = None
            continue
        try:
            row[f.name] = convert(value, f)
        except (TypeError, ValueError) as exc:
            raise PayloadError(source, endpoint, record_id, f"field '{f.path}': {exc}") from None
    return row


_INTEGER = re.compile(r"[+-]?[0-9]+")
_BOOLEANS = {"true": True, "false": False}


def _integer(value: Any) -> int:
    """An integer, or a numeric string / whole float that means exactly one (`"42"`, `42.0`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f"expected an integer, got {_short(value)}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    raise TypeError(f"expected true/false, got {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def convert(value: Any, f: Field) -> Any:
    if f.type == "bigint":
        return _integer(value)
    if f.type == "bool":
        return _boolean(value)
    if f.type == "timestamp":
        if not isinstance(value, str):  # epoch numbers are refused: seconds or milliseconds cannot be told apart
            raise TypeError(f"expected an ISO-8601 timestamp, got {_short(value)}")
        return parse_timestamp(value)
    if isinstance(value, list):  # e.g. commit parents: space-separated SHAs
        return " ".join(str(item.get("sha", item)) if isinstance(item, Mapping) else str(item) for item in value)
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {_short(value)}")
    if f.enum is not None and value not in f.enum:
        raise ValueError(f"unknown value {_short(value)} (expected one of {', '.join(sorted(f.enum))})")
    return value


# ---------------------------------------------------------------- quarantine

REJECTED_TABLE = "_rejected"
REJECTED_COLUMNS = ("table_name", "endpoint", "record_id", "reason", "payload", "load_id", "first_seen_at")


class Quarantine:
    """The records of one source run that broke their raw contract, with the reason: never dropped.

    `known` are the (table, record id) pairs already in `_rejected` from earlier runs: when one of them arrives
    valid, `resolved` lists it so the runner can delete its quarantine row. Thread-safe (dlt's parallelized
    transformers project in worker threads)."""

    def __init__(self, source: str, known: Iterable[tuple[str, str]] = ()) -> None:
        self.source = source
        self.rejected: dict[tuple[str, str], dict[str, Any]] = {}
        self.resolved: set[tuple[str, str]] = set()
        self._known = set(known)
        self._lock = threading.Lock()

    def reject(self, table: str, error: PayloadError, payload: Any) -> None:
        text = json.dumps(payload, default=str, sort_keys=True)
        record_id = str(error.record_id) if error.record_id is not None else \
            "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]
        with self._lock:
            self.rejected[(table, record_id)] = {"table_name": table, "endpoint": error.endpoint,
                                                 "record_id": record_id, "reason": error.problem, "payload": text}
            self.resolved.discard((table, record_id))

    def accept(self, table: str, record_id: Any) -> None:
        key = (table, str(record_id))
        if key in self._known:
            with self._lock:
                if key not in self.rejected:
                    self.resolved.add(key)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table, _ in self.rejected:
            counts[table] = counts.get(table, 0) + 1
        return counts


_QUARANTINE: ContextVar[Quarantine | None] = ContextVar("yardstick_quarantine", default=None)


def active_quarantine() -> Quarantine | None:
    """The quarantine of the source run in progress (None outside one)."""
    return _QUARANTINE.get()


@contextmanager
def quarantining(quarantine: Quarantine) -> Iterator[Quarantine]:
    """Within this block (and the worker threads dlt starts from it, which copy the context), records that break
    their contract go to `quarantine` instead of raising."""
    token = _QUARANTINE.set(quarantine)
    try:
        yield quarantine
    finally:
        _QUARANTINE.reset(token)


def guarded(items: Iterable[Any], table: str, build: Callable[[Any], Any],
            id_of: Callable[[Any], Any] = lambda item: None) -> list[dict[str, Any]]:
    """`build` a row (or a list of rows) from every record of a page for raw table `table`. A record whose build
    raises PayloadError is quarantined (when a quarantine is active; else the error propagates) and left out,
    and the rest of the page is kept."""
    quarantine = _QUARANTINE.get()
    rows: list[dict[str, Any]] = []
    for item in items:
        try:
            built = build(item)
        except PayloadError as error:
            if quarantine is None:
                raise
            quarantine.reject(table, error, item)
            continue
        rows.extend(built if isinstance(built, list) else [built])
        if quarantine is not None:
            quarantine.accept(table, id_of(item))
    return rows


def project_rows(items: Iterable[Any], spec: Sequence[Field], *, source: str, endpoint: str, table: str,
                 extra: Mapping[str, Any] | None = None, id_path: str = "id") -> list[dict[str, Any]]:
    """`project` every record of a page for raw table `table`, quarantining the ones that break the contract."""
    return guarded(items, table,
                   lambda item: project(item, spec, source=source, endpoint=endpoint, extra=extra, id_path=id_path),
                   lambda item: lookup(item, id_path) if isinstance(item, Mapping) else None)


# ---------------------------------------------------------------- raw tables

TableSpec = tuple[Sequence[Field], tuple[str, ...]]  # (columns, primary key)


def table_hints(spec: TableSpec) -> dict[str, Any]:
    """Keyword arguments for `@dlt.resource` / `make_hints`: merge on the primary key, typed columns."""
    columns, primary_key = spec
    return {"primary_key": list(primary_key), "write_disposition": "merge", "columns": column_hints(columns)}


def to_table(rows: list[dict[str, Any]], table: str, spec: TableSpec) -> Any:
    """Send rows from a resource to another raw table with that table's own key and column hints."""
    return dlt.mark.with_hints(rows, dlt.mark.make_hints(table_name=table, **table_hints(spec)),
                               create_table_variant=True)
