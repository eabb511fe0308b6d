"""Columnar projection (`ingestion/sources/columns.py`): a page of records → one Arrow table, with the same
coercions and the same quarantine reasons as the record-by-record `projection.project`."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from ingestion.errors import PayloadError
from ingestion.sources.columns import project_kept, project_page, project_records
from ingestion.sources.projection import Quarantine, fields, project, quarantining

SPEC = fields(
    ("id", "id", "bigint", True), ("state", "state", "text", True, frozenset({"open", "closed"})),
    ("draft", "draft", "bool"), ("merged_at", "merged_at", "timestamp"), ("parents", "parents"),
    ("author", "user.login"),
)
GOOD = {"id": 7, "state": "open", "draft": False, "merged_at": "2026-03-01T10:00:00Z", "parents": None,
        "user": {"login": "ana"}}


def test_a_page_of_well_typed_records_becomes_typed_columns() -> None:
    table, reasons = project_page([GOOD, {**GOOD, "id": 8, "user": None, "merged_at": None}], SPEC,
                                  {"repository": "acme/api"})
    assert reasons == {}
    assert table.schema.field("id").type == pa.int64() and not table.schema.field("id").nullable
    assert table.schema.field("merged_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("id").to_pylist() == [7, 8]
    assert table.column("author").to_pylist() == ["ana", None]
    assert table.column("merged_at").to_pylist() == [datetime(2026, 3, 1, 10, tzinfo=UTC), None]


@pytest.mark.parametrize(("field", "sent", "stored"), [
    ("id", "42", 42), ("id", 42.0, 42), ("draft", "true", True), ("draft", "FALSE", False),
    ("merged_at", "2026-03-01T15:30:00+05:30", datetime(2026, 3, 1, 10, tzinfo=UTC)),
    ("merged_at", "2026-03-01 10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
    ("merged_at", "2026-03-01T10:00:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),  # no zone: UTC
    ("merged_at", "2026-03-01T10:00:00.5+00:00", datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ("parents", [{"sha": "a1"}, {"sha": "b2"}], "a1 b2"),
])
def test_lossless_coercions_apply_column_by_column(field: str, sent: object, stored: object) -> None:
    table, reasons = project_page([GOOD, {**GOOD, field: sent}], SPEC)
    assert reasons == {}
    name = {"parents": "parents"}.get(field, field)
    assert table.column(name).to_pylist()[1] == stored


@pytest.mark.parametrize("record", [
    {**GOOD, "id": None}, {**GOOD, "id": "4x"}, {**GOOD, "id": True}, {**GOOD, "state": "exploded"},
    {**GOOD, "draft": "yes"}, {**GOOD, "merged_at": "yesterday"}, {**GOOD, "merged_at": 1772359200},
    {**GOOD, "user": {"login": 5}}, ["not", "an", "object"], "text",
])
def test_every_reason_is_the_record_by_record_projections(record: object) -> None:
    with pytest.raises(PayloadError) as expected:
        project(record, SPEC, source="github", endpoint="pulls")
    table, reasons = project_page([GOOD, record, GOOD], SPEC)
    assert table.num_rows == 2
    assert reasons == {1: expected.value.problem}


def test_the_first_failing_column_names_the_reason() -> None:
    _, reasons = project_page([{**GOOD, "id": "x", "state": "exploded"}, {**GOOD, "state": "exploded", "draft": 3}],
                              SPEC)
    assert reasons == {0: "field 'id': expected an integer, got 'x'",
                       1: "field 'state': unknown value 'exploded' (expected one of closed, open)"}


def test_rejected_records_go_to_the_quarantine_and_valid_ones_leave_it() -> None:
    quarantine = Quarantine("github", known=[("pulls", "7")])
    with quarantining(quarantine):
        table = project_records([GOOD, {**GOOD, "id": 9, "state": "exploded"}, 5], SPEC, source="github",
                                endpoint="/repos/acme/api/pulls", table="pulls")
    assert table.column("id").to_pylist() == [7]
    rejected = sorted((row["record_id"][:7], row["endpoint"], row["reason"], row["payload"])
                      for row in quarantine.rejected.values())
    assert rejected == [
        ("9", "/repos/acme/api/pulls", "field 'state': unknown value 'exploded' (expected one of closed, open)",
         '{"draft": false, "id": 9, "merged_at": "2026-03-01T10:00:00Z", "parents": null, "state": "exploded", '
         '"user": {"login": "ana"}}'),
        ("sha256:", "/repos/acme/api/pulls", "expected a JSON object, got int", "5"),  # no id: the payload's hash
    ]
    assert quarantine.resolved == {("pulls", "7")}


def test_outside_a_source_run_a_bad_record_raises() -> None:
    with pytest.raises(PayloadError, match="missing required field 'state'"):
        project_records([{"id": 1}], SPEC, source="github", endpoint="pulls", table="pulls")


def test_project_kept_names_the_records_the_table_holds() -> None:
    quarantine = Quarantine("github")
    with quarantining(quarantine):
        table, held = project_kept([GOOD, {**GOOD, "id": 9, "merged_at": "yesterday"}, {**GOOD, "id": 11}], SPEC,
                                   source="github", endpoint="graphql pull_request of acme/api", table="pulls")
    assert held == [0, 2]
    assert table.column("id").to_pylist() == [7, 11]
    assert [(row["record_id"], row["reason"]) for row in quarantine.rejected.values()] == [
        ("9", "field 'merged_at': Invalid isoformat string: 'yesterday'")]


def test_extra_columns_are_kept_as_given_and_coerced_like_dlt_would() -> None:
    spec = fields(("repository", "repository", "text", True),
                  ("pull_request_number", "pull_request_number", "bigint")) + SPEC
    table, reasons = project_page([GOOD, GOOD, GOOD, GOOD], spec,
                                  {"repository": "acme/api", "pull_request_number": [3, "4", 5.0, "x"]})
    assert reasons == {}  # the source's own columns are not validated, as `projection.project` does not
    assert table.column("repository").to_pylist() == ["acme/api"] * 4
    assert table.column("pull_request_number").type == pa.int64()
    assert table.column("pull_request_number").to_pylist() == [3, 4, 5, None]


def test_values_at_reads_a_dotted_path_as_lookup_does() -> None:
    from types import MappingProxyType

    from ingestion.sources.columns import values_at
    from ingestion.sources.projection import lookup

    records = [{"user": {"login": "ana"}}, {"user": None}, {"user": "ghost"}, {},
               {"user": MappingProxyType({"login": "ben"})}, {"user": {"login": {"deep": 1}}}]
    assert values_at(records, "user.login") == ["ana", None, None, None, "ben", {"deep": 1}]
    assert values_at(records, "user.login.deep") == [lookup(r, "user.login.deep") for r in records]
