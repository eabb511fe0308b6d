"""`yardstick collect` over real HTTP on 127.0.0.1: what it accepts, what it refuses and why, that an
acknowledged event survives `kill -9`, and that what it writes loads through the `events` dlt source."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.pipeline import ingest_source
from yardstick.collect import MAX_BATCH_BYTES, Collector, EventLog

KEY = "wk_test_123"
ROOT = Path(__file__).resolve().parents[2]


def post(url: str, body: Any, key: str | None = KEY, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    if key is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{key}:".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def stored(directory: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(directory.glob("*.ndjson")) for line in path.read_text().splitlines()]


@pytest.fixture()
def collector(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    directory = tmp_path / "events"
    log = EventLog(directory, rotate_bytes=2000)  # small, so a few requests rotate files
    server = Collector(("127.0.0.1", 0), log, [KEY, "second_key"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url, directory
    server.shutdown()
    server.server_close()
    log.close()


def page(anonymous_id: str, path: str, **extra: Any) -> dict:
    return {"type": "page", "anonymousId": anonymous_id, "timestamp": "2026-03-02T09:00:00Z",
            "properties": {"path": path, "url": f"https://shop.example{path}"}, **extra}


def test_valid_batch_is_stored_stamped_and_loaded(collector: tuple[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url, directory = collector
    batch = {"batch": [
        page("anon-1", "/", messageId="m-1"),
        {"type": "track", "anonymousId": "anon-1", "event": "Cart Viewed", "messageId": "m-2",
         "timestamp": "2026-03-02T09:01:00Z"},
        {"type": "identify", "userId": "user-1", "anonymousId": "anon-1", "traits": {"plan": "pro"}},
    ], "context": {"app": {"version": "2.1.0"}}}
    assert post(f"{url}/v1/batch", batch) == (200, {"success": True})
    assert post(f"{url}/v1/page", page("anon-2", "/pricing")) == (200, {"success": True})
    assert post(f"{url}/v1/track", {"userId": "user-1", "event": "Order Completed", "writeKey": "second_key"},
                key=None) == (200, {"success": True})

    events = stored(directory)
    assert [e["messageId"][:3] for e in events] == ["m-1", "m-2", "ys-", "ys-", "ys-"]
    assert all(e["receivedAt"].endswith("Z") for e in events)
    assert [e["type"] for e in events] == ["page", "track", "identify", "page", "track"]
    assert events[0]["context"] == {"app": {"version": "2.1.0"}}  # the batch's context reaches each event
    assert "writeKey" not in events[4]  # the key is never stored

    monkeypatch.setenv("SOURCES__EVENTS__PATHS", str(directory))
    counts = ingest_source("events", tmp_path / "w.duckdb")
    assert counts == {"raw_events.segment_events": 5}
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        rows = con.execute("""select message_id, type, event, user_id, anonymous_id, page_path, app_version
                              from raw_events.segment_events order by source_line""").fetchall()
    assert rows[:2] == [("m-1", "page", None, None, "anon-1", "/", "2.1.0"),
                        ("m-2", "track", "Cart Viewed", None, "anon-1", None, "2.1.0")]
    assert rows[4][1:4] == ("track", "Order Completed", "user-1")

    # incremental by file: a second run reads nothing; a new event is read from where the last run stopped
    assert ingest_source("events", tmp_path / "w.duckdb") == {}
    assert post(f"{url}/v1/page", page("anon-3", "/late", timestamp="2026-02-01T00:00:00Z"))[0] == 200
    assert ingest_source("events", tmp_path / "w.duckdb") == {"raw_events.segment_events": 1}


@pytest.mark.parametrize(("path", "body", "key", "status", "reason"), [
    ("/v1/batch", {"batch": [{"type": "page", "anonymousId": "a"}]}, "wrong", 401, "missing or unknown write key"),
    ("/v1/page", {"anonymousId": "a"}, None, 401, "missing or unknown write key"),
    ("/v1/page", b"{not json", KEY, 400, "body is not valid JSON"),
    ("/v1/page", {"properties": {"path": "/"}}, KEY, 400, "event: userId or anonymousId is required"),
    ("/v1/track", {"anonymousId": "a"}, KEY, 400, "event: track needs a non-empty 'event' name"),
    ("/v1/track", {"anonymousId": "a", "event": "x", "timestamp": "yesterday"}, KEY, 400,
     "event: 'timestamp' is not an ISO-8601 timestamp: 'yesterday'"),
    ("/v1/page", {"anonymousId": "a", "properties": ["not", "an", "object"]}, KEY, 400,
     "event: 'properties' must be an object"),
    ("/v1/batch", {"batch": []}, KEY, 400, "batch: expected a non-empty 'batch' array"),
    # 5,000 levels of nesting used to drop the connection without an answer (the parser's RecursionError)
    ("/v1/page", b'{"anonymousId": "a", "properties": ' + b"[" * 5000 + b"]" * 5000 + b"}", KEY, 400,
     "body nests deeper than the JSON parser accepts"),
    ("/v1/batch", {"batch": [{"type": "page", "anonymousId": "a"}, {"type": "click", "anonymousId": "a"}]}, KEY, 400,
     "batch[1]: unknown or missing type 'click'"),
    ("/v1/batch", {"batch": [{"type": "page", "anonymousId": "a", "properties": {"pad": "x" * 20_000}}] * 30}, KEY,
     413, f"over the {MAX_BATCH_BYTES // 1024} KB limit"),
])
def test_bad_input_is_refused_with_its_status_and_reason_and_nothing_else_is_lost(
        collector: tuple[str, Path], path: str, body: Any, key: str | None, status: int, reason: str) -> None:
    url, directory = collector
    assert post(f"{url}/v1/page", page("before", "/a"))[0] == 200
    raw = body if isinstance(body, bytes) else None
    got_status, reply = post(f"{url}{path}", body, key=key, raw=raw)
    assert (got_status, reply["success"]) == (status, False)
    assert reason in reply["error"]
    assert post(f"{url}/v1/page", page("after", "/b"))[0] == 200
    # the refused request wrote nothing; the accepted ones around it are all there
    assert [e["anonymousId"] for e in stored(directory)] == ["before", "after"]


def test_files_rotate_without_losing_events(collector: tuple[str, Path]) -> None:
    url, directory = collector
    for number in range(20):
        assert post(f"{url}/v1/page", page(f"anon-{number}", f"/p/{number}"))[0] == 200
    assert len(list(directory.glob("*.ndjson"))) > 1  # rotated at 2,000 bytes
    assert [e["anonymousId"] for e in stored(directory)] == [f"anon-{n}" for n in range(20)]


def test_kill_9_right_after_a_200_loses_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "events"
    env = {**os.environ, "COLLECTOR__WRITE_KEY": KEY, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "yardstick.cli", "collect", "--port", "0", "--dir", str(directory)],
        stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert "listening on http://127.0.0.1:" in line, line
        url = line.split("listening on ", 1)[1].split(",", 1)[0]
        acknowledged = []
        for number in range(25):
            status, _ = post(f"{url}/v1/batch", {"batch": [page(f"anon-{number}", "/x", messageId=f"m-{number}-{i}")
                                                         for i in range(4)]})
            assert status == 200
            acknowledged += [f"m-{number}-{i}" for i in range(4)]
        process.send_signal(signal.SIGKILL)  # no clean shutdown: only what was fsync'd before each 200 survives
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert [e["messageId"] for e in stored(directory)] == acknowledged
