"""Product events from files into `raw_events`: Segment-shaped NDJSON and Snowplow atomic events.

- `segment_events`: NDJSON, one event per line, in the Segment HTTP API shape — what `yardstick collect` writes,
  what a Segment or RudderStack export to object storage writes (`.ndjson`, `.jsonl`, `.json`, optionally `.gz`).
- `snowplow_events`: Snowplow atomic events exported as CSV or TSV with a header row (`.csv`, `.tsv`, `.gz`), e.g.
  `atomic.events` unloaded from the warehouse.

Config: `sources.events.paths` — files, directories or globs (a JSON list, or one string with commas).

Loading is append-only and incremental by file: the resource state keeps, per file, how many bytes were read
(up to the last complete line), so a file already loaded is not read again and a file the collector is still
appending to is read from where the last run stopped. Event time plays no part in what is read, so late and
out-of-order events are simply loaded. Duplicates (a retried delivery, the same export twice, Snowplow's
duplicate event ids) stay in the raw tables, which keep every delivered copy; staging keeps the first received
copy of each `message_id` / `event_id`. Why not dlt `merge`: its delete-insert rewrites by key on every load,
which costs O(table) for an append-only stream and would let a late redelivery replace the first copy.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from ingestion.errors import PayloadError
from ingestion.sources.columns import from_rows
from ingestion.sources.event_readers import segment_table, snowplow_table
from ingestion.sources.projection import Field, TableSpec, column_hints, fields, guarded
from ingestion.timestamps import parse_timestamp

SOURCE = "events"
BATCH = 5000
SEGMENT_TYPES = ("page", "track", "identify", "screen", "group", "alias")
NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".json")
TABLE_SUFFIXES = (".csv", ".tsv")

# (column, type, candidate paths in the event, first non-empty wins)
SEGMENT_PATHS: dict[str, Sequence[str]] = {
    "message_id": ("messageId",), "type": ("type",), "event": ("event",), "name": ("name",),
    "user_id": ("userId",), "anonymous_id": ("anonymousId",),
    "timestamp": ("timestamp",), "original_timestamp": ("originalTimestamp",), "sent_at": ("sentAt",),
    "received_at": ("receivedAt",),
    "session_id": ("context.sessionId", "properties.sessionId", "properties.session_id"),
    "page_path": ("properties.path", "context.page.path"), "page_url": ("properties.url", "context.page.url"),
    "page_title": ("properties.title", "context.page.title"),
    "page_referrer": ("properties.referrer", "context.page.referrer"),
    "user_agent": ("context.userAgent",), "locale": ("context.locale",),
    "platform": ("properties.platform", "context.platform", "context.device.type"),
    "browser": ("properties.browser", "context.browser.name"),
    "country": ("context.location.country", "properties.country", "context.traits.country"),
    "app_version": ("context.app.version", "properties.app_version"),
    "plan": ("context.traits.plan", "properties.plan", "traits.plan"),
    "properties": ("properties",), "traits": ("traits", "context.traits"), "context": ("context",),
}
SEGMENT = fields(
    ("message_id", "messageId", "text", True), ("type", "type", "text", True, frozenset(SEGMENT_TYPES)),
    *((name, name) for name in ("event", "name", "user_id", "anonymous_id")),
    *((name, name, "timestamp") for name in ("timestamp", "original_timestamp", "sent_at", "received_at")),
    *((name, name) for name in ("session_id", "page_path", "page_url", "page_title", "page_referrer", "user_agent",
                                "locale", "platform", "browser", "country", "app_version", "plan", "properties",
                                "traits", "context")),
    ("source_file", "source_file", "text", True), ("source_line", "source_line", "bigint", True),
)
SNOWPLOW = fields(
    ("event_id", "event_id", "text", True), ("event", "event", "text", True),
    ("collector_tstamp", "collector_tstamp", "timestamp", True),
    *((name, name, "timestamp") for name in ("dvce_created_tstamp", "derived_tstamp", "etl_tstamp")),
    *((name, name) for name in (
        "app_id", "platform", "event_name", "user_id", "domain_userid", "network_userid", "domain_sessionid",
        "page_url", "page_urlpath", "page_title", "page_referrer", "geo_country", "br_family", "br_name",
        "br_lang", "os_family", "dvce_type", "dvce_ismobile", "useragent", "se_category", "se_action",
        "se_label", "se_property", "se_value", "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0")),
    ("domain_sessionidx", "domain_sessionidx", "bigint"),
    ("source_file", "source_file", "text", True), ("source_line", "source_line", "bigint", True),
)
TABLES: dict[str, dict[str, TableSpec]] = {
    "raw_events": {"segment_events": (SEGMENT, ("message_id",)), "snowplow_events": (SNOWPLOW, ("event_id",))},
}


def _append_hints(spec: TableSpec) -> dict[str, Any]:
    return {"write_disposition": "append", "columns": column_hints(spec[0])}


def expand(paths: str | Sequence[str]) -> list[Path]:
    """Files named by `paths` (files, directories, globs), sorted, each once."""
    if isinstance(paths, str):
        text = paths.strip()
        items = json.loads(text) if text.startswith("[") else [p for p in text.split(",") if p.strip()]
    else:
        items = list(paths)
    found: set[Path] = set()
    for item in items:
        item = os.path.expanduser(str(item).strip())
        candidates = glob.glob(item, recursive=True) if glob.has_magic(item) else [item]
        for candidate in map(Path, candidates):
            if candidate.is_dir():
                found.update(p for p in candidate.rglob("*") if p.is_file() and _kind(p))
            elif candidate.is_file() and _kind(candidate):
                found.add(candidate.resolve())
    return sorted(p.resolve() for p in found)


def _kind(path: Path) -> str | None:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(NDJSON_SUFFIXES):
        return "segment"
    if name.endswith(TABLE_SUFFIXES):
        return "snowplow"
    return None


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _typed(value: Any, f: Field, endpoint: str, record_id: object) -> Any:
    if value is None or value == "":
        if f.required:
            raise PayloadError(SOURCE, endpoint, record_id, f"missing required field '{f.path}'")
        return None
    try:
        if f.type == "timestamp":
            return parse_timestamp(str(value))
        if f.type == "bigint":
            return int(value)
    except ValueError as exc:
        raise PayloadError(SOURCE, endpoint, record_id, f"field '{f.path}': {exc}") from None
    text = _text(value)
    if f.enum is not None and text not in f.enum:
        raise PayloadError(SOURCE, endpoint, record_id,
                           f"field '{f.path}': unknown value {text!r} (expected one of {', '.join(sorted(f.enum))})")
    return text


def ndjson_lines(path: Path, offset: int) -> Iterator[tuple[list[bytes], list[int], int]]:
    """(lines, their numbers, the offset after them) in chunks of BATCH from `offset`, complete lines only."""
    with _open(path) as handle:
        data = handle.read()
    end = data.rfind(b"\n") + 1 if not path.name.lower().endswith(".gz") else len(data)
    first = data.count(b"\n", 0, offset) + 1
    lines = data[offset:end].split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the text after the last newline (nothing, or an incomplete line kept for the next run)
    position = offset
    for start in range(0, len(lines), BATCH):
        batch = lines[start:start + BATCH]
        position = min(end, position + sum(len(line) + 1 for line in batch))
        yield batch, list(range(first + start, first + start + len(batch))), position
    yield [], [], end


def read_ndjson(path: Path, offset: int) -> Iterator[tuple[pa.Table, int]]:
    """(table, new offset) batches from `offset`, complete lines only, parsed by DuckDB (`event_readers.py`)."""
    for lines, numbers, position in ndjson_lines(path, offset):
        yield segment_table(lines, numbers, [str(path)] * len(lines), SEGMENT, SEGMENT_PATHS), position


def _snowplow_row(record: dict[str, Any], endpoint: str, index: int) -> dict[str, Any]:
    record_id = record.get("event_id") or f"row {index}"
    row = {f.name: _typed(record.get(f.name), f, endpoint, record_id)
           for f in SNOWPLOW if not f.name.startswith("source_")}
    return {**row, "source_file": endpoint, "source_line": index}


def read_table(path: Path, offset: int) -> Iterator[tuple[pa.Table, int]]:
    """Snowplow atomic events in CSV/TSV with a header row, from `offset` (0 = after the header): Arrow's CSV
    reader, or row by row when a row does not have the header's number of fields."""
    endpoint = str(path)
    with _open(path) as handle:
        data = handle.read()
    delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
    header = next(csv.reader(io.StringIO(data.split(b"\n", 1)[0].decode("utf-8")), delimiter=delimiter), [])
    missing = [f.name for f in SNOWPLOW if f.required and f.name not in header and not f.name.startswith("source_")]
    if missing:
        raise PayloadError(SOURCE, endpoint, "header", f"not a Snowplow atomic events file: no {', '.join(missing)}")
    fast = snowplow_table(data, endpoint, delimiter, offset, SNOWPLOW)
    if fast is not None:
        yield fast
        return
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter=delimiter)
    rows: list[dict[str, Any]] = []
    last = offset
    for index, record in enumerate(reader, start=1):
        if index <= offset:
            continue
        last = index
        rows.extend(guarded([record], "snowplow_events", partial(_snowplow_row, endpoint=endpoint, index=index),
                            lambda record: record.get("event_id")))
    yield from_rows(rows, SNOWPLOW), last


