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
import hashlib
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

import dlt
from dlt.sources import DltResource

from ingestion.errors import PayloadError
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


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


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


def segment_row(event: Any, endpoint: str, line: int, raw: bytes) -> dict[str, Any]:
    """One Segment-shaped event → a `segment_events` row. Raises PayloadError naming the file and line."""
    if not isinstance(event, dict):
        raise PayloadError(SOURCE, endpoint, f"line {line}", "expected a JSON object")
    found = {name: next((v for p in paths if (v := _lookup(event, p)) not in (None, "")), None)
             for name, paths in SEGMENT_PATHS.items()}
    if found["message_id"] is None:  # deterministic, so reading the same line twice dedupes
        found["message_id"] = "sha1-" + hashlib.sha1(raw.strip()).hexdigest()
    record_id = found["message_id"]
    row = {f.name: _typed(found.get(f.name), f, endpoint, record_id) for f in SEGMENT if f.name in found}
    if row["user_id"] is None and row["anonymous_id"] is None and row["type"] != "alias":
        raise PayloadError(SOURCE, endpoint, record_id, "userId or anonymousId is required")
    return {**row, "source_file": endpoint, "source_line": line}


def _segment_line(raw: bytes, endpoint: str, line: int) -> dict[str, Any]:
    try:
        event = json.loads(raw)
    except (json.JSONDecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise PayloadError(SOURCE, endpoint, f"line {line}", f"not valid JSON: {getattr(exc, 'msg', exc)}") from None
    return segment_row(event, endpoint, line, raw)


def _read_ndjson(path: Path, offset: int) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """(rows, new offset) batches from `offset`, complete lines only."""
    endpoint = str(path)
    with _open(path) as handle:
        data = handle.read()
    end = data.rfind(b"\n") + 1 if not path.name.lower().endswith(".gz") else len(data)
    line_number = data.count(b"\n", 0, offset)
    rows: list[dict[str, Any]] = []
    position = offset
    for raw in io.BytesIO(data[offset:end]):
        line_number += 1
        position += len(raw)
        if not raw.strip():
            continue
        # a line that is not JSON or not a valid event is quarantined (raw_events._rejected); the file goes on
        rows.extend(guarded([raw], "segment_events", partial(_segment_line, endpoint=endpoint, line=line_number)))
        if len(rows) >= BATCH:
            yield rows, position
            rows = []
    yield rows, end


def _snowplow_row(record: dict[str, Any], endpoint: str, index: int) -> dict[str, Any]:
    record_id = record.get("event_id") or f"row {index}"
    row = {f.name: _typed(record.get(f.name), f, endpoint, record_id)
           for f in SNOWPLOW if not f.name.startswith("source_")}
    return {**row, "source_file": endpoint, "source_line": index}


def _read_table(path: Path, offset: int) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Snowplow atomic events in CSV/TSV with a header row, from `offset` (0 = after the header)."""
    endpoint = str(path)
    with _open(path) as handle:
        data = handle.read()
    text = data.decode("utf-8")
    delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = reader.fieldnames or []
    missing = [f.name for f in SNOWPLOW if f.required and f.name not in header and not f.name.startswith("source_")]
    if missing:
        raise PayloadError(SOURCE, endpoint, "header", f"not a Snowplow atomic events file: no {', '.join(missing)}")
    rows: list[dict[str, Any]] = []
    last = offset
    for index, record in enumerate(reader, start=1):
        if index <= offset:
            continue
        last = index
        rows.extend(guarded([record], "snowplow_events", partial(_snowplow_row, endpoint=endpoint, index=index),
                            lambda record: record.get("event_id")))
        if len(rows) >= BATCH:
            yield rows, index
            rows = []
    yield rows, last


@dlt.source(name="events", section="events", max_table_nesting=0)
def events_source(paths: Any = dlt.config.value, full_refresh: bool = False) -> Sequence[DltResource]:
    """Segment NDJSON and Snowplow CSV/TSV files named by `paths`, read incrementally by file."""
    files = expand(paths)
    raw = TABLES["raw_events"]

    def reader(kind: str) -> Iterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state()
        done: dict[str, int] = state.setdefault("files", {})
        if full_refresh:
            done.clear()
        for path in files:
            if _kind(path) != kind:
                continue
            key = str(path)
            offset = done.get(key, 0)
            if kind == "segment" and offset >= path.stat().st_size and not key.endswith(".gz"):
                continue  # nothing new since the last run
            read = _read_ndjson if kind == "segment" else _read_table
            for rows, position in read(path, offset):
                if rows:
                    yield rows
                done[key] = position

    @dlt.resource(name="segment_events", **_append_hints(raw["segment_events"]))
    def segment_events() -> Iterator[list[dict[str, Any]]]:
        yield from reader("segment")

    @dlt.resource(name="snowplow_events", **_append_hints(raw["snowplow_events"]))
    def snowplow_events() -> Iterator[list[dict[str, Any]]]:
        yield from reader("snowplow")

    return segment_events, snowplow_events
