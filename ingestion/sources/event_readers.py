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
import threading
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
_LOCAL = threading.local()


def _quarantine(table: str, problems: Sequence[tuple[str, Any, str, Any]]) -> None:
    """(endpoint, record id, reason, payload) of each bad record: to the quarantine, or raised outside a source
    run."""
    quarantine = active_quarantine()
    for endpoint, record_id, reason, payload in problems:
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


def _decoded(lines: Sequence[bytes], numbers: Sequence[int], files: Sequence[str]) -> pa.Table:
    """The non-blank lines as text with their line number and file; a line that is not UTF-8 is quarantined."""
    texts, kept, names, bad = [], [], [], []
    for raw, number, name in zip(lines, numbers, files, strict=True):
        if not raw.strip():
            continue
        try:
            texts.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad.append((name, f"line {number}", f"not valid JSON: {exc.reason}", raw.decode("utf-8", "replace")))
            continue
        kept.append(number)
        names.append(name)
    _quarantine("segment_events", bad)
    return pa.table({"i": pa.array(range(len(texts)), pa.int64()), "line": pa.array(texts, pa.string()),
                     "n": pa.array(kept, pa.int64()), "f": pa.array(names, pa.string())})


def segment_table(lines: Sequence[bytes], numbers: Sequence[int], files: Sequence[str], fields: Sequence[Field],
                  paths: Mapping[str, Sequence[str]]) -> pa.Table:
    """A batch of NDJSON lines (with their line numbers and files) → the `segment_events` table of the valid
    events."""
    batch = _decoded(lines, numbers, files)
    if not batch.num_rows:
        return arrow_schema(fields, strict=True).empty_table()
    names = list(paths)
    flat = [f"$.{path}" for name in names for path in paths[name]]
    extract = ", ".join(
        "coalesce(" + ", ".join(f"nullif(v[{i}], '')" for i in _positions(paths, names, name)) + f") as \"{name}\""
        for name in names)
    con = _connection()
    con.register("batch", batch)
    checked = _arrow(con.execute("select i, n, f, line, json_valid(line) as ok from batch"))
    con.register("valid", checked.filter(checked.column("ok")))
    table = _arrow(con.execute(
        f"select n, f, line, json_type(line) = 'OBJECT' as is_object, {extract} from "
        f"(select i, n, f, line, json_extract_string(line, {_sql_list(flat)}) as v from valid) order by i"))
    con.unregister("batch")
    con.unregister("valid")
    invalid = checked.filter(pc.invert(checked.column("ok"))).to_pylist()
    _quarantine("segment_events", [(row["f"], f"line {row['n']}", _json_problem(row["line"]), row["line"])
                                   for row in invalid])
    return _segment_rows(table, fields)


def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB connection per thread, reused for every batch (opening one costs more than a batch)."""
    if not hasattr(_LOCAL, "con"):
        _LOCAL.con = duckdb.connect(config={"threads": 1})  # small batches: no gain from more threads
    return _LOCAL.con


def _arrow(result: duckdb.DuckDBPyConnection) -> pa.Table:
    table = result.arrow()
    return table if isinstance(table, pa.Table) else table.read_all()


def _positions(paths: Mapping[str, Sequence[str]], names: list[str], name: str) -> list[int]:
    start = 1 + sum(len(paths[other]) for other in names[:names.index(name)])
    return list(range(start, start + len(paths[name])))


def _sql_list(items: Sequence[str]) -> str:
    return "[" + ", ".join("'" + item.replace("'", "''") + "'" for item in items) + "]"


def _segment_rows(table: pa.Table, fields: Sequence[Field]) -> pa.Table:
    """Validate the extracted columns; the events that break the contract are quarantined."""
    not_objects = table.filter(pc.invert(table.column("is_object"))).select(["f", "n", "line"]).to_pylist()
    _quarantine("segment_events", [(row["f"], f"line {row['n']}", "expected a JSON object", row["line"])
                                   for row in not_objects])
    table = table.filter(table.column("is_object"))
    lines = table.column("line").to_pylist()
    files = table.column("f").to_pylist()
    ids = table.column("message_id").to_pylist()
    missing = [index for index, value in enumerate(ids) if value is None]
    for index in missing:  # deterministic, so reading the same line twice dedupes
        ids[index] = "sha1-" + hashlib.sha1(lines[index].strip().encode()).hexdigest()
    columns: dict[str, pa.Array] = {"message_id": pa.array(ids, pa.string())}
    reasons: dict[int, str] = {}
    for f in fields:
        if f.name == "source_file":
            columns[f.name] = table.column("f").combine_chunks()
        elif f.name == "source_line":
            columns[f.name] = table.column("n").combine_chunks()
        elif f.name != "message_id":
            columns[f.name] = typed_array(table.column(f.name).combine_chunks(), f, reasons)
    users, anonymous, types = (columns[name].to_pylist() for name in ("user_id", "anonymous_id", "type"))
    for index, (user, anon, kind) in enumerate(zip(users, anonymous, types, strict=True)):
        if user is None and anon is None and kind != "alias":
            reasons.setdefault(index, "userId or anonymousId is required")
    _quarantine("segment_events", [(files[i], ids[i], reason, lines[i]) for i, reason in sorted(reasons.items())])
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
    _quarantine("snowplow_events", [(endpoint, ids[i] or f"row {numbers[i]}", reason, rows[i])
                                    for i, reason in sorted(reasons.items())])
    _accept("snowplow_events", [ids[i] for i in range(table.num_rows) if i not in reasons])
    result = pa.Table.from_arrays([columns[f.name] for f in fields], schema=arrow_schema(fields))
    keep = pa.array([index not in reasons for index in range(result.num_rows)], pa.bool_())
    return result.filter(keep).cast(arrow_schema(fields, strict=True)), total
