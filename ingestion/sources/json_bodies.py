"""JSON response bodies decoded once, with orjson (layer 0: requests and orjson only).

A REST page's body was decoded by every reader of it (`response.json()` in dlt's data selector, in its
paginator, in our `total_count` look-up): `decode_once` makes them share one decoding, by orjson, several times
faster than the `simplejson` requests uses. A body orjson refuses (not JSON at all), or one with a number of 19
or more digits (orjson reads an integer beyond 64 bits as a float, where Python keeps it whole), goes to requests'
own decoder, so a body decodes to the same value as before and an invalid one raises the same error.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson
from requests import Response

# a number of 19 digits or more where a JSON value starts (2**63 has 19): maybe an integer beyond 64 bits; digits
# inside a string (a commit SHA) do not follow `:`, `[` or `,`
_LONG_NUMBER = re.compile(rb"[:\[,]\s*-?[0-9]{19}")


class _Refused(Exception):
    pass


def _fast(content: bytes) -> Any:
    if _LONG_NUMBER.search(content):
        raise _Refused
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        raise _Refused from None


def decoded(response: Response) -> Any:
    """The body of `response` as JSON (orjson, else requests' decoder and its errors)."""
    try:
        return _fast(response.content)
    except _Refused:
        return response.json()


def decode_once(response: Response) -> None:
    """Make `response.json()` decode the body once (see `decoded`) and give every caller that same value. The
    body is decoded when first asked for, so a hook that replaces `_content` before (a 304's empty page) is
    seen. Callers must not change the top-level value (none does: they read it)."""
    original = response.json
    cache: list[Any] = []

    def json_once(**kwargs: Any) -> Any:
        if kwargs:
            return original(**kwargs)
        if not cache:
            try:
                cache.append(_fast(response.content))
            except _Refused:
                cache.append(original())
        return cache[0]

    response.json = json_once  # type: ignore[method-assign]


def digest(value: Any) -> str:
    """A digest of a decoded JSON value, equal for equal values (keys sorted): orjson, else `json.dumps`."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # orjson's limits (an integer beyond 64 bits)
        text = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(text).hexdigest()
