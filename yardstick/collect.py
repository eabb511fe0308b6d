"""`yardstick collect`: a small event collector speaking the Segment HTTP tracking API.

`POST /v1/page`, `/v1/track`, `/v1/identify` (one event) and `/v1/batch` (`{"batch": [...]}`), with the write key
as the HTTP basic-auth username (Segment's convention) or as `writeKey` in the body (what a browser's
`fetch(..., {keepalive: true})` or `sendBeacon` can send without a CORS preflight). Replies: 200 `{"success": true}`
once the events are on disk; 400 with a reason for a malformed event (the whole request is refused, nothing of it
is written); 401 for a missing or unknown write key; 413 for a body over the batch limit.

Durability: accepted events are appended as NDJSON lines to the current file of `directory`, then written, flushed
and fsync'd BEFORE the 200 is sent — so a crash (even `kill -9`) never loses an acknowledged event. Files rotate
at `rotate_bytes`; the `events` dlt source reads them incrementally (by file and byte offset).

Each stored event keeps its Segment shape, plus `messageId` (a UUID when the sender gave none), `receivedAt`
(collector clock, UTC) and `type` (from the endpoint for single-event calls).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BATCH_BYTES = 500 * 1024  # Segment's limit for /v1/batch
MAX_EVENT_BYTES = 32 * 1024  # Segment's limit for one event
ROTATE_BYTES = 64 * 1024 * 1024
TYPES = ("page", "track", "identify", "screen", "group", "alias")
ENDPOINTS = {"/v1/page": "page", "/v1/track": "track", "/v1/identify": "identify", "/v1/screen": "screen",
             "/v1/group": "group", "/v1/alias": "alias", "/v1/batch": "batch"}


class Rejected(Exception):
    """A request the collector refuses: an HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class EventLog:
    """Append-only NDJSON files in one directory: `events-<UTC start>-<n>.ndjson`, rotated by size.

    `append` writes every line of one request with a single `write`, then flushes and fsyncs before returning."""

    def __init__(self, directory: Path, rotate_bytes: int = ROTATE_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.rotate_bytes = rotate_bytes
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._size = 0
        self._sequence = 0

    def _open(self) -> int:
        if self._fd is not None and self._size < self.rotate_bytes:
            return self._fd
        if self._fd is not None:
            os.close(self._fd)
        self._sequence += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"events-{stamp}-{os.getpid()}-{self._sequence:04d}.ndjson"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = 0
        dir_fd = os.open(self.directory, os.O_RDONLY)  # make the new file's name durable too
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return self._fd

    def append(self, events: Iterable[Mapping[str, Any]]) -> int:
        data = "".join(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n" for event in events)
        payload = data.encode()
        with self._lock:
            fd = self._open()
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            self._size += len(payload)
        return len(payload)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def validate(event: Any, kind: str | None, where: str = "event") -> dict[str, Any]:
    """One event, checked against the Segment spec; returns it with `type` set. Raises Rejected(400)."""
    if not isinstance(event, dict):
        raise Rejected(400, f"{where}: expected a JSON object")
    event_type = event.get("type", kind) if kind is None else kind
    if event_type not in TYPES:
        raise Rejected(400, f"{where}: unknown or missing type {event.get('type')!r}")
    if not any(isinstance(event.get(k), str | int) and event.get(k) != "" for k in ("userId", "anonymousId")):
        raise Rejected(400, f"{where}: userId or anonymousId is required")
    if event_type == "track" and not (isinstance(event.get("event"), str) and event["event"].strip()):
        raise Rejected(400, f"{where}: track needs a non-empty 'event' name")
    for key in ("properties", "traits", "context"):
        if key in event and event[key] is not None and not isinstance(event[key], dict):
            raise Rejected(400, f"{where}: '{key}' must be an object")
    for key in ("timestamp", "sentAt", "originalTimestamp"):
        if event.get(key) is not None and not _is_timestamp(event[key]):
            raise Rejected(400, f"{where}: '{key}' is not an ISO-8601 timestamp: {event[key]!r}")
    if "messageId" in event and not isinstance(event["messageId"], str):
        raise Rejected(400, f"{where}: 'messageId' must be a string")
    if len(json.dumps(event)) > MAX_EVENT_BYTES:
        raise Rejected(400, f"{where}: larger than {MAX_EVENT_BYTES // 1024} KB")
    return {**event, "type": event_type}


def decode(path: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """(endpoint kind, JSON document) of one request. Raises Rejected (404 unknown path, 400 bad JSON)."""
    kind = ENDPOINTS.get(path.split("?", 1)[0].rstrip("/"))
    if kind is None:
        raise Rejected(404, f"unknown endpoint {path}; use /v1/page, /v1/track, /v1/identify or /v1/batch")
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"body is not valid JSON: {exc.msg} at character {exc.pos}") from None
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8 text") from None
    except RecursionError:  # Python's parser recurses once per level; thousands of levels exhaust the stack
        raise Rejected(400, "body nests deeper than the JSON parser accepts") from None
    if not isinstance(document, dict):
        raise Rejected(400, "body must be a JSON object")
    return kind, document


def events_of(kind: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The validated events of one request (all or none). Raises Rejected(400)."""
    if kind != "batch":
        return [validate({k: v for k, v in document.items() if k != "writeKey"}, kind)]
    batch = document.get("batch")
    if not isinstance(batch, list) or not batch:
        raise Rejected(400, "batch: expected a non-empty 'batch' array")
    shared_context = document.get("context") if isinstance(document.get("context"), dict) else {}
    events = []
    for index, item in enumerate(batch):
        if isinstance(item, dict) and shared_context:
            item = {**item, "context": {**shared_context, **(item.get("context") or {})}}
        events.append(validate(item, None, f"batch[{index}]"))
    return events


def stamp(events: list[dict[str, Any]], now: datetime | None = None) -> list[dict[str, Any]]:
    """Add `messageId` when missing and the collector's `receivedAt`."""
    received = (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return [{**event, "messageId": event.get("messageId") or f"ys-{uuid.uuid4()}", "receivedAt": received}
            for event in events]


def _basic_user(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded.split(":", 1)[0]


class Collector(ThreadingHTTPServer):
    """The HTTP server: `Collector(("127.0.0.1", 0), log, write_keys)`; `.url` once bound."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], log: EventLog, write_keys: Iterable[str]) -> None:
        self.log = log
        self.write_keys = frozenset(k for k in write_keys if k)
        if not self.write_keys:
            raise ValueError("the collector needs at least one write key (COLLECTOR__WRITE_KEY)")
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: Collector
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, document: Mapping[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._reply(411, {"success": False, "error": "Content-Length is required"})
            return
        if length > MAX_BATCH_BYTES:
            self.close_connection = True
            if length <= 20 * MAX_BATCH_BYTES:  # drain it, so the client reads our reply, not a reset
                self.rfile.read(length)
            self._reply(413, {"success": False, "error": f"body of {length} bytes is over the "
                                                         f"{MAX_BATCH_BYTES // 1024} KB limit"})
            return
        body = self.rfile.read(length)
        try:
            header_key = _basic_user(self.headers.get("Authorization"))
            authorised = header_key in self.server.write_keys
            try:
                kind, document = decode(self.path, body)
            except Rejected:
                if not authorised:
                    raise Rejected(401, "missing or unknown write key") from None
                raise
            if not authorised and document.get("writeKey") not in self.server.write_keys:
                raise Rejected(401, "missing or unknown write key")
            events = events_of(kind, document)
            self.server.log.append(stamp(events))
        except Rejected as rejected:
            self._reply(rejected.status, {"success": False, "error": rejected.reason})
            return
        except OSError as exc:
            self._reply(503, {"success": False, "error": f"could not store the events: {exc.strerror}"})
            return
        self._reply(200, {"success": True})


def serve(directory: Path, write_keys: Iterable[str], host: str = "127.0.0.1", port: int = 8765,
          rotate_bytes: int = ROTATE_BYTES) -> None:
    """Run the collector until interrupted, printing its address first (one line)."""
    log = EventLog(directory, rotate_bytes)
    server = Collector((host, port), log, write_keys)
    print(f"yardstick collect: listening on {server.url}, writing to {log.directory}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        log.close()
