"""The events source's readers (`ingestion/sources/event_readers.py`): Segment NDJSON (plain and `.gz`) parsed by
DuckDB, Snowplow CSV/TSV by Arrow's CSV reader, each batch one Arrow table; bad lines quarantined with their line
and reason, the rest of the file loaded; reading resumes from the stored offset."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from ingestion.sources.events import read_ndjson, read_table
from ingestion.sources.projection import Quarantine, quarantining

GOOD = {"type": "page", "anonymousId": "a1", "messageId": "m1", "timestamp": "2026-03-02T10:00:00Z",
        "context": {"sessionId": "s1", "page": {"path": "/ignored"}}, "properties": {"path": "/pricing", "n": 2}}


def read(reader, path: Path, offset: int = 0) -> tuple[pa.Table, int, dict[str, tuple[str, str]]]:
    quarantine = Quarantine("events")
    with quarantining(quarantine):
        batches = list(reader(path, offset))
    table = pa.concat_tables([table for table, _ in batches])
    return table, batches[-1][1], {key: (row["endpoint"], row["reason"]) for (_, key), row in
                                   quarantine.rejected.items()}


def test_gzipped_ndjson_lands_typed_and_bad_lines_are_quarantined(tmp_path: Path) -> None:
    lines = [json.dumps(GOOD), "{not json", "", "[1, 2]",
             json.dumps({**GOOD, "messageId": None, "timestamp": "2026-03-02 12:00:00+02:00", "userId": "u9"}),
             json.dumps({**GOOD, "messageId": "m3", "anonymousId": None}),
             json.dumps({**GOOD, "messageId": "m4", "type": "boom"})]
    path = tmp_path / "events-2026-03-02.ndjson.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    table, _, rejected = read(read_ndjson, path)
    sha = "sha1-" + hashlib.sha1(lines[4].encode()).hexdigest()  # no messageId: the line's hash
    assert table.select(["message_id", "type", "user_id", "anonymous_id", "timestamp", "session_id", "page_path",
                         "source_line"]).to_pylist() == [
        {"message_id": "m1", "type": "page", "user_id": None, "anonymous_id": "a1",
         "timestamp": datetime(2026, 3, 2, 10, tzinfo=UTC), "session_id": "s1", "page_path": "/pricing",
         "source_line": 1},
        {"message_id": sha, "type": "page", "user_id": "u9", "anonymous_id": "a1",
         "timestamp": datetime(2026, 3, 2, 10, tzinfo=UTC), "session_id": "s1", "page_path": "/pricing",
         "source_line": 5},
    ]
    assert json.loads(table.column("properties")[0].as_py()) == {"path": "/pricing", "n": 2}
    assert table.column("source_file").to_pylist() == [str(path)] * 2
    assert rejected == {
        "line 2": (str(path), "not valid JSON: Expecting property name enclosed in double quotes"),
        "line 4": (str(path), "expected a JSON object"),
        "m3": (str(path), "userId or anonymousId is required"),
        "m4": (str(path), "field 'type': unknown value 'boom' (expected one of alias, group, identify, page, "
                          "screen, track)"),
    }


def test_ndjson_resumes_after_the_last_complete_line(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    first = json.dumps(GOOD) + "\n"
    path.write_text(first + '{"type": "page", "messageId": "half')  # the collector is still writing line 2
    table, offset, _ = read(read_ndjson, path)
    assert table.column("message_id").to_pylist() == ["m1"] and offset == len(first.encode())
    path.write_text(first + json.dumps({**GOOD, "messageId": "m2"}) + "\n")
    table, _, _ = read(read_ndjson, path, offset)
    assert table.select(["message_id", "source_line"]).to_pylist() == [{"message_id": "m2", "source_line": 2}]


def test_snowplow_tsv_lands_typed_and_bad_rows_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "atomic.tsv"
    path.write_text("app_id\tevent_id\tevent\tcollector_tstamp\tdomain_sessionidx\tpage_urlpath\n"
                    "shop\te1\tpage_view\t2026-03-02 10:00:00.123\t4\t/pricing\n"
                    "shop\te2\tpage_view\tnot a time\t5\t/\n"
                    "shop\t\tpage_view\t2026-03-02 10:00:00\t\t/\n"
                    "shop\te4\tpage_view\t2026-03-02T11:00:00+01:00\t\t\n")
    table, rows_read, rejected = read(read_table, path)
    assert table.select(["event_id", "app_id", "collector_tstamp", "domain_sessionidx", "page_urlpath",
                         "source_line"]).to_pylist() == [
        {"event_id": "e1", "app_id": "shop", "collector_tstamp": datetime(2026, 3, 2, 10, 0, 0, 123000, tzinfo=UTC),
         "domain_sessionidx": 4, "page_urlpath": "/pricing", "source_line": 1},
        {"event_id": "e4", "app_id": "shop", "collector_tstamp": datetime(2026, 3, 2, 10, tzinfo=UTC),
         "domain_sessionidx": None, "page_urlpath": None, "source_line": 4},
    ]
    assert rows_read == 4
    assert rejected == {"e2": (str(path), "field 'collector_tstamp': Invalid isoformat string: 'not a time'"),
                        "row 3": (str(path), "missing required field 'event_id'")}
    table, _, _ = read(read_table, path, rows_read)  # nothing new
    assert table.num_rows == 0


def test_a_csv_row_with_too_few_fields_is_read_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "atomic.csv.gz"
    path.write_bytes(gzip.compress(b"event_id,event,collector_tstamp\ne1,page_view,2026-03-02T10:00:00Z\n"
                                   b"e2,page_view\ne3,page_view,2026-03-02T12:00:00Z\n"))
    table, rows_read, rejected = read(read_table, path)
    assert table.select(["event_id", "source_line"]).to_pylist() == [{"event_id": "e1", "source_line": 1},
                                                                     {"event_id": "e3", "source_line": 3}]
    assert rows_read == 3 and rejected == {"e2": (str(path), "missing required field 'collector_tstamp'")}
