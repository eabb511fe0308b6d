"""A batch child's parents pooled across the keys of a listing (endpoints.py, `Endpoint.batch`): the jobs of
several repositories' pages of runs in one GitHub query instead of one query per page.

Each key's listing is a generator. When a page's parents need a batch child, the page's generator yields a
`Wait` (the child and the parents) instead of fetching, and stays where it is: nothing after that point, the
page's bundle and every mark it moves, happens yet. `pooled` parks it and starts the next key's listing, until
the parked parents fill a batch (`size`) or no key is left; then it fetches the parked parents' children in one
go and resumes each parked listing with its own parents' pages, or with None when the budget stopped the batch
(that page is then cut, as before: it loads without its children, no mark passes it, the next sync reads it
again). So the guarantees of a page read with its children are the same; only when the fetch happens moves.
A batch asks for every waiting parent: ceil(waiting / per_query) queries. The batch (`size`, 3,700) is a whole
number of both pages of 100 parents and queries of 148 (`per_query`: GitHub prices a query of 148 check suites
at one point), so a first sync's full pages fill every query; a listing that ends before `size` parents wait
costs ceil(parents / per_query) queries (a page's parents are never split between batches).

While parents wait, the run's budget holds back what their queries will cost (`RunBudget.reserved`): a listing
started meanwhile cannot spend it, so a budget never ends a sync with listed pages and nothing left to read their
children (the next sync would list them again and never get further)."""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ingestion.sources.budget import BudgetExhausted

if TYPE_CHECKING:
    from ingestion.sources.endpoints import Endpoint, Walk

BATCH_QUERY = 148  # the parents of one query (GitHub: 148 check suites, two `nodes(ids:)` lists, one point)
BATCH_PARENTS = 3700  # the parents of a batch: 37 pages of 100, 25 queries of 148
Listing = Generator[Any, Any, None]


@dataclass
class Wait:
    """A page's parents waiting for a batch child's pages (answered with one list of pages per parent)."""

    child: Endpoint
    parents: list[dict[str, Any]]


def pooled(walk: Walk, listings: Iterator[Listing], size: int = BATCH_PARENTS,
           per_query: int = BATCH_QUERY) -> Iterator[Any]:
    """The items of every listing (one per key, started in order), their batch children fetched together."""
    try:
        yield from _pool(walk, listings, size, per_query)
    finally:
        _reserve(walk, 0)  # a listing's error (or dlt closing the resource) leaves nothing held back


def _pool(walk: Walk, listings: Iterator[Listing], size: int, per_query: int) -> Iterator[Any]:
    ready: list[tuple[Listing, Any]] = []  # listings to resume, with their answers (None: just started)
    parked: list[tuple[Listing, Wait]] = []
    more = True
    while True:
        if not ready:
            waiting = sum(len(wait.parents) for _, wait in parked)
            if parked and (waiting >= size or not more):
                ready, parked = _answered(walk, parked), []
            else:
                listing = next(listings, None) if more else None
                if listing is None:
                    more = False
                    if not parked:
                        return
                    continue
                ready.append((listing, None))
        listing, answer = ready.pop(0)
        wait = yield from _run(listing, answer)
        if wait is not None:
            parked.append((listing, wait))
            _reserve(walk, math.ceil(sum(len(w.parents) for _, w in parked) / per_query))


def _run(listing: Listing, answer: Any) -> Generator[Any, None, Wait | None]:
    """A listing resumed with `answer` until it waits for a batch (its Wait) or ends (None)."""
    while True:
        try:
            item = listing.send(answer)
        except StopIteration:
            return None
        answer = None
        if isinstance(item, Wait):
            return item
        yield item


def _reserve(walk: Walk, points: int) -> None:
    budget = getattr(walk.api, "budget", None)
    if budget is not None:
        budget.reserved = points


def _answered(walk: Walk, parked: list[tuple[Listing, Wait]]) -> list[tuple[Listing, Any]]:
    """Each parked listing with its parents' pages (one batch per child), or None when the budget stopped it."""
    _reserve(walk, 0)
    answers: dict[int, Any] = {}
    for table in dict.fromkeys(wait.child.table for _, wait in parked):
        waits = [(n, wait) for n, (_, wait) in enumerate(parked) if wait.child.table == table]
        child = waits[0][1].child
        assert child.batch is not None
        try:
            per_parent = iter(child.batch(walk, child, [p for _, wait in waits for p in wait.parents]))
        except BudgetExhausted:
            answers.update((n, None) for n, _ in waits)
            continue
        for n, wait in waits:
            answers[n] = [page for _ in wait.parents for page in next(per_parent)]
    return [(listing, answers[n]) for n, (listing, _) in enumerate(parked)]
