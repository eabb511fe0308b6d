"""Projection of one payload record into a typed raw row: the pure piece every source uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingestion.errors import PayloadError
from ingestion.sources.projection import Field, column_hints, fields, project, table_hints

SPEC = fields(
    ("id", "id", "bigint", True),
    ("state", "state", "text", False, frozenset({"open", "closed"})),
    ("draft", "draft", "bool"),
    ("merged_at", "merged_at", "timestamp"),
    ("parents", "parents"),
    ("author", "user.login"),
)


def row(record: dict) -> dict:
    return project(record, SPEC, source="github", endpoint="pulls")


def test_a_complete_record_is_typed_and_converted() -> None:
    got = row({"id": 7, "state": "open", "draft": False, "merged_at": "2026-03-01T10:00:00+02:00",
               "parents": [{"sha": "a1"}, {"sha": "b2"}], "user": {"login": "ana"}})
    assert got == {"id": 7, "state": "open", "draft": False,
                   "merged_at": datetime(2026, 3, 1, 8, 0, tzinfo=UTC),  # +02:00 → UTC
                   "parents": "a1 b2", "author": "ana"}


def test_missing_optional_fields_are_null_and_extra_columns_are_kept() -> None:
    got = project({"id": 1}, SPEC, source="github", endpoint="pulls", extra={"repository": "acme/api"})
    assert got == {"repository": "acme/api", "id": 1, "state": None, "draft": None, "merged_at": None,
                   "parents": None, "author": None}


def test_a_list_of_plain_values_is_space_joined() -> None:
    assert row({"id": 1, "parents": ["x", 3]})["parents"] == "x 3"


def test_a_missing_required_field_names_source_endpoint_and_field() -> None:
    with pytest.raises(PayloadError) as info:
        row({"state": "open", "number": 12})
    assert str(info.value) == "github: bad record None from pulls: missing required field 'id'"


@pytest.mark.parametrize(("record", "problem"), [
    ({"id": 1, "state": "merged"}, "field 'state': unknown value 'merged' (expected one of closed, open)"),
    ({"id": "1a"}, "field 'id': expected an integer, got '1a'"),
    ({"id": 1.5}, "field 'id': expected an integer, got 1.5"),
    ({"id": True}, "field 'id': expected an integer, got True"),  # a bool is not a bigint
    ({"id": 1, "draft": "no"}, "field 'draft': expected true/false, got 'no'"),
    ({"id": 1, "merged_at": 1700000000}, "field 'merged_at': expected an ISO-8601 timestamp, got 1700000000"),
    ({"id": 1, "merged_at": "yesterday"}, "field 'merged_at': Invalid isoformat string: 'yesterday'"),
    ({"id": 1, "author": None, "user": {"login": 5}}, "field 'user.login': expected text, got 5"),
])
def test_a_value_of_the_wrong_shape_is_a_payload_error(record: dict, problem: str) -> None:
    with pytest.raises(PayloadError) as info:
        row(record)
    assert info.value.problem == problem
    assert info.value.record_id == record["id"]


def test_a_record_that_is_not_an_object_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="expected a JSON object, got list"):
        row([1, 2])  # type: ignore[arg-type]


def test_hints_give_types_nullability_and_merge_on_the_key() -> None:
    spec = (Field("id", "id", "bigint", True), Field("at", "at", "timestamp"))
    assert column_hints(spec) == {"id": {"data_type": "bigint", "nullable": False},
                                  "at": {"data_type": "timestamp", "nullable": True}}
    assert table_hints((spec, ("id",))) == {"primary_key": ["id"], "write_disposition": "merge",
                                            "columns": column_hints(spec)}


@pytest.mark.parametrize(("record", "column", "value"), [
    ({"id": "42"}, "id", 42),  # an integer sent as a numeric string
    ({"id": " -7 "}, "id", -7),
    ({"id": 42.0}, "id", 42),  # a whole float
    ({"id": 1, "draft": "false"}, "draft", False),  # a boolean sent as text
    ({"id": 1, "draft": "TRUE"}, "draft", True),
    ({"id": 1, "merged_at": "2026-03-01 10:00:00-05:00"}, "merged_at", datetime(2026, 3, 1, 15, tzinfo=UTC)),
])
def test_lossless_coercions(record: dict, column: str, value: object) -> None:
    got = row(record)[column]
    assert got == value and type(got) is type(value)
