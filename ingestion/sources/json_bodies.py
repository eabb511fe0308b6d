"""JSON response bodies decoded once, and pages digested fast (requests and orjson only).

A REST page's body was decoded by every reader of it (`response.json()` in dlt's data selector, in its
paginator, in our `total_count` look-up): `decode_once` makes them share one decoding, by requests' own
decoder, so values and errors are as before. (orjson decodes these string-heavy bodies no faster than
requests' decoder, and reads an integer beyond 64 bits as a float: it is not used for decoding.)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from requests import Response


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
            cache.append(original())
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
