"""Response bodies decoded once (`ingestion/sources/json_bodies.py`): every reader gets the same value, the value
requests' own decoder gives (orjson's where that is exact), a body that is not JSON raises requests' error; pages
digested with keys sorted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from requests import Response
from requests.exceptions import JSONDecodeError

from ingestion.sources.json_bodies import decode, decode_once, digest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


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


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*/*.json")))
def test_decode_gives_what_requests_decoder_gives_for_every_recorded_payload(name: str) -> None:
    path = next(FIXTURES.glob(f"*/{name}"))
    body = path.read_bytes()
    assert decode(_response(body)) == json.loads(body)


@pytest.mark.parametrize("body, value", [
    (b'{"id": 18446744073709551616}', {"id": 18446744073709551616}),  # beyond 64 bits: exact, not a float
    (b'[-9223372036854775809, 1.5]', [-9223372036854775809, 1.5]),
    (b'{"sha": "1234567890123456789012abcdef", "n": 12345678901234567890}', {"sha": "1234567890123456789012abcdef",
                                                                             "n": 12345678901234567890}),
])
def test_decode_keeps_integers_beyond_64_bits_exact(body: bytes, value: object) -> None:
    decoded = decode(_response(body))
    assert decoded == value
    assert not any(isinstance(v, float) and v > 2**63 for v in (decoded.values() if isinstance(decoded, dict)
                                                                 else decoded))


def test_decode_follows_a_declared_charset_and_refuses_what_is_not_json() -> None:
    latin = _response('["é"]'.encode())
    latin.encoding = "iso-8859-1"  # as the server declared it: requests reads the bytes so, and so does decode
    assert decode(latin) == ["Ã©"]
    with pytest.raises(JSONDecodeError):
        decode(_response(b'{"a": '))
