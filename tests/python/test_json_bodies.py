"""Response bodies decoded once (`ingestion/sources/json_bodies.py`): every reader gets the same value, which
requests' own decoder made, a body that is not JSON raises requests' error; pages digested with keys sorted."""

from __future__ import annotations

import pytest
from requests import Response
from requests.exceptions import JSONDecodeError

from ingestion.sources.json_bodies import decode_once, digest


def _response(body: bytes) -> Response:
    response = Response()
    response._content = body
    response.status_code = 200
    response.encoding = "utf-8"
    return response


def test_every_reader_shares_one_decoding() -> None:
    response = _response(b'{"total_count": 2, "items": [{"id": 1}, {"id": 123456789012345678901234567890}]}')
    decode_once(response)
    first = response.json()
    assert first == {"total_count": 2, "items": [{"id": 1}, {"id": 123456789012345678901234567890}]}
    assert response.json() is first  # decoded once


def test_an_empty_page_set_after_the_hook_is_what_readers_see() -> None:
    response = _response(b'{"a": 1}')
    decode_once(response)
    response._content = b"[]"  # a 304 becomes an empty page before anyone reads it
    assert response.json() == []


def test_a_body_that_is_not_json_raises_requests_error_every_time() -> None:
    response = _response(b"<html>bad gateway</html>")
    decode_once(response)
    for _ in range(2):
        with pytest.raises(JSONDecodeError):
            response.json()


def test_digest_ignores_key_order_and_sees_values() -> None:
    assert digest([{"a": 1, "b": [2, 3]}]) == digest([{"b": [2, 3], "a": 1}])
    assert digest([{"a": 1}]) != digest([{"a": 2}])
    assert digest([{"id": 2**70}]) != digest([{"id": 2**70 + 1}])  # beyond orjson: json.dumps
