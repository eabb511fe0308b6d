"""Columnar projection: a page of payload records → one Arrow table of a raw table's typed columns, validated a
column at a time, so dlt loads it without normalising row by row (docs/architecture.md §4, "The Arrow path").

The contract is `projection.project`'s, record for record: the same lossless coercions (`"42"`, `42.0`,
`"true"`, another offset or ISO form of the same instant, no zone read as UTC) and the same reason for the first
field (in column order) that breaks it. Each column takes a fast path when every value already has its type (one
type check per value, then `pa.array`; canonical ISO-8601 timestamps are matched by one regular expression and
cast by Arrow); any other column is converted value by value with `projection`'s own converters, and the values
that fail give their records' reasons. Records with a reason leave the table and go to the quarantine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.errors import PayloadError
from ingestion.sources.projection import Field, active_quarantine, convert, lookup

ARROW_TYPES = {"text": pa.string(), "bigint": pa.int64(), "bool": pa.bool_(),
               "timestamp": pa.timestamp("us", tz="UTC")}
# the forms Arrow's cast and `datetime.fromisoformat` read as the same instant
_CANONICAL_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_FAST_TYPES: dict[str, type] = {"text": str, "bigint": int, "bool": bool, "timestamp": str}


def arrow_schema(columns: Sequence[Field], *, strict: bool = False) -> pa.Schema:
    """The Arrow schema of a raw table; `strict`: required columns are not nullable (as dlt's column hints)."""
    return _schema(tuple(columns), strict)


@lru_cache(maxsize=256)
def _schema(columns: tuple[Field, ...], strict: bool) -> pa.Schema:
    return pa.schema([pa.field(f.name, ARROW_TYPES[f.type], nullable=not (strict and f.required)) for f in columns])


def empty(columns: Sequence[Field]) -> pa.Table:
    return arrow_schema(columns, strict=True).empty_table()


def from_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[Field]) -> pa.Table:
    """Rows already projected (by `projection.project`) as an Arrow table of the raw table's columns."""
    return pa.Table.from_pylist([{f.name: row.get(f.name) for f in columns} for row in rows],
                                schema=arrow_schema(columns)).cast(arrow_schema(columns, strict=True))


def values_at(records: Sequence[Mapping[str, Any]], path: str) -> list[Any]:
    """One column's raw values (a dotted path into every record, as `projection.lookup`), a level at a time."""
    if "." not in path:
        return [record.get(path) for record in records]
    values: Sequence[Any] = records
    for part in path.split("."):
        values = [value.get(part) if type(value) is dict else None if value is None else lookup(value, part)
                  for value in values]
    return list(values)


def project_page(records: Sequence[Any], columns: Sequence[Field],
                 extra: Mapping[str, Any] | None = None) -> tuple[pa.Table, dict[int, str]]:
    """The valid records as a table of `columns` (a column named in `extra` holds that constant), and the reason
    each invalid record (by index) broke the contract: the first failing column's, as `projection.project`."""
    extra = extra or {}
    if not records:
        return empty(columns), {}
    reasons: dict[int, str] = {index: f"expected a JSON object, got {type(record).__name__}"
                               for index, record in enumerate(records) if not isinstance(record, Mapping)}
    objects = [record if isinstance(record, Mapping) else {} for record in records]
    arrays = []
    for f in columns:
        if f.name in extra:  # a constant, or one value per record (a list)
            value = extra[f.name]
            arrays.append(_extra_array(value if isinstance(value, list) else [value] * len(records), f))
        else:
            arrays.append(typed_column(values_at(objects, f.path), f, reasons))
    table = pa.Table.from_arrays(arrays, schema=arrow_schema(columns))
    if reasons:
        table = table.filter(pa.array([index not in reasons for index in range(len(records))], pa.bool_()))
    return table.cast(arrow_schema(columns, strict=True)), reasons


def _extra_array(values: list[Any], f: Field) -> pa.Array:
    """A column the source fills itself (a key, a parent's key): not validated, as `projection.project` leaves
    `extra` as given; a value of another type (an API that sent a number as text) is coerced as dlt's row
    normaliser would, and one that cannot be is left null."""
    try:
        return pa.array(values, ARROW_TYPES[f.type])
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_coerced(value, f) for value in values], ARROW_TYPES[f.type])


def _coerced(value: Any, f: Field) -> Any:
    if value is None:
        return None
    try:
        converted = convert(value, f)
    except (TypeError, ValueError):
        return None
    return converted.astimezone(UTC) if isinstance(converted, datetime) else converted


