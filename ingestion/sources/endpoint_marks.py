"""What the endpoint walker (endpoints.py) keeps between pages and syncs besides its cursors: the marks of a
listing's incremental children, the parents of a page a spent budget cut short, and the fetching of a child for
many parents (in worker threads for a `parallel` one)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

import dlt
import pyarrow as pa

from ingestion.sources.budget import BudgetExhausted
from ingestion.sources.cursors import Clock, Cursors
from ingestion.timestamps import parse_timestamp

if TYPE_CHECKING:
    from ingestion.sources.endpoints import Endpoint


def cursor_key(endpoint: Endpoint, key: Any) -> str:
    return str(key) if key is not None else str(endpoint.cursor_key or endpoint.table)


def fetch_all(tasks: Sequence[Callable[[], Any]], workers: int) -> tuple[list[Any], BudgetExhausted | None]:
    """The results of `tasks` in order, up to the first one a spent budget stopped (and that stop)."""
    if workers == 1 or len(tasks) < 2:
        done = []
        for task in tasks:
            try:
                done.append(task())
            except BudgetExhausted as stop:
                return done, stop
        return done, None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(task) for task in tasks]
        done = []
        for future in futures:
            try:
                done.append(future.result())
            except BudgetExhausted as stop:
                for later in futures:
                    later.cancel()
                return done, stop
    return done, None


class ChildMarks:
    """The marks of a listing's incremental children (in each child's own resource state): a child is read
    again only for parents that changed after its mark as the sync began, or, while the parent's walk of a key
    is unfinished (a budget stopped it), as that walk began. And the parents of a page the budget cut that
    were done (with their children), in the listing's own state: reading that page again skips them."""

    def __init__(self, start: datetime, children: Sequence[Endpoint], *, full_refresh: bool, clock: Clock) -> None:
        self.cursors: dict[str, Cursors] = {}
        self.floors: dict[str, dict[str, Any]] = {}
        self.seen: dict[tuple[str, str], datetime | None] = {}
        self.pending: list[tuple[Endpoint, str, datetime]] = []
        self.page: list[str] = []  # the parents of the current page done so far
        self.cuts: dict[str, list[str]] = dlt.current.resource_state().setdefault("cut", {})
        if full_refresh:
            self.cuts.clear()
        for child in children:
            if child.incremental is not None:
                state = dlt.current.resource_state(child.table)
                self.cursors[child.table] = Cursors(start, full_refresh=full_refresh, state=state, clock=clock)
                self.floors[child.table] = state.setdefault("walk_floors", {})
                if full_refresh:
                    self.floors[child.table].clear()

    def begin(self, mark: str, *, resuming: bool) -> None:
        """A parent walk of `mark` begins (or resumes): children compare with the marks as it first began."""
        for table, cursors in self.cursors.items():
            floors = self.floors[table]
            if not resuming or mark not in floors:
                current = cursors.mark(mark)
                floors[mark] = current.isoformat() if current else None
            self.seen[(table, mark)] = parse_timestamp(floors[mark]) if floors[mark] else None

    def end(self, mark: str) -> None:
        for floors in self.floors.values():
            floors.pop(mark, None)
        self.cuts.pop(mark, None)

    def changed(self, child: Endpoint, key: Any, parent: Mapping[str, Any]) -> Any:
        """The parent's change time when it changed after the child's mark, else None."""
        if child.incremental is None:
            return None
        mark = cursor_key(child, key)
        if (child.table, mark) not in self.seen:
            self.seen[(child.table, mark)] = self.cursors[child.table].mark(mark)
        seen = self.seen[(child.table, mark)]
        changed_at = child.incremental.value(parent)
        return changed_at if seen is None or changed_at > seen else None

    def todo(self, mark: str, rows: pa.Table) -> pa.Table:
        """The page's rows less those a cut page did (unchanged since): they are loaded with their children."""
        cut = set(self.cuts.get(mark) or ())
        if not cut:
            return rows
        keep = [fingerprint(row) not in cut for row in rows.to_pylist()]
        return rows.filter(pa.array(keep, pa.bool_()))

    def did(self, batch: pa.Table) -> None:
        self.page += [fingerprint(row) for row in batch.to_pylist()]

    def fetched(self, child: Endpoint, done: Sequence[tuple[Any, Any]]) -> None:
        """Parents whose children were fetched: their marks move once the page is done (`advance`)."""
        self.pending += [(child, cursor_key(child, key), at) for key, at in done if at is not None]

    def advance(self) -> None:
        for child, mark, at in self.pending:
            self.cursors[child.table].advance(mark, [at])
        self.pending.clear()
        self.page.clear()

    def cut(self, mark: str) -> None:
        """The budget cut the page: its parents done are kept; the children's marks do not move."""
        self.cuts[mark] = sorted({*(self.cuts.get(mark) or ()), *self.page})
        self.pending.clear()
        self.page.clear()


def fingerprint(row: Mapping[str, Any]) -> str:
    """A listed row's identity and version: any change to it reads it again."""
    return hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:20]
