"""Bundles ({raw table: rows}) merged into batches before dlt sees them.

dlt's cost per Arrow item is fixed and high (its Arrow extractor computes and validates the table's schema for
every item, docs/architecture.md §4 "The Arrow path"), and so is the projection's cost per table (an Arrow
array per column), while one page of a GraphQL answer holds a few dozen records per table: the pages' bundles
are merged until they hold about `BATCH_ROWS` rows, and a table's records (`Records`, not yet projected) are
projected together, so a table gets one projection and one Arrow item per batch, not one per page. What lands
is the same rows, and the same records are quarantined with the same reasons; only their grouping changes. An
empty bundle stands in for each page held back, so dlt (which takes one item from each resource in turn) still
switches between resources page by page: the order of requests, and so what a run bounded by a budget fetches,
stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ingestion.sources.columns import project_records
from ingestion.sources.projection import Field

BATCH_ROWS = 5000  # as the events source's batch of lines


@dataclass
class Records:
    """A raw table's records still to project (`columns.project_records`): the payload records, the endpoint
    each came from and the columns the source fills itself (one value per record)."""

    source: str
    table: str
    columns: Sequence[Field]
    id_path: str = "id"
    items: list[Any] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    extra: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, items: Sequence[Any], endpoint: str, **extra: Any) -> Records:
        """Append records from one endpoint; `extra`: a constant, or a list with one value per record."""
        self.items += items
        self.endpoints += [endpoint] * len(items)
        for name, value in extra.items():
            self.extra.setdefault(name, []).extend(value if isinstance(value, list) else [value] * len(items))
        return self

    def __len__(self) -> int:
        return len(self.items)

    def project(self) -> pa.Table:
        return project_records(self.items, self.columns, source=self.source, endpoint=self.endpoints,
                               table=self.table, extra=self.extra, id_path=self.id_path)


def batched(bundles: Iterable[Mapping[str, Any]], rows: int = BATCH_ROWS) -> Iterator[dict[str, Any]]:
    """The bundles merged in order, table by table, into one bundle per `rows` rows (the last one smaller). A
    table's parts are Arrow tables of one schema (concatenated), `Records` (projected together into one table) or
    lists of row dicts (joined); empty parts are dropped; an empty bundle is yielded for each bundle held back."""
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
    return {table: _merged(parts) for table, parts in held.items()}


def _merged(parts: list[Any]) -> Any:
    if isinstance(parts[0], pa.Table):
        return pa.concat_tables(parts)
    if isinstance(parts[0], Records):
        whole = Records(parts[0].source, parts[0].table, parts[0].columns, parts[0].id_path)
        for part in parts:
            whole.items += part.items
            whole.endpoints += part.endpoints
            for name, values in part.extra.items():
                whole.extra.setdefault(name, []).extend(values)
        return whole.project()
    return [row for part in parts for row in part]
