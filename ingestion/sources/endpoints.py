"""Endpoints as data: each API source declares its endpoints in one table of `Endpoint`s, and one generic
incremental resource (`resources`) walks it. Modelled on dlt's `rest_api` declarative config (path, params,
paginator, data selector, incremental, parent → child resources), on our own client (`ApiClient`: dlt's
RESTClient with retries and one-line errors), projection (`projection.py`) and per-key cursors (`cursors.py`).

What an `Endpoint` says, and what the walker does with it:

- `path` with `{key}` (the partition: a repository, project, job or board; `keys` are given per source) and,
  for a child, `{parent[<column>]}` (a column of the parent's row): one listing per key or per parent row,
  paged by the endpoint's `paginator` (else the client's), the records under `data_selector`;
- `fields` and `primary_key`: the projection onto the raw table (plus the `key_column` and the `parent`
  columns), each page validated and bad records quarantined with their reason;
- `incremental`: the query parameter that receives the cursor's start (the stored mark minus the look-back),
  whether the listing is newest first (stop at the first record older than the start), a client-side filter
  (`after`: `>` or `>=`), and the column the mark advances on (never past now; see `cursors.py`). On a child,
  `incremental` compares the parent row's column with the child's own mark, so a child is re-read only for
  parents that changed since the last sync;
- `detail`: every listed record is read again in full from this path (GitHub pull requests, GitLab pipelines);
- `children`: child endpoints read once per parent row with the parent's page, before the next page is asked
  (optionally a few parents at a time in worker threads, `parallel`; or a `batch` child, read for many parents
  at once, its parents pooled across the keys' pages until a batch is full or the listing ends:
  endpoint_batches.py); a hidden resource yields each page's
  rows with its children's and a transformer per table picks them (as the GitHub GraphQL path does);
- pages reach dlt merged into batches of about 5,000 rows (`bundles.batched`, as the GraphQL path's): dlt's
  cost per item is high, and a REST page holds 50 or 100 records;
- a budget (`BudgetExhausted` from the client: GitHub's SOURCES__GITHUB__MAX_REQUESTS_PER_RUN) stops a listing
  cleanly: what was fetched loads, no mark moves past what was not, and the next sync resumes. An oldest-first
  listing's mark moves page by page; a newest-first one is `resumable` (`Incremental.resumable`: the walk of
  github_walk.py, the one the GraphQL path uses, its pages' `Link` kept); the parents of a page the budget cut
  that were done are kept and skipped when that page is read again; a child's mark stays as the walk began
  until the walk is done; the stopped listing's ETags are forgotten (a `304` would hide the page). With
  `Walk.progress`, each key's progress goes to `sync_progress` (`yardstick status`: complete or partial);
- `pages` + `embedded`: the listing's raw pages come from a hidden resource (which keeps the cursor) and
  several raw tables are built from each page (PagerDuty log entries and their incidents, Jira issues and their
  changelog items).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.paginators import BasePaginator

from ingestion.sources.budget import BudgetExhausted
from ingestion.sources.bundles import batched
from ingestion.sources.client import ApiClient
from ingestion.sources.columns import from_rows, project_records
from ingestion.sources.cursors import Clock, Cursors, utc_now
from ingestion.sources.endpoint_batches import Wait, pooled
from ingestion.sources.endpoint_marks import ChildMarks, cursor_key, fetch_all
from ingestion.sources.github_walk import PROGRESS_TABLE, desc_walk, progress_row
from ingestion.sources.projection import Field, guarded, lookup, table_hints
from ingestion.timestamps import isoformat_z, parse_timestamp

Bundle = dict[str, Any]  # table → a page's rows (Arrow) and its children's, or progress rows
PROGRESS = "sync_progress"  # each key's progress (GitHub: `yardstick status` shows complete or partial)
CHILD_WORKERS = 5  # a `parallel` child's requests in flight (dlt's default extract workers)
PARENT_BATCH = 10  # parents read in full and given their children together: what a budget-cut page keeps


@dataclass(frozen=True)
class Incremental:
    """How an endpoint reads only what changed since its cursor (one mark per key, in dlt's resource state)."""

    field: str  # the projected column with the record's change time
    fallback: str | None = None  # the column used when `field` is null (e.g. `created_at`)
    param: str | None = None  # the query parameter that receives the start
    param_format: Callable[[datetime], str] = isoformat_z
    lookback: timedelta = timedelta(0)  # re-read this much before the mark (records that change after they appear)
    newest_first: bool = False  # the listing is newest first: stop after the first page with an older record
    after: str | None = None  # client-side filter on `field`: ">" (strictly newer than the start) or ">="
    advance_if: Callable[[Mapping[str, Any]], bool] | None = None  # rows that may move the mark (default: all)
    resumable: bool = False  # newest first, walked resumably by github_walk.desc_walk (see `_walked`)

    def value(self, row: Mapping[str, Any]) -> datetime | None:
        value = row.get(self.field)
        return row.get(self.fallback) if value is None and self.fallback else value

    def column(self, table: pa.Table) -> pa.ChunkedArray:
        values = table.column(self.field)
        return pc.coalesce(values, table.column(self.fallback)) if self.fallback else values

    def fresh(self, table: pa.Table, since: datetime) -> pa.Table:
        """The rows the client-side filter keeps (`after`: newer than, or at or after, the start)."""
        if self.after is None:
            return table
        compare = pc.greater if self.after == ">" else pc.greater_equal
        return table.filter(compare(self.column(table), pa.scalar(since, self.column(table).type)))

    def values(self, table: pa.Table) -> list[datetime | None]:
        """The change times the mark may advance on."""
        if self.advance_if is None:
            return self.column(table).to_pylist()
        return [self.value(row) for row in table.to_pylist() if self.advance_if(row)]


@dataclass(frozen=True)
class Embedded:
    """A raw table built from each raw page of a `pages` endpoint, without requests of its own (or with
    requests `build` makes itself, e.g. a truncated Jira changelog)."""

    table: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    endpoint: str = ""  # the endpoint named in the quarantine
    records: Callable[[list[Any]], Iterable[Any]] | None = None  # the page's records for this table
    build: Callable[[Any], Any] | None = None  # record → row(s), instead of projecting `fields`
    id_path: str = "id"


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint and the raw table it fills (see the module docstring)."""

    table: str
    path: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ("id",)
    key_column: str | None = None  # the raw column that holds the key (repository, project, …)
    key_type: str = "text"
    parent: Mapping[str, str] = field(default_factory=dict)  # child column → the parent row's column
    params: Mapping[str, Any] = field(default_factory=dict)
    data_selector: str | None = None
    paginator: Callable[[], BasePaginator] | None = None
    id_path: str = "id"
    incremental: Incremental | None = None
    detail: str | None = None  # path of each listed record's full form: `{key}` and `{record[<column>]}`
    list_fields: tuple[Field, ...] = ()  # the projection of a listed record when `detail` reads it in full
    prepare: Callable[[Any, Any, str], Any] | None = None  # (record, key, path) → the record projected
    record_id: Callable[[Any, Any], Any] | None = None  # (record, key) → its id, when not at `id_path`
    keep: Callable[[Any], bool] | None = None  # records of the listing that belong to this table
    children: tuple[Endpoint, ...] = ()
    parallel: bool = False  # a child read in dlt's worker threads (one request per parent row)
    # a child read for many parents at once, pooled across the listing's keys (endpoint_batches.py):
    # (walk, child, parents) → each parent's raw pages as a child's (GitHub's Actions jobs through GraphQL, the
    # runs of several repositories in one query of 100)
    batch: Callable[[Walk, Endpoint, list[dict[str, Any]]], list[list[Any]]] | None = None
    pages: str | None = None  # the hidden resource that yields the raw pages (keeps the cursor)
    embedded: tuple[Embedded, ...] = ()
    cursor_key: str | None = None  # the cursor's key when the endpoint has no keys (e.g. "issues")

    @property
    def columns(self) -> tuple[Field, ...]:
        """The raw table's columns: key, parent columns, then the projected fields."""
        head = [Field(self.key_column, self.key_column, self.key_type, True)] if self.key_column else []
        parents = [Field(c, c, "bigint", True) for c in self.parent]
        return tuple(head + parents) + self.fields


def tables(*endpoints: Endpoint) -> dict[str, tuple[Sequence[Field], tuple[str, ...]]]:
    """table → (columns, primary key) of every raw table the endpoints (children and embedded included) write."""
    out: dict[str, tuple[Sequence[Field], tuple[str, ...]]] = {}
    for endpoint in endpoints:
        out[endpoint.table] = (endpoint.columns, endpoint.primary_key)
        out.update((e.table, (e.fields, e.primary_key)) for e in endpoint.embedded)
        out.update(tables(*endpoint.children))
    return out


def with_lookback(endpoint: Endpoint, lookback: timedelta) -> Endpoint:
    """The endpoint (and its children) with `lookback` wherever the table declares one (a source setting such as
    `lookback_hours` overrides the table's default)."""
    inc = endpoint.incremental
    if inc is not None and inc.lookback:
        inc = replace(inc, lookback=lookback)
    return replace(endpoint, incremental=inc,
                   children=tuple(with_lookback(child, lookback) for child in endpoint.children))


@dataclass
class Walk:
    """What the walker needs besides the endpoint table: the client, the keys, and the cursor settings."""

    api: ApiClient
    source: str
    start: datetime
    keys: Callable[[], Iterable[Any]] = lambda: [None]
    key_in_path: Callable[[Any], str] = str
    full_refresh: bool = False
    clock: Clock = utc_now  # "now" for the cursors (a mark never passes it)
    progress: bool = False  # each key's progress into `sync_progress` (complete, or partial: see `_listing`)
    stopped: list[str] = field(default_factory=list)  # the endpoints a spent budget stopped in this sync

    def rows(self, endpoint: Endpoint, items: Sequence[Any], path: str, key: Any, extra: Mapping[str, Any],
             fields_: tuple[Field, ...] | None = None) -> pa.Table:
        """Project a page onto the endpoint's table (an Arrow table), quarantining the records that break the
        contract."""
        return self.gathered(endpoint, [(items, path, key, extra)], fields_)

    def gathered(self, endpoint: Endpoint, pages: Sequence[tuple[Sequence[Any], str, Any, Mapping[str, Any]]],
                 fields_: tuple[Field, ...] | None = None) -> pa.Table:
        """Project the records of several pages (page, path, key, constant columns) in one go: Arrow's cost per
        table is fixed, so a child's pages (a few records each) are projected together."""
        columns = endpoint.columns[:len(endpoint.columns) - len(endpoint.fields)] + (fields_ or endpoint.fields)
        tagged = [(item, path, key) for items, path, key, _ in pages for item in items
                  if endpoint.keep is None or endpoint.keep(item)]
        counts = [sum(1 for item in items if endpoint.keep is None or endpoint.keep(item)) for items, *_ in pages]
        names = {name for *_, extra in pages for name in extra}
        extra = {name: [value for (*_, page_extra), n in zip(pages, counts, strict=True)
                        for value in [page_extra[name]] * n] for name in names}
        prepare = (lambda t: endpoint.prepare(t[0], t[2], t[1])) if endpoint.prepare else (lambda t: t[0])
        record_id = (lambda t: endpoint.record_id(t[0], t[2])) if endpoint.record_id else \
            (lambda t: lookup(t[0], endpoint.id_path) if isinstance(t[0], Mapping) else None)
        return project_records(tagged, columns, source=self.source, endpoint=[path for _, path, _ in tagged],
                               table=endpoint.table, extra=extra, id_path=endpoint.id_path, prepare=prepare,
                               id_of=record_id, payload=lambda t: t[0])

    def path(self, template: str, key: Any, **rows: Mapping[str, Any]) -> str:
        return template.format(key=self.key_in_path(key) if key is not None else "", **rows)


def resources(walk: Walk, endpoint: Endpoint) -> list[DltResource]:
    """The dlt resources of one top-level endpoint: its own (or its hidden pages resource and the tables
    embedded in each page), or, for a listing, a hidden resource yielding each page's rows with its children's
    ({table: rows} bundles: a page counts as done only once its children are fetched) and a transformer per
    table picking them."""
    if endpoint.pages:
        def pages() -> Iterator[list[Any]]:
            yield from _pages(walk, endpoint)

        def own(page: list[Any]) -> Iterator[pa.Table]:
            yield from _nonempty(walk.rows(endpoint, page, endpoint.path, None, {}))

        hidden = dlt.resource(pages, name=endpoint.pages, selected=False)
        return [hidden, dlt.transformer(own, data_from=hidden, name=endpoint.table, **_hints(walk, endpoint)),
                *(_embedded_resource(walk, e, hidden) for e in endpoint.embedded)]

    if not (endpoint.children or endpoint.detail or walk.progress):  # one table: the listing loads it itself
        def rows() -> Iterator[pa.Table | None]:
            for bundle in batched(_listing(walk, endpoint)):
                yield bundle.get(endpoint.table)  # None for a page held back: dlt goes on to its next resource

        return [dlt.resource(rows, name=endpoint.table, **_hints(walk, endpoint))]

    def listing() -> Iterator[Bundle]:
        yield from batched(_listing(walk, endpoint))

    # the hidden resource keeps the endpoint's name, so its cursors stay where they were
    if any(child.children for child in endpoint.children):
        raise ValueError(f"{endpoint.table}: the walker reads children, not their children")
    hidden = dlt.resource(listing, name=endpoint.table, selected=False)
    specs = dict(tables(endpoint))
    if walk.progress:
        specs[PROGRESS] = PROGRESS_TABLE
    return [hidden, *(_picked(hidden, table, spec) for table, spec in specs.items())]


def _nonempty(table: pa.Table) -> Iterator[pa.Table]:
    if table.num_rows:
        yield table


def _hints(walk: Walk, endpoint: Endpoint) -> dict[str, Any]:
    return table_hints(tables(endpoint)[endpoint.table])


def _picked(hidden: DltResource, table: str, spec: Any) -> DltResource:
    """A transformer loading one table's rows from the listing's bundles."""
    def pick(bundle: Bundle) -> Iterator[Any]:
        rows = bundle.get(table)
        if rows is not None and len(rows):
            yield rows
    name = f"{table}_rows" if table != PROGRESS else f"{hidden.name}_progress"
    return dlt.transformer(pick, data_from=hidden, name=name, table_name=table, **table_hints(spec))


def _embedded_resource(walk: Walk, embedded: Embedded, pages: DltResource) -> DltResource:
    def embedded_rows(page: list[Any]) -> Iterator[pa.Table]:
        records = list(embedded.records(page)) if embedded.records else page
        if embedded.build is None:
            yield from _nonempty(project_records(records, embedded.fields, source=walk.source,
                                                 endpoint=embedded.endpoint, table=embedded.table,
                                                 id_path=embedded.id_path))
            return
        rows = guarded(records, embedded.table, embedded.build,
                       lambda item: lookup(item, embedded.id_path) if isinstance(item, Mapping) else None)
        yield from _nonempty(from_rows(rows, embedded.fields))

    return dlt.transformer(embedded_rows, data_from=pages, name=embedded.table,
                           **table_hints((embedded.fields, embedded.primary_key)))


# ---------------------------------------------------------------------------------------------- listings


def _params(endpoint: Endpoint, since: datetime | None) -> dict[str, Any]:
    params = dict(endpoint.params)
    inc = endpoint.incremental
    if inc is not None and inc.param and since is not None:
        params[inc.param] = inc.param_format(since)
    return params


def _listing(walk: Walk, endpoint: Endpoint) -> Iterator[Bundle]:
    """Every key's records since its cursor, validated, with their children. A spent budget stops the listing
    cleanly: what was fetched loads, no mark passes what was not, and the next sync resumes."""
    state = dlt.current.resource_state()
    cursors = Cursors(walk.start, full_refresh=walk.full_refresh, clock=walk.clock)
    walks: dict[str, Any] = state.setdefault("walks", {})
    if walk.full_refresh:
        walks.clear()
    kids = ChildMarks(walk.start, endpoint.children, full_refresh=walk.full_refresh, clock=walk.clock)
    # each key's listing a generator: a batch child's parents wait, pooled across keys (endpoint_batches.py)
    yield from pooled(walk, (_one_key(walk, endpoint, state, cursors, walks, kids, key) for key in walk.keys()))


def _one_key(walk: Walk, endpoint: Endpoint, state: Any, cursors: Cursors, walks: dict[str, Any],
             kids: ChildMarks, key: Any) -> Generator[Any, Any, None]:
    """One key's listing (its bundles, and a `Wait` where a page waits for a batch child), then its progress."""
    inc = endpoint.incremental
    complete, started = False, not walk.stopped
    try:
        if not started:
            raise BudgetExhausted("spent on an earlier listing")
        yield from _walked(walk, endpoint, cursors, walks, kids, key) if inc and inc.resumable \
            else _key_listing(walk, endpoint, cursors, kids, key)
        complete = True
    except BudgetExhausted:
        _stopped(walk, endpoint, key, state.get("etags") if started else None)
    if walk.progress:
        walked = walks.get(cursor_key(endpoint, key))
        yield {PROGRESS: [progress_row(str(key), endpoint.table, walked, complete=complete)]}


def _stopped(walk: Walk, endpoint: Endpoint, key: Any, etags: dict[str, Any] | None) -> None:
    """The budget stopped this key's listing: a one-line notice (once per endpoint), and, when it had begun, the
    listing's stored ETags forgotten (a `304` next time would hide a page whose children were not all fetched)."""
    if endpoint.table not in walk.stopped:
        walk.stopped.append(endpoint.table)
        print(f"{walk.source}: {endpoint.table}: this run's request budget is spent; stopped at {key or 'the listing'}"
              " with what was fetched so far loaded; the next run resumes there", file=sys.stderr, flush=True)
    prefix = walk.path(endpoint.path, key)
    for url in [url for url in (etags or {}) if walk.api.relative(url).startswith(prefix)]:
        del etags[url]  # type: ignore[index]


def _key_listing(walk: Walk, endpoint: Endpoint, cursors: Cursors, kids: ChildMarks,
                 key: Any) -> Generator[Any, Any, None]:
    """One key's listing, its mark moving page by page (a budget can stop only an oldest-first one of these; a
    newest-first one that it can stop is `resumable`)."""
    inc = endpoint.incremental
    mark = cursor_key(endpoint, key)
    since = cursors.start(mark, inc.lookback) if inc else None
    path = walk.path(endpoint.path, key)
    extra = {endpoint.key_column: key} if endpoint.key_column else {}
    before = cursors.mark(mark)
    try:
        for page in _raw_pages(walk, endpoint, path, since):
            listed = walk.rows(endpoint, page, path, key, extra, endpoint.list_fields or None)
            fresh = inc.fresh(listed, since) if inc and since is not None else listed
            rows = (yield from _bundled(walk, endpoint, kids, key, fresh, extra))[endpoint.table]
            if inc:
                cursors.advance(mark, inc.values(rows))
            if inc and inc.newest_first and fresh.num_rows < listed.num_rows:
                break
        kids.end(mark)
    except BudgetExhausted:
        moved = cursors.mark(mark)
        if moved is not None and moved != before:
            # records stamped the same second may straddle the page the budget cut: read that second again
            cursors.hold(mark, moved - timedelta(microseconds=1))
        raise


def _walked(walk: Walk, endpoint: Endpoint, cursors: Cursors, walks: dict[str, Any], kids: ChildMarks,
            key: Any) -> Generator[Any, Any, None]:
    """One key's newest-first listing as a resumable walk (github_walk.desc_walk): its mark moves only once the
    walk is complete; a stopped walk keeps where it was (the next page's link) and resumes there."""
    inc = endpoint.incremental
    assert inc is not None
    mark = cursor_key(endpoint, key)
    saved = walks.get(mark)
    floor = parse_timestamp(saved["floor"]) if saved else cursors.start(mark, inc.lookback)
    kids.begin(mark)
    listing = _Listing(walk, endpoint, key)
    extra = {endpoint.key_column: key} if endpoint.key_column else {}
    for nodes in desc_walk(walks, cursors, mark, listing, lambda row: inc.value(row) or floor,
                           lookback=inc.lookback, inclusive=inc.after != ">"):
        yield from _bundled(walk, endpoint, kids, key, pa.Table.from_pylist(nodes, schema=listing.schema), extra)
    kids.end(mark)


class _Listing:
    """One key's listing as github_walk's `Pages`: `(rows, next page's link, total)` per page, from the top
    (`after` None; the first page asked once, then kept) or from a saved link."""

    def __init__(self, walk: Walk, endpoint: Endpoint, key: Any) -> None:
        self.walk, self.endpoint, self.key = walk, endpoint, key
        self.path = walk.path(endpoint.path, key)
        self.schema: pa.Schema | None = None
        self.head: dict[str, tuple[list[dict], str | None, int | None]] = {}

    def __call__(self, after: str | None, since: datetime, first: int | None = None) -> Iterator[
            tuple[list[dict], str | None, int | None]]:
        top = isoformat_z(since)
        if after is None and top in self.head:
            page = self.head[top]
            yield page
            if page[1] is None:
                return
            after = page[1]
        for number, raw in enumerate(_raw_pages(self.walk, self.endpoint, after or self.path,
                                                None if after else since, params=after is None)):
            page = (self._rows(raw), self._next(raw), self._total(raw))
            if after is None and number == 0:
                self.head[top] = page
            yield page

    def _rows(self, raw: list[Any]) -> list[dict]:
        extra = {self.endpoint.key_column: self.key} if self.endpoint.key_column else {}
        table = self.walk.rows(self.endpoint, raw, self.path, self.key, extra, self.endpoint.list_fields or None)
        self.schema = table.schema
        return table.to_pylist()

    def _next(self, raw: list[Any]) -> str | None:
        paginator = getattr(raw, "paginator", None)
        url = getattr(paginator, "_next_reference", None) if paginator is not None and paginator.has_next_page \
            else None
        return self.walk.api.relative(url) if url else None

    def _total(self, raw: list[Any]) -> int | None:
        response = getattr(raw, "response", None)
        if response is None or not self.endpoint.data_selector or response.status_code != 200:
            return None
        body = response.json()
        total = body.get("total_count") if isinstance(body, dict) else None
        return total if isinstance(total, int) else None


def _raw_pages(walk: Walk, endpoint: Endpoint, path: str, since: datetime | None, *,
               params: bool = True) -> Iterator[list[Any]]:
    kwargs: dict[str, Any] = {"params": _params(endpoint, since) if params else {}}
    if endpoint.data_selector:
        kwargs["data_selector"] = endpoint.data_selector
    if endpoint.paginator:
        kwargs["paginator"] = endpoint.paginator()
    yield from walk.api.pages(path, **kwargs)


def _bundled(walk: Walk, endpoint: Endpoint, kids: ChildMarks, key: Any, fresh: pa.Table,
             extra: Mapping[str, Any]) -> Generator[Any, Any, Bundle]:
    """A page's rows (read in full when the endpoint has a `detail`) and their children's, as one bundle: the
    parent rows as one table and each child's records projected together (Arrow's and dlt's cost per table is
    fixed, so one table per parent would cost more than the rows). When the budget stops it, what was fetched
    is yielded, the parents done are kept (the next sync, reading the page again, does not fetch them again),
    and BudgetExhausted is raised: the page is not done."""
    if not endpoint.detail and not endpoint.children:
        bundle = {endpoint.table: fresh}
        yield from _nonempty_bundle(bundle)
        return bundle
    mark = cursor_key(endpoint, key)
    todo = kids.todo(mark, fresh)
    parents = todo.to_pylist()
    workers = CHILD_WORKERS if any(child.parallel for child in endpoint.children) else 1
    pages: dict[str, list[Any]] = {child.table: [] for child in endpoint.children}
    stopped = not (yield from _batched(endpoint, kids, parents, pages))
    done = [] if stopped else fetch_all([partial(_one_parent, walk, endpoint, kids, key, parent, extra)
                                         for parent in parents], workers)
    own: list[tuple[list[Any], str, Any, Mapping[str, Any]]] = []
    for parent, (detail, children, complete) in zip(parents if done else [], done, strict=True):
        own += detail
        for table, child_pages in children.items():
            pages[table] += child_pages
        if complete:
            kids.did(parent, endpoint.children)
        stopped = stopped or not complete
    bundle = {endpoint.table: walk.gathered(endpoint, own) if endpoint.detail else todo,
              **{child.table: walk.gathered(child, pages[child.table]) for child in endpoint.children}}
    if stopped:  # a resumable walk's children compare with the marks as it began: theirs may move
        kids.cut(mark, advance=bool(endpoint.incremental and endpoint.incremental.resumable))
        yield bundle
        raise BudgetExhausted("spent while reading the children of a page")
    kids.advance()
    yield from _nonempty_bundle(bundle)
    return bundle


def _nonempty_bundle(bundle: Bundle) -> Iterator[Bundle]:
    if any(len(rows) for rows in bundle.values()):
        yield bundle


# ---------------------------------------------------------------------------------------------- children


def _batched(endpoint: Endpoint, kids: ChildMarks, parents: list[dict[str, Any]],
             pages: dict[str, list[Any]]) -> Generator[Wait, Any, bool]:
    """The pages of the children read for many parents at once (`batch`), of the parents changed since each
    child's mark: the listing waits (`Wait`) until `pooled` fetched them with other pages' parents; False when
    the budget stopped that batch (no parent of the page is then done)."""
    for child in endpoint.children:
        if child.batch is None:
            continue
        changed = [p for p in parents if child.incremental is None
                   or kids.changed(child, p.get(child.key_column) if child.key_column else None, p) is not None]
        if not changed:
            continue
        got = yield Wait(child, changed)
        if got is None:
            return False
        pages[child.table] += got
    return True


def _one_parent(walk: Walk, endpoint: Endpoint, kids: ChildMarks, key: Any, parent: Mapping[str, Any],
                extra: Mapping[str, Any]) -> tuple[list[Any], dict[str, list[Any]], bool]:
    """One listed parent read in full (`detail`) and its children's raw pages (each with its path, key and the
    parent's columns; an incremental child only when the parent changed since the child's mark), and whether
    all of it was read: a spent budget stops it part way."""
    detail: list[Any] = []
    children: dict[str, list[Any]] = {}
    try:
        if endpoint.detail:
            path = walk.path(endpoint.detail, key, record=parent)
            detail.append(([walk.api.get(path)], path, key, extra))
        for child in endpoint.children:
            child_key = parent.get(child.key_column) if child.key_column else None
            children[child.table] = []
            if child.batch is not None or (child.incremental is not None
                                           and kids.changed(child, child_key, parent) is None):
                continue
            path = walk.path(child.path, child_key, parent=parent)
            columns = {**({child.key_column: child_key} if child.key_column else {}),
                       **{column: parent[source] for column, source in child.parent.items()}}
            children[child.table] += [(page, path, child_key, columns) for page in _raw_pages(walk, child, path, None)]
    except BudgetExhausted:
        return detail, children, False
    return detail, children, True


# ---------------------------------------------------------------------------------------------- pages


def _pages(walk: Walk, endpoint: Endpoint) -> Iterator[list[Any]]:
    """The raw pages of a key-less endpoint since its cursor; the cursor advances on the projected rows."""
    cursors = Cursors(walk.start, full_refresh=walk.full_refresh, clock=walk.clock)
    inc = endpoint.incremental
    mark = cursor_key(endpoint, None)
    since = cursors.start(mark, inc.lookback) if inc else None
    for page in _raw_pages(walk, endpoint, endpoint.path, since):
        rows = walk.rows(endpoint, page, endpoint.path, None, {})
        yield page
        if inc:
            cursors.advance(mark, inc.values(rows))
