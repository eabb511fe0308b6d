"""Bundles ({raw table: rows}) merged into batches before dlt sees them.

dlt's cost per Arrow item is fixed and high (its Arrow extractor computes and validates the table's schema for
every item, docs/architecture.md §4 "The Arrow path"), while one page of a GraphQL answer holds a few dozen rows
per table: the pages' bundles are merged until they hold about `BATCH_ROWS` rows, so a table gets one Arrow item
per batch, not one per page. What lands is the same rows; only their grouping into dlt's items changes. An
empty bundle stands in for each page held back, so dlt (which takes one item from each resource in turn) still
switches between resources page by page: the order of requests, and so what a run bounded by a budget fetches,
stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pyarrow as pa

BATCH_ROWS = 5000  # as the events source's batch of lines


def batched(bundles: Iterable[Mapping[str, Any]], rows: int = BATCH_ROWS) -> Iterator[dict[str, Any]]:
    """The bundles merged in order, table by table, into one bundle per `rows` rows (the last one smaller). A
    table's parts are Arrow tables of one schema (concatenated) or lists of row dicts (joined); empty parts are
    dropped; an empty bundle is yielded for each bundle held back."""
    held: dict[str, list[Any]] = {}
    count = 0
    for bundle in bundles:
        for table, part in bundle.items():
            if part is None or not len(part):
                continue
            held.setdefault(table, []).append(part)
            count += len(part)
        if count >= rows:
            yield merged(held)
            held, count = {}, 0
        else:
            yield {}
    if held:
        yield merged(held)


def merged(held: Mapping[str, list[Any]]) -> dict[str, Any]:
    return {table: pa.concat_tables(parts) if isinstance(parts[0], pa.Table) else [row for part in parts for row in part]
            for table, parts in held.items()}
