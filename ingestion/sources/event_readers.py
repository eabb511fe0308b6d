"""The events source's readers: Segment NDJSON parsed by DuckDB's JSON functions and Snowplow CSV/TSV by
Arrow's CSV reader, each batch validated a column at a time (`columns.py`) into one Arrow table; the lines that
are not JSON, not objects or that break the raw contract are quarantined with their line and reason.

NDJSON: Python only splits the bytes into lines (keeping every line's number); DuckDB checks each line
(`json_valid`, `json_type`) and pulls every candidate path of every column out of it in one
`json_extract_string`; the first non-empty candidate wins. A nested value (`properties`, `traits`, `context`)
is stored as DuckDB writes it: compact JSON, keys in the order the event had them.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingestion.errors import PayloadError
from ingestion.sources.columns import arrow_schema, typed_array
from ingestion.sources.projection import Field, active_quarantine

SOURCE = "events"


def _quarantine(table: str, endpoint: str, problems: Sequence[tuple[str, str, Any]]) -> None:
    """(record id, reason, payload) of each bad record: to the quarantine, or raised outside a source run."""
    quarantine = active_quarantine()
    for record_id, reason, payload in problems:
        error = PayloadError(SOURCE, endpoint, record_id, reason)
        if quarantine is None:
            raise error
        quarantine.reject(table, error, payload)


def _json_problem(line: str) -> str:
    """Python's own words for a line DuckDB found invalid (the quarantine's reason)."""
    try:
        json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        return f"not valid JSON: {getattr(exc, 'msg', exc)}"
    return "not valid JSON"


def _decoded(lines: list[bytes], numbers: list[int], endpoint: str) -> tuple[list[str], list[int]]:
    """The non-blank lines as text; a line that is not UTF-8 is quarantined."""
    texts, kept, bad = [], [], []
    for raw, number in zip(lines, numbers, strict=True):
        if not raw.strip():
            continue
        try:
            texts.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad.append((f"line {number}", f"not valid JSON: {exc.reason}", raw.decode("utf-8", "replace")))
            continue
        kept.append(number)
    _quarantine("segment_events", endpoint, bad)
    return texts, kept


def segment_table(lines: list[bytes], numbers: list[int], endpoint: str, fields: Sequence[Field],
                  paths: Mapping[str, Sequence[str]]) -> pa.Table:
    """A batch of NDJSON lines (with their line numbers) → the `segment_events` table of the valid events."""
    texts, kept = _decoded(lines, numbers, endpoint)
    if not texts:
        return arrow_schema(fields, strict=True).empty_table()
    names = [name for name in paths]
    flat = [f"$.{path}" for name in names for path in paths[name]]
    extract = ", ".join(
        "coalesce(" + ", ".join(f"nullif(v[{i}], '')" for i in _positions(paths, names, name)) + f") as \"{name}\""
        for name in names)
    with duckdb.connect() as con:
        con.register("batch", pa.table({"line": texts, "n": kept}))
        checked = con.execute("select n, line, json_valid(line) as ok from batch").arrow()
        if not isinstance(checked, pa.Table):
            checked = checked.read_all()
        valid = checked.filter(checked.column("ok"))
        con.register("valid", valid)
        table = con.execute(
            f"select n, line, json_type(line) = 'OBJECT' as is_object, {extract} from "
            f"(select n, line, json_extract_string(line, {_sql_list(flat)}) as v from valid) order by n").arrow()
        if not isinstance(table, pa.Table):
            table = table.read_all()
    invalid = checked.filter(pc.invert(checked.column("ok")))
    _quarantine("segment_events", endpoint, [(f"line {n}", _json_problem(line), line)
                                             for n, line in zip(invalid.column("n").to_pylist(),
                                                                invalid.column("line").to_pylist(), strict=True)])
    return _segment_rows(table, endpoint, fields)


def _positions(paths: Mapping[str, Sequence[str]], names: list[str], name: str) -> list[int]:
    start = 1 + sum(len(paths[other]) for other in names[:names.index(name)])
    return list(range(start, start + len(paths[name])))


def _sql_list(items: Sequence[str]) -> str:
    return "[" + ", ".join("'" + item.replace("'", "''") + "'" for item in items) + "]"


def _segment_rows(table: pa.Table, endpoint: str, fields: Sequence[Field]) -> pa.Table:
    """Validate the extracted columns; the events that break the contract are quarantined."""
    not_objects = pc.invert(table.column("is_object"))
    problems = [(f"line {n}", "expected a JSON object", line)
                for n, line in zip(table.filter(not_objects).column("n").to_pylist(),
                                   table.filter(not_objects).column("line").to_pylist(), strict=True)]
    _quarantine("segment_events", endpoint, problems)
    table = table.filter(table.column("is_object"))
    lines = table.column("line").to_pylist()
    ids = table.column("message_id").to_pylist()
    missing = [index for index, value in enumerate(ids) if value is None]
    for index in missing:  # deterministic, so reading the same line twice dedupes
        ids[index] = "sha1-" + hashlib.sha1(lines[index].strip().encode()).hexdigest()
    columns: dict[str, pa.Array] = {"message_id": pa.array(ids, pa.string())}
    reasons: dict[int, str] = {}
    for f in fields:
        if f.name == "source_file":
            columns[f.name] = pa.array([endpoint] * table.num_rows, pa.string())
        elif f.name == "source_line":
            columns[f.name] = table.column("n").combine_chunks().cast(pa.int64())
        elif f.name != "message_id":
            columns[f.name] = typed_array(table.column(f.name).combine_chunks(), f, reasons)
    users, anonymous, types = (columns[name].to_pylist() for name in ("user_id", "anonymous_id", "type"))
    for index, (user, anon, kind) in enumerate(zip(users, anonymous, types, strict=True)):
        if user is None and anon is None and kind != "alias":
            reasons.setdefault(index, "userId or anonymousId is required")
    _quarantine("segment_events", endpoint, [(ids[i], reason, lines[i]) for i, reason in sorted(reasons.items())])
    result = pa.Table.from_arrays([columns[f.name] for f in fields], schema=arrow_schema(fields))
    keep = pa.array([index not in reasons for index in range(result.num_rows)], pa.bool_())
    _accept("segment_events", [ids[i] for i in range(result.num_rows) if i not in reasons])
    return result.filter(keep).cast(arrow_schema(fields, strict=True))


def _accept(table: str, ids: Sequence[Any]) -> None:
    quarantine = active_quarantine()
    if quarantine is not None:
        for record_id in ids:
            quarantine.accept(table, record_id)


def snowplow_table(data: bytes, endpoint: str, delimiter: str, offset: int,
                   fields: Sequence[Field]) -> tuple[pa.Table, int] | None:
    """Snowplow atomic events (CSV/TSV with a header) after the first `offset` rows, read by Arrow's CSV reader
    with every column as text, and the number of rows read; None when a row does not have the header's number of
    fields (the caller reads such a file row by row, numbering rows as the csv module does)."""
    header = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r").split(delimiter)
    bad: list[Any] = []
    options = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=lambda row: bad.append(row) or "skip")
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header}, null_values=[""],
                                   strings_can_be_null=True, include_columns=[f.name for f in fields
                                                                              if f.name in header],
                                   include_missing_columns=True)
    table = pacsv.read_csv(io.BytesIO(data), parse_options=options, convert_options=convert)
    if bad:
        return None
    total = table.num_rows
    table = table.slice(offset)
    numbers = list(range(offset + 1, total + 1))
    reasons: dict[int, str] = {}
    columns = {}
    for f in fields:
        if f.name == "source_file":
            columns[f.name] = pa.array([endpoint] * table.num_rows, pa.string())
        elif f.name == "source_line":
            columns[f.name] = pa.array(numbers, pa.int64())
        else:
            values = table.column(f.name).combine_chunks() if f.name in table.column_names else \
                pa.nulls(table.num_rows, pa.string())
            columns[f.name] = typed_array(values.cast(pa.string()), f, reasons)
    ids = columns["event_id"].to_pylist()
    rows = table.to_pylist() if reasons else []
    _quarantine("snowplow_events", endpoint, [(ids[i] or f"row {numbers[i]}", reason, rows[i])
                                              for i, reason in sorted(reasons.items())])
    _accept("snowplow_events", [ids[i] for i in range(table.num_rows) if i not in reasons])
    result = pa.Table.from_arrays([columns[f.name] for f in fields], schema=arrow_schema(fields))
    keep = pa.array([index not in reasons for index in range(result.num_rows)], pa.bool_())
    return result.filter(keep).cast(arrow_schema(fields, strict=True)), total
