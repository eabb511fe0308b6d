"""Resumable newest-first walks, and the progress each repository has made: the GraphQL path's, and the endpoint
walker's for GitHub's newest-first REST lists (endpoints.py: pull requests, commits, deployments, Actions runs,
whose `after` is the next page's link rather than a GraphQL cursor: a page number, so a record added above it
while a walk is stopped makes one record come twice, and one deleted above it makes one go unread).

GitHub lists pull requests, deployments and a branch's history newest first. A walk pages down from the newest
node to the floor (the cursor of the last complete sync, or `start_date`) and only then moves the cursor up to
the newest node it saw. When a run's budget (SOURCES__GITHUB__MAX_REQUESTS_PER_RUN) runs out mid-walk, the walk
is saved in dlt's resource state — its floor, its ceiling (the newest node when it began) and the GraphQL cursor
of the last page it finished (GitHub's cursors hold the node's sort key, so they stay valid while other nodes
move) — and committed with the rows already fetched. The next run first takes what changed above the ceiling,
then carries on below the saved cursor: nothing is fetched twice, nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ingestion.sources.cursors import Cursors
from ingestion.sources.projection import fields
from ingestion.timestamps import parse_timestamp

# (nodes, endCursor, totalCount) of one page; `pages(after, since, first)` walks from after `after` (`first`:
# a fixed page size instead of the adaptive one)
Page = tuple[list[dict], str | None, int | None]
Pages = Callable[[str | None, datetime, int | None], Iterator[Page]]

PROGRESS = fields(
    ("repository", "repository", "text", True), ("resource", "resource", "text", True),
    ("complete", "complete", "bool", True), ("done", "done", "bigint"), ("total", "total", "bigint"),
    ("checked_at", "checked_at", "timestamp", True),
)
PROGRESS_TABLE = (PROGRESS, ("repository", "resource"))


def progress_row(repo: str, resource: str, walk: dict[str, Any] | None, *, complete: bool) -> dict[str, Any]:
    """One `raw_github.sync_progress` row: is the repository's first sync of `resource` done, and how far."""
    walk = walk or {}
    return {"repository": repo, "resource": resource, "complete": complete, "done": walk.get("done"),
            "total": walk.get("total"), "checked_at": datetime.now(UTC)}


def walk_since(walks: dict[str, Any], cursors: Cursors, repo: str, lookback: timedelta = timedelta(0)) -> datetime:
    """The date `desc_walk` first asks from: the interrupted walk's ceiling, else the floor."""
    saved = walks.get(repo)
    return parse_timestamp(saved["ceiling"]) if saved is not None else cursors.start(repo, lookback)


def desc_walk(walks: dict[str, Any], cursors: Cursors, repo: str, pages: Pages, stamp: Callable[[dict], datetime],
              *, lookback: timedelta = timedelta(0), inclusive: bool = False) -> Iterator[list[dict]]:
    """The nodes newer than the floor, page by page, newest first (`inclusive`: the floor itself too). The
    caller processes each page before asking for the next; the walk records it as done only then."""
    saved = walks.get(repo)
    if saved is not None:
        ceiling = parse_timestamp(saved["ceiling"])
        newest = ceiling
        top = next(pages(None, ceiling, 1), ([], None, None))[0]  # one node: a 1-point look at the top
        changed = pages(None, ceiling, None) if top and stamp(top[0]) > ceiling else iter(())
        for nodes, _end, _total in changed:  # what changed since the interrupted walk began
            fresh = [node for node in nodes if stamp(node) > ceiling]
            if fresh:
                yield fresh
                newest = max(newest, *(stamp(node) for node in fresh))
            if len(fresh) < len(nodes):
                break
        saved["ceiling"] = newest.isoformat()
        floor, after = parse_timestamp(saved["floor"]), saved["after"]
    else:
        floor = cursors.start(repo, lookback)
        top, _end, total = next(pages(None, floor, 1), ([], None, None))  # 1 point: anything new at all?
        saved = {"floor": floor.isoformat(), "ceiling": None, "after": None, "done": 0, "total": total}
        if not top or not stamp(top[0]) > floor:  # the node at the floor itself was loaded with it
            return
        after = None
    for nodes, end, total in pages(after, floor, None):
        fresh = [node for node in nodes if _newer(stamp(node), floor, inclusive)]
        if fresh:
            yield fresh
        saved["done"] += len(fresh)
        saved["total"] = total if total is not None else saved["total"]
        if saved["ceiling"] is None and nodes:
            saved["ceiling"] = max(stamp(node) for node in nodes).isoformat()
        saved["after"] = end
        walks[repo] = saved
        if len(fresh) < len(nodes):
            break
    walks.pop(repo, None)
    if saved["ceiling"] is not None:
        cursors.advance(repo, [parse_timestamp(saved["ceiling"])])


def _newer(moment: datetime, floor: datetime, inclusive: bool) -> bool:
    return moment > floor or (inclusive and moment == floor)
