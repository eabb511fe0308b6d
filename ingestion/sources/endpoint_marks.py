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

from ingestion.sources.cursors import Clock, Cursors
from ingestion.timestamps import parse_timestamp

if TYPE_CHECKING:
    from ingestion.sources.endpoints import Endpoint


def cursor_key(endpoint: Endpoint, key: Any) -> str:
    return str(key) if key is not None else str(endpoint.cursor_key or endpoint.table)


def fetch_all(tasks: Sequence[Callable[[], Any]], workers: int) -> list[Any]:
    """The results of `tasks` in order, read by `workers` threads (in this thread when 1: the resource's state,
    and with it the stored ETags, is there only)."""
    if workers == 1 or len(tasks) < 2:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda task: task(), tasks))


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
        self.page: list[Mapping[str, Any]] = []  # the parents of the current page done so far
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

    def begin(self, mark: str) -> None:
        """A parent walk of `mark` begins or resumes (its floors are kept until it ends): children compare with
        the marks as it first began."""
        for table, cursors in self.cursors.items():
            floors = self.floors[table]
            if mark not in floors:
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

    def did(self, parent: Mapping[str, Any], children: Sequence[Endpoint]) -> None:
        """A parent read with all its children: kept if the page is cut; the incremental children's marks
        move past it once the page is done (`advance`)."""
        self.page.append(parent)  # fingerprinted only if the page is cut (rare; one per parent is not cheap)
        for child in children:
            key = parent.get(child.key_column) if child.key_column else None
            changed_at = self.changed(child, key, parent)
            if changed_at is not None:
                self.pending.append((child, cursor_key(child, key), changed_at))

    def advance(self) -> None:
        for child, mark, at in self.pending:
            self.cursors[child.table].advance(mark, [at])
        self.pending.clear()
        self.page.clear()

    def cut(self, mark: str, *, advance: bool) -> None:
        """The budget cut the page: its parents done are kept; the children's marks move past them only when
        `advance` (else a parent not done, older than one done, would be skipped next time)."""
        self.cuts[mark] = sorted({*(self.cuts.get(mark) or ()), *map(fingerprint, self.page)})
        if not advance:
            self.pending.clear()
        self.advance()


def fingerprint(row: Mapping[str, Any]) -> str:
    """A listed row's identity and version: any change to it reads it again."""
    return hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:20]