def typed_column(values: list[Any], f: Field, reasons: dict[int, str]) -> pa.Array:
    """One column as an Arrow array of its type; records whose value breaks the field's contract get a reason
    (unless an earlier column gave them one)."""
    array = _fast(values, f)
    if array is None:
        array = pa.array([_slow(value, index, f, reasons) for index, value in enumerate(values)], ARROW_TYPES[f.type])
    if f.required and array.null_count:
        for index in pc.indices_nonzero(array.is_null()).to_pylist():
            reasons.setdefault(index, f"missing required field '{f.path}'")
    return array


def typed_array(array: pa.Array, f: Field, reasons: dict[int, str]) -> pa.Array:
    """`typed_column` for a column that is already an Arrow text array (values a reader parsed as text)."""
    result: pa.Array | None = None
    if f.type == "text" and f.enum is None:
        result = array
    elif f.type == "timestamp" and pc.all(pc.match_substring_regex(array, _CANONICAL_TIMESTAMP)).as_py() is not False:
        result = pc.cast(array, ARROW_TYPES["timestamp"])
    if result is None:
        return typed_column(array.to_pylist(), f, reasons)
    if f.required and result.null_count:
        for index in pc.indices_nonzero(result.is_null()).to_pylist():
            reasons.setdefault(index, f"missing required field '{f.path}'")
    return result


def _fast(values: list[Any], f: Field) -> pa.Array | None:
    """The column converted in bulk when every value already has its type; None when one needs a look."""
    kind = _FAST_TYPES[f.type]
    if not all(value is None or type(value) is kind for value in values):
        return None
    if f.enum is not None and not all(value is None or value in f.enum for value in values):
        return None
    try:
        array = pa.array(values, pa.string() if f.type == "timestamp" else ARROW_TYPES[f.type])
    except (pa.ArrowInvalid, OverflowError):
        return None
    if f.type != "timestamp":
        return array
    if pc.all(pc.match_substring_regex(array, _CANONICAL_TIMESTAMP)).as_py() is False:
        return None
    return pc.cast(array, ARROW_TYPES["timestamp"])


def _slow(value: Any, index: int, f: Field, reasons: dict[int, str]) -> Any:
    if value is None:
        return None
    try:
        converted = convert(value, f)
    except (TypeError, ValueError) as exc:
        reasons.setdefault(index, f"field '{f.path}': {exc}")
        return None
    return converted.astimezone(UTC) if isinstance(converted, datetime) else converted


def project_records(items: Iterable[Any], columns: Sequence[Field], *, source: str, endpoint: str | list[str],
                    table: str, extra: Mapping[str, Any] | None = None, id_path: str = "id",
                    prepare: Callable[[Any], Any] | None = None,
                    id_of: Callable[[Any], Any] | None = None,
                    payload: Callable[[Any], Any] = lambda item: item) -> pa.Table:
    """`project_page` for raw table `table` with the quarantine: a record that `prepare` refuses (PayloadError)
    or that breaks a column's contract is quarantined with its reason and left out (when a quarantine is active;
    else the PayloadError propagates); the valid ones leave the quarantine if they were in it. Records gathered
    from several pages give `endpoint` and the `extra` columns as lists, one value per record."""
    return project_kept(items, columns, source=source, endpoint=endpoint, table=table, extra=extra, id_path=id_path,
                        prepare=prepare, id_of=id_of, payload=payload)[0]


def project_kept(items: Iterable[Any], columns: Sequence[Field], *, source: str, endpoint: str | list[str],
                 table: str, extra: Mapping[str, Any] | None = None, id_path: str = "id",
                 prepare: Callable[[Any], Any] | None = None,
                 id_of: Callable[[Any], Any] | None = None,
                 payload: Callable[[Any], Any] = lambda item: item) -> tuple[pa.Table, list[int]]:
    """`project_records`, and the indices (into `items`) of the records the table holds, in its row order."""
    quarantine = active_quarantine()
    items = list(items)
    endpoints = endpoint if isinstance(endpoint, list) else [endpoint] * len(items)
    kept, prepared = [], []
    for index, item in enumerate(items):
        try:
            prepared.append(prepare(item) if prepare else item)
        except PayloadError as error:
            if quarantine is None:
                raise
            quarantine.reject(table, error, payload(item))
            continue
        kept.append(index)
    if len(kept) < len(items):
        extra = {k: [v[i] for i in kept] if isinstance(v, list) else v for k, v in (extra or {}).items()}
    result, reasons = project_page(prepared, columns, extra)
    for index, reason in sorted(reasons.items()):
        record = prepared[index]
        error = PayloadError(source, endpoints[kept[index]],
                             lookup(record, id_path) if isinstance(record, Mapping) else None, reason)
        if quarantine is None:
            raise error
        quarantine.reject(table, error, payload(items[kept[index]]))
    held = [original for index, original in enumerate(kept) if index not in reasons]
    if quarantine is not None:
        for original in held:
            item = items[original]
            quarantine.accept(table, id_of(item) if id_of else lookup(item, id_path))
    return result, held
