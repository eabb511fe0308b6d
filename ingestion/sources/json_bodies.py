"""JSON response bodies decoded once, and pages digested fast (requests and orjson only).

A REST page's body was decoded by every reader of it (`response.json()` in dlt's data selector, in its
paginator, in our `total_count` look-up): `decode_once` makes them share one decoding.

The decoding is orjson's wherever it gives exactly what requests' own decoder gives, and requests' otherwise, so
values and errors are as before. orjson reads a page of 100 generated GitHub pull requests (1.3 MB) in 2.3 ms
against 3.8 ms, and takes the bytes as they came, without requests' text decoding (the A/B of the sources' CPU is
in `bench/results/2026-12-04-ingest-cpu.md`). orjson is not exact for an integer beyond 64 bits (it reads it as a
float): a body holding a number of 19 digits or more goes to requests' decoder. The check costs about 1 ms a MB: a
run of 19 digits after one of `:,[-` or white space (so not one inside a commit SHA). A body that is not UTF-8 or
not JSON also goes to requests' decoder, which decodes it or raises its own error.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from requests import Response

# A JSON number starts after one of `:,[` or white space, or with `-`: those become "|", each digit "0", the rest " "
_DIGITS = bytes(0x30 if 0x30 <= i <= 0x39 else 0x7C if chr(i) in ":,[ \t\n\r-" else 0x20 for i in range(256))
_LONG_NUMBER = b"|" + b"0" * 19  # the shortest integer orjson may not read exactly: -9223372036854775809
_UTF8 = {"utf-8", "utf8", "utf_8"}


def decode(response: Response) -> Any:
    """`response.json()`'s value, decoded by orjson where that is exact (module docstring), else by requests."""
    content = response.content
    if (response.encoding or "utf-8").lower() in _UTF8 and content.translate(_DIGITS).find(_LONG_NUMBER) < 0:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass  # not JSON, or not UTF-8: requests' decoder decodes it or says what is wrong
    return Response.json(response)


def decode_once(response: Response) -> None:
    """Make `response.json()` decode the body once and give every caller that same value. The body is decoded
    when first asked for, so a hook that replaces `_content` before (a 304's empty page) is seen; an invalid body
    raises on every call, as before. Callers must not change the top-level value (none does: they read it)."""
    original = response.json
    cache: list[Any] = []

    def json_once(**kwargs: Any) -> Any:
        if kwargs:
            return original(**kwargs)
        if not cache:
            cache.append(decode(response))
        return cache[0]

    response.json = json_once  # type: ignore[method-assign]


def digest(value: Any) -> str:
    """A digest of a decoded JSON value, equal for equal values (keys sorted): orjson, several times faster than
    `json.dumps`, which takes what orjson cannot (an integer beyond 64 bits)."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        text = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(text).hexdigest()
