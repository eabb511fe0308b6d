"""Bundles merged into batches before dlt sees them (`ingestion/sources/bundles.py`): the same rows in the same
order, one Arrow table per table and batch, and an empty bundle for each page held back."""

from __future__ import annotations

import pyarrow as pa

from ingestion.sources.bundles import batched


def _ids(*values: int) -> pa.Table:
    return pa.table({"id": pa.array(values, pa.int64())})


def test_pages_merge_into_batches_of_rows_in_order() -> None:
    pages = [
        {"pulls": _ids(1, 2), "progress": [{"repo": "a"}]},
        {"pulls": _ids(3), "reviews": _ids()},  # an empty part is dropped
        {"pulls": _ids(4, 5), "reviews": _ids(10)},
        {"progress": [{"repo": "b"}]},
    ]
    out = list(batched(pages, rows=5))
    # held back: an empty bundle stands for the page; the third page makes 6 rows >= 5: one merged bundle
    assert out[:2] == [{}, {}]
    merged = out[2]
    assert set(merged) == {"pulls", "reviews", "progress"}
    assert merged["pulls"].column("id").to_pylist() == [1, 2, 3, 4, 5]
    assert merged["pulls"].schema == _ids().schema
    assert merged["reviews"].column("id").to_pylist() == [10]
    assert merged["progress"] == [{"repo": "a"}]
    assert out[3:] == [{}, {"progress": [{"repo": "b"}]}]  # what is left when the pages end


def test_nothing_in_nothing_out_but_the_pace() -> None:
    assert list(batched([])) == []
    assert list(batched([{"pulls": _ids()}, {}], rows=1)) == [{}, {}]