def _pending(files: Sequence[Path], kind: str, done: Mapping[str, int]) -> Iterator[tuple[Path, int]]:
    """Every file of `kind` with new content, and the offset the last run stopped at."""
    for path in files:
        offset = done.get(str(path), 0)
        if _kind(path) != kind or (kind == "segment" and offset >= path.stat().st_size
                                   and not path.name.endswith(".gz")):
            continue  # another kind, or nothing new since the last run
        yield path, offset


def _segment_batches(files: Sequence[Path], done: dict[str, int]) -> Iterator[pa.Table]:
    """The new lines of many files (one per day, say) parsed in batches of about BATCH lines: DuckDB's and
    dlt's cost per batch is fixed. Each file's offset is stored once the batch holding its lines is taken."""
    lines: list[bytes] = []
    numbers: list[int] = []
    names: list[str] = []
    marks: dict[str, int] = {}
    for path, offset in _pending(files, "segment", done):
        for chunk, chunk_numbers, position in ndjson_lines(path, offset):
            lines += chunk
            numbers += chunk_numbers
            names += [str(path)] * len(chunk)
            marks[str(path)] = position
            if len(lines) >= BATCH:
                yield from _nonempty(segment_table(lines, numbers, names, SEGMENT, SEGMENT_PATHS))
                done.update(marks)
                lines, numbers, names, marks = [], [], [], {}
    yield from _nonempty(segment_table(lines, numbers, names, SEGMENT, SEGMENT_PATHS))
    done.update(marks)


