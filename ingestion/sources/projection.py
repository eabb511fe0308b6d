"""Record projection with validation (payload → typed raw row), and the dlt hints of raw tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def project(record: Any, spec: Sequence[Field], *, source: str, endpoint: str,
            extra: Mapping[str, Any] | None = None, id_path: str = "id") -> dict[str, Any]:
    """Pick, type-check and convert the fields of one payload record. Anything off raises a PayloadError
    naming the source, endpoint and record id, so a bad load stops before it reaches the warehouse."""
    if not isinstance(record, Mapping):
        raise PayloadError(source, endpoint, None, f"expected a JSON object, got {type(record).__name__}")
    record_id = _lookup(record, id_path)
    row: dict[str, Any] = dict(extra or {})
    for f in spec:
        value = _lookup(record, f.path)
        if value is None:
            if f.required:
                raise PayloadError(source, endpoint, record_id, f"missing required field '{f.path}'")
            row[f.name] = None
            continue
        try:
            row[f.name] = _convert(value, f)
        except (TypeError, ValueError) as exc:
            raise PayloadError(source, endpoint, record_id, f"field '{f.path}': {exc}") from None
    return row


def _convert(value: Any, f: Field) -> Any:
    if f.type == "bigint":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an integer, got {value!r}")
        return value
    if f.type == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"expected true/false, got {value!r}")
        return value
    if f.type == "timestamp":
        if not isinstance(value, str):
            raise TypeError(f"expected an ISO-8601 timestamp, got {value!r}")
        return parse_timestamp(value)
    if isinstance(value, list):  # e.g. commit parents: space-separated SHAs
        return " ".join(str(item.get("sha", item)) if isinstance(item, Mapping) else str(item) for item in value)
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    if f.enum is not None and value not in f.enum:
        raise ValueError(f"unknown value {value!r} (expected one of {', '.join(sorted(f.enum))})")
    return value


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