def _snowplow_tables(files: Sequence[Path], done: dict[str, int]) -> Iterator[pa.Table]:
    for path, offset in _pending(files, "snowplow", done):
        for table, position in read_table(path, offset):
            yield from _nonempty(table)
            done[str(path)] = position


def _nonempty(table: pa.Table) -> Iterator[pa.Table]:
    if table.num_rows:
        yield table


@dlt.source(name="events", section="events", max_table_nesting=0)
def events_source(paths: Any = dlt.config.value, full_refresh: bool = False) -> Sequence[DltResource]:
    """Segment NDJSON and Snowplow CSV/TSV files named by `paths`, read incrementally by file."""
    files = expand(paths)
    raw = TABLES["raw_events"]

    def reader(kind: str) -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        done: dict[str, int] = state.setdefault("files", {})
        if full_refresh:
            done.clear()
        yield from (_segment_batches if kind == "segment" else _snowplow_tables)(files, done)

    @dlt.resource(name="segment_events", **_append_hints(raw["segment_events"]))
    def segment_events() -> Iterator[pa.Table]:
        yield from reader("segment")

    @dlt.resource(name="snowplow_events", **_append_hints(raw["snowplow_events"]))
    def snowplow_events() -> Iterator[pa.Table]:
        yield from reader("snowplow")

    return segment_events, snowplow_events
