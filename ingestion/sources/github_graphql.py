"""GitHub collection through GraphQL (`SOURCES__GITHUB__API=graphql`, the default): the same raw tables and the
same rows as the REST path, for a fraction of the requests (what each query costs: github_graphql_queries.py).

- Pull requests: a page of them per query, each with its reviews, labels, closing-issue references and its
  commits (without their parents: a parents connection under every commit slot would cost a request per slot);
  each commit's parents follow in batched lookups, and the commits and reviews of the rare pull requests with
  more than 100 follow in the same batched queries, many pull requests a query, paged to their end.
- Issues (`filterBy: {since}`), the default branch's history (`since`) and deployments with their statuses.
- The first page of every repository comes in bulk, several repositories a query: a nightly in which each
  repository changed a little costs a few points, not one per repository and list.
- GraphQL answers are turned back into the REST payload shapes and projected by the REST path's own field
  specs, so both paths validate and convert every field the same way; as on the REST path, each table's rows of
  a page (or of a batch of follow-ups) are projected at once into one Arrow table (`columns.project_records`),
  which dlt loads without its row-by-row normaliser.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.sources import DltResource

from ingestion.errors import SourceError
from ingestion.sources import github_graphql_queries as q
from ingestion.sources.bundles import Records, batched
from ingestion.sources.columns import project_kept
from ingestion.sources.cursors import Cursors
from ingestion.sources.github_graphql_client import BudgetExhausted, GraphQLClient, PageSize
from ingestion.sources.github_walk import Page, Pages, desc_walk, progress_row, walk_since
from ingestion.sources.projection import table_hints
from ingestion.timestamps import isoformat_z, parse_timestamp

HEAD_PAGES = {"pulls": 4, "list": 10}  # the first page of every repository, asked in bulk (a nightly needs little more)


def graphql_resources(client: GraphQLClient, repositories: Sequence[str], start: datetime, *,
                      tables: Mapping[str, Any], specs: Mapping[str, Any], full_refresh: bool,
                      deployment_lookback_hours: int) -> list[DltResource]:
    """The `github` source's resources on GraphQL: pull requests (with their commits and reviews), commits,
    deployments (with statuses) and issues, plus each repository's progress; `specs` are the REST path's field
    specs, `tables` its tables (with `sync_progress`)."""
    fetch = _Fetcher(client, tables)
    lookback = timedelta(hours=deployment_lookback_hours)

    run = _Run(repositories, start, full_refresh, fetch)
    pull_pages = run.walked("pull_requests", q.PULLS, lambda node: parse_timestamp(node["updatedAt"]),
                            fetch.pull_bundle, children=True)
    history_pages = run.walked("commits", q.COMMITS,
                               lambda node: parse_timestamp((node.get("committer") or {})["date"]),
                               lambda repo, nodes: {"commits": fetch.records(nodes, "commit", repo)},
                               inclusive=True)
    deployment_pages = run.walked("deployments", q.DEPLOYMENT_LIST, lambda node: parse_timestamp(node["createdAt"]),
                                  fetch.deployment_bundle, lookback=lookback, inclusive=True)

    issue_pages = dlt.resource(run.issues(), name="issues", selected=False)

    picked = [_rows_of(pull_pages, table, tables) for table in
              ("pull_requests", "pull_request_commits", "pull_request_reviews")]
    picked += [_rows_of(history_pages, "commits", tables), _rows_of(issue_pages, "issues", tables)]
    picked += [_rows_of(deployment_pages, table, tables) for table in ("deployments", "deployment_statuses")]
    parents = (pull_pages, history_pages, deployment_pages, issue_pages)
    progress = [_rows_of(parent, "sync_progress", tables, name=f"{parent.name}_progress") for parent in parents]
    return [*parents, *picked, *progress]


class _Run:
    """What every resource of one run shares: the repositories, `start_date`, whether to start over, the
    fetcher."""

    def __init__(self, repositories: Sequence[str], start: datetime, full_refresh: bool, fetch: _Fetcher) -> None:
        self.repositories, self.start, self.full_refresh, self.fetch = repositories, start, full_refresh, fetch

    def walked(self, resource: str, shape: q.Shape, stamp: Callable[[dict], datetime],
               bundle: Callable[[str, list[dict]], dict[str, Any]], *, lookback: timedelta = timedelta(0),
               inclusive: bool = False, children: bool = False) -> DltResource:
        """A hidden resource (named as the REST one, so both paths share cursors) yielding {table: rows}
        bundles from a resumable newest-first walk per repository, and each repository's progress. The first
        page of every repository comes in bulk; pull requests' long nested lists follow in batches, and those
        of pages already fetched are completed even when the budget stops the walk."""
        def run() -> Iterator[dict[str, Any]]:
            cursors = Cursors(self.start, full_refresh=self.full_refresh)
            walks: dict[str, Any] = dlt.current.resource_state().setdefault("walks", {})
            if self.full_refresh:
                walks.clear()
            head = HEAD_PAGES["pulls" if children else "list"]
            self.fetch.prefetch(shape, [(repo, walk_since(walks, cursors, repo, lookback))
                                        for repo in self.repositories], head)
            stopped = False
            for repo in self.repositories:
                try:
                    if stopped:
                        raise BudgetExhausted("budget spent on an earlier repository")
                    for nodes in desc_walk(walks, cursors, repo, self.fetch.pages_of(shape, repo), stamp,
                                           lookback=lookback, inclusive=inclusive):
                        yield bundle(repo, nodes)
                        if children:
                            yield from self.fetch.flush(full_only=True)
                except BudgetExhausted:
                    stopped = True
                yield {"sync_progress": [progress_row(repo, resource, walks.get(repo), complete=not stopped)]}
            if children:
                yield from self.fetch.flush(full_only=False)

        def batches() -> Iterator[dict[str, Any]]:  # one Arrow table per table and batch of pages (bundles.py)
            yield from batched(run())
        return dlt.resource(batches, name=resource, selected=False)

    def issues(self) -> Callable[[], Iterator[dict[str, Any]]]:
        """Issues oldest change first from the cursor (`filterBy: {since}`): resumable page by page."""
        def run() -> Iterator[dict[str, Any]]:
            cursors = Cursors(self.start, full_refresh=self.full_refresh)
            self.fetch.prefetch(q.ISSUE_LIST, [(repo, cursors.start(repo)) for repo in self.repositories],
                                HEAD_PAGES["list"])
            stopped = False
            for repo in self.repositories:
                try:
                    if stopped:
                        raise BudgetExhausted("budget spent on an earlier repository")
                    yield from _changed_issues(self.fetch, cursors, repo)
                except BudgetExhausted:
                    stopped = True
                yield {"sync_progress": [progress_row(repo, "issues", None, complete=not stopped)]}

        def batches() -> Iterator[dict[str, Any]]:
            yield from batched(run())
        return batches


def _changed_issues(fetch: _Fetcher, cursors: Cursors, repo: str) -> Iterator[dict[str, Any]]:
    since = cursors.start(repo)
    pages = fetch.pages_of(q.ISSUE_LIST, repo)
    probe = next(pages(None, since, 2))[0]  # the bulk first page, else 1 point: `since` is inclusive, look at two
    changed = pages(None, since, None) if any(_stamp(node) > since for node in probe) else iter(())
    for nodes, _end, _total in changed:
        rows = fetch.rows(nodes, "issue", repo)[0]
        rows = rows.filter(pc.greater(rows.column("updated_at"), pa.scalar(since, rows.schema.field("updated_at").type)))
        yield {"issues": rows}
        cursors.advance(repo, rows.column("updated_at").to_pylist())


def _rows_of(pages: DltResource, table: str, tables: Mapping[str, Any], name: str | None = None) -> DltResource:
    """A transformer loading one table's rows (an Arrow table; progress: dicts) from a resource's {table: rows}
    bundles."""
    def pick(bundle: dict[str, Any]) -> Iterator[Any]:
        rows = bundle.get(table)
        if rows is not None and len(rows):
            yield rows
    return dlt.transformer(pick, name=name or f"{table}_rows", table_name=table, data_from=pages,
                           **table_hints(tables[table]))


class _Fetcher:
    """Queries, pagination (bulk first pages, batched follow-ups) and the GraphQL → REST-shape mapping."""

    def __init__(self, client: GraphQLClient, tables: Mapping[str, Any]) -> None:
        self.client, self.tables = client, tables
        self.sizes: dict[int, PageSize] = {}  # per shape: the adaptive page size, at most one point a page
        self.heads: dict[tuple[int, str, str], tuple[Page, bool]] = {}  # (shape, repo, since) → first page
        self.pending: list[q.Pending | q.Lookup] = []  # nested lists still to page, commits' parents to ask
        self.batch = PageSize(q.POINT_REQUESTS)  # repositories or follow-ups in one bulk query
        self.done = self._nested_records()  # follow-ups' rows answered, not yet yielded (`_ready`)

    def size(self, shape: q.Shape) -> PageSize:
        return self.sizes.setdefault(id(shape), PageSize(shape.ceiling()))

    def prefetch(self, shape: q.Shape, wanted: Sequence[tuple[str, datetime]], first: int) -> None:
        """The first page of every (repository, since) in as few one-point queries as fit, kept for the walks.
        A spent budget just stops it: the walks then ask for themselves (and stop on it)."""
        todo = list(wanted)
        first = min(first, shape.ceiling())
        per_query = max(1, (q.POINT_REQUESTS - 1) // shape.requests(first))
        try:
            while todo:
                taken: list[tuple[str, datetime]] = []

                def build(most: int) -> tuple[str, dict[str, Any]]:
                    taken[:] = todo[: max(1, min(most, per_query))]
                    return q.repositories_query([(repo, shape.selection(first, None, since))
                                                 for repo, since in taken]), {}
                data = self.client.query(build, self.batch)
                for i, (repo, since) in enumerate(taken):
                    connection = _dig(data, (f"r{i}", *shape.path), repo)
                    self.heads[(id(shape), repo, isoformat_z(since))] = _page(connection)
                todo = todo[len(taken):]
        except BudgetExhausted:
            return

    def pages_of(self, shape: q.Shape, repo: str) -> Pages:
        """`pages(after, since)`: the pages of the connection `shape` under `repository`, from after the
        cursor `after`, following `endCursor`; the first page from the bulk one when there is one."""
        size = self.size(shape)

        def pages(after: str | None, since: datetime, fixed: int | None = None) -> Iterator[Page]:
            head = self.heads.get((id(shape), repo, isoformat_z(since))) if after is None else None
            if head is not None:
                yield head[0]
                if not head[1]:
                    return
                after = head[0][1]
            while True:
                spare: list[q.Pending | q.Lookup] = []
                groups: list[q.Group] = []

                def build(first: int, after: str | None = after) -> tuple[str, dict[str, Any]]:
                    # the requests the page leaves in its point are filled with queued follow-ups
                    spare[:] = self.pending[: max(0, q.POINT_REQUESTS - shape.requests(fixed or first))]
                    query, groups[:] = q.followup_query(spare, (repo, shape.selection(fixed or first, after, since)))
                    return query, {}
                data = self.client.query(build, size)
                self._took(spare, groups, data)
                page, more = _page(_dig(data, ("r0", *shape.path), repo))
                yield page
                if not more:
                    return
                after = page[1]
        return pages

    def pull_bundle(self, repo: str, nodes: list[dict]) -> dict[str, Records]:
        """A page of pull requests' records with the reviews that came with them (projected by
        `bundles.batched`, many pages together); their commits wait for their parents (`flush`), and longer
        lists are queued too."""
        out = self._nested_records()
        for node in nodes:
            number = node.get("number")
            self._add_reviews(out, repo, number, self._nested(repo, number, node.get("reviews"), "reviews"))
            self._await_parents(repo, number, self._nested(repo, number, node.get("commits"), "commits"))
        return {"pull_requests": self.records(nodes, "pull_request", repo), **out}

    def _nested_records(self) -> dict[str, Records]:
        return {table: Records("github", table, self.tables[table][0], "sha" if table.endswith("commits") else "id")
                for table in ("pull_request_commits", "pull_request_reviews")}

    @staticmethod
    def _add_reviews(out: dict[str, Records], repo: str, number: Any, nodes: list[dict]) -> None:
        out["pull_request_reviews"].add([_review(r) for r in nodes], f"graphql review of {repo}",
                                        repository=repo, pull_request_number=number)

    def _await_parents(self, repo: str, number: Any, nodes: list[dict]) -> None:
        """A pull request's commits, queued for their parents (one `object(oid:)` lookup each)."""
        for node in nodes:
            commit = node.get("commit")
            self.pending.append(q.Lookup(repo, number, commit if isinstance(commit, dict) else {"oid": None}))

    def _nested(self, repo: str, number: Any, connection: Any, field: str) -> list[dict]:
        """The nodes of a pull request's nested connection that came with it; the rest is queued."""
        connection = connection if isinstance(connection, dict) else {}
        nodes = [n for n in connection.get("nodes") or [] if isinstance(n, dict)]
        info = connection.get("pageInfo") or {}
        if info.get("hasNextPage") and info.get("endCursor") and isinstance(number, int):
            self.pending.append(q.Pending(repo, number, field, info["endCursor"]))
        return nodes

    def flush(self, *, full_only: bool) -> Iterator[dict[str, Records]]:
        """Ask the queued follow-ups and parent lookups, 149 (one point) a query, many pull requests of any
        repositories: only while a full batch is queued (`full_only`), else to the end. Not bounded by the
        run's budget: these complete pull requests whose pages were already fetched (an overshoot of a point
        or two)."""
        while self.pending and (not full_only or sum(p.requests() for p in self.pending) >= q.POINT_REQUESTS):
            packed = q.pack(self.pending, lambda item: item.requests())
            batch: list[q.Pending | q.Lookup] = []
            groups: list[q.Group] = []

            def build(most: int) -> tuple[str, dict[str, Any]]:  # a gateway error halves the batch
                batch[:] = packed[: max(1, most)]
                query, groups[:] = q.followup_query(batch)
                return query, {}
            data = self.client.query(build, self.batch, force=True)
            self._took(batch, groups, data)
            yield from self._ready()
        yield from self._ready()

    def _took(self, batch: list[q.Pending | q.Lookup], groups: list[q.Group], data: Mapping[str, Any]) -> None:
        """The answers to the queued items `batch` (the head of the queue) a query asked: rows kept until the
        pull requests' resource yields them (`_ready`), the next pages queued."""
        self.pending = self.pending[len(batch):]
        for alias_r, repo, items in groups:
            for alias, item in items:
                self._answered(self.done, data, (alias_r, alias), repo, item)

    def _ready(self) -> Iterator[dict[str, Records]]:
        """The follow-ups' rows answered so far (by any resource's query), once."""
        if any(len(records) for records in self.done.values()):
            out, self.done = self.done, self._nested_records()
            yield out

    def _answered(self, out: dict[str, Records], data: Mapping[str, Any], path: tuple[str, str], repo: str,
                  item: q.Pending | q.Lookup) -> None:
        """One follow-up's answer: a commit's parents (its row is then complete), or the next page of a pull
        request's reviews (rows) or commits (queued for their parents), and the page after it queued."""
        if isinstance(item, q.Lookup):
            found = _dig(data, path[:1], repo).get(path[1])
            commit = {**item.commit, "parents": found.get("parents") if isinstance(found, Mapping) else None}
            out["pull_request_commits"].add([_commit(commit)], f"graphql commit of {repo}", repository=repo,
                                            pull_request_number=item.number)
            return
        (nodes, end, _total), more = _page(_dig(data, (*path, item.field), repo))
        if item.field == "commits":
            self._await_parents(repo, item.number, nodes)
        else:
            self._add_reviews(out, repo, item.number, nodes)
        if more and end:
            self.pending.append(q.Pending(repo, item.number, item.field, end))

    def deployment_bundle(self, repo: str, nodes: list[dict]) -> dict[str, pa.Table]:
        """A page of deployments and their statuses; a quarantined deployment's statuses are left out."""
        deployments, held = self._rows([_deployment(node) for node in nodes], "deployment", repo, "deployments")
        statuses, ids = [], []
        for index, deployment_id in zip(held, deployments.column("id").to_pylist(), strict=True):
            for status in (nodes[index].get("statuses") or {}).get("nodes") or []:
                statuses.append(_status(status))
                ids.append(deployment_id)
        return {"deployments": deployments,
                "deployment_statuses": self._rows(statuses, "deployment_status", repo, "deployment_statuses",
                                                  deployment_id=ids)[0]}

    def rows(self, nodes: list[dict], kind: str, repo: str) -> tuple[pa.Table, list[int]]:
        """Issues or default-branch commits projected now (see `_rows`)."""
        mapper, table = _MAPPERS[kind]
        return self._rows([mapper(node) for node in nodes], kind, repo, table, "sha" if kind == "commit" else "id")

    def records(self, nodes: list[dict], kind: str, repo: str) -> Records:
        """Pull requests or default-branch commits, to be projected with other pages' (`bundles.batched`)."""
        mapper, table = _MAPPERS[kind]
        return Records("github", table, self.tables[table][0], "sha" if kind == "commit" else "id").add(
            [mapper(node) for node in nodes], f"graphql {kind} of {repo}", repository=repo)

    def _rows(self, items: list[Any], kind: str, repo: str, table: str, id_path: str = "id",
              **extra: Any) -> tuple[pa.Table, list[int]]:
        """Rows of raw table `table` as one Arrow table, and which of `items` they are; a record that breaks its
        contract is quarantined as on the REST path."""
        return project_kept(items, self.tables[table][0], source="github", endpoint=f"graphql {kind} of {repo}",
                            table=table, extra={"repository": repo, **extra}, id_path=id_path)




def _page(connection: Mapping[str, Any]) -> tuple[Page, bool]:
    """(nodes, endCursor, totalCount) of a connection, and whether more follow."""
    info = connection.get("pageInfo") or {}
    nodes = [node for node in connection.get("nodes") or [] if isinstance(node, dict)]
    return (nodes, info.get("endCursor"), connection.get("totalCount")), bool(info.get("hasNextPage"))


# ---------------------------------------------------------------- GraphQL node → REST payload shape

def _dig(data: Mapping[str, Any], path: Sequence[str], repo: str) -> dict:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            raise SourceError(f"GitHub GraphQL: {repo} has no {'.'.join(path)} (repository missing or not visible "
                              "to the token)")
    return value


def _stamp(node: Mapping[str, Any]) -> datetime:
    return parse_timestamp(str(node.get("updatedAt")))


def _login(actor: Any) -> dict | None:
    return {"login": actor.get("login")} if isinstance(actor, Mapping) else None


def _oid(obj: Any) -> Any:
    return obj.get("oid") if isinstance(obj, Mapping) else None


def _names(connection: Any, key: str = "name") -> list[Any]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return [node.get(key) for node in nodes or [] if isinstance(node, Mapping)]


def _int(value: Any) -> Any:
    """BigInt arrives as a string; anything else is left for the projection to reject."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _pull(node: Mapping[str, Any]) -> dict:
    labels = [name for name in _names(node.get("labels")) if name]
    closing = [str(number) for number in _names(node.get("closingIssuesReferences"), "number") if number]
    return {
        "id": _int(node.get("fullDatabaseId")), "number": node.get("number"), "title": node.get("title"),
        "body": node.get("body") or None, "state": "open" if node.get("state") == "OPEN" else "closed",
        "draft": node.get("isDraft"), "user": _login(node.get("author")),
        "head": {"ref": node.get("headRefName"), "sha": node.get("headRefOid")},
        "base": {"ref": node.get("baseRefName")}, "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"), "closed_at": node.get("closedAt"), "merged_at": node.get("mergedAt"),
        "merge_commit_sha": _oid(node.get("mergeCommit")) or _oid(node.get("potentialMergeCommit")),
        "merged_by": _login(node.get("mergedBy")), "additions": node.get("additions"),
        "deletions": node.get("deletions"), "changed_files": node.get("changedFiles"),
        "commits": (node.get("commits") or {}).get("totalCount"),
        "label_names": ",".join(labels) or None, "closing_issue_numbers": ",".join(closing) or None,
    }


def _commit(node: Any) -> Any:
    if not isinstance(node, Mapping):
        return node
    author, committer = node.get("author") or {}, node.get("committer") or {}
    return {
        "sha": node.get("oid"), "parents": [{"sha": oid} for oid in _names(node.get("parents"), "oid")],
        "commit": {"message": node.get("message"),
                   "author": {"name": author.get("name"), "email": author.get("email"), "date": author.get("date")},
                   "committer": {"email": committer.get("email"), "date": committer.get("date")}},
        "author": author.get("user"),
    }


def _review(node: Mapping[str, Any]) -> dict:
    return {"id": _int(node.get("fullDatabaseId")), "user": _login(node.get("author")), "state": node.get("state"),
            "submitted_at": node.get("submittedAt"), "commit_id": _oid(node.get("commit"))}


def _issue(node: Mapping[str, Any]) -> dict:
    assignees = _names(node.get("assignees"), "login")
    labels = [name for name in _names(node.get("labels")) if name]
    milestone = node.get("milestone")
    return {
        "id": _int(node.get("fullDatabaseId")), "number": node.get("number"), "title": node.get("title"),
        "body": node.get("body") or None, "state": _lower(node.get("state")),
        "state_reason": _lower(node.get("stateReason")), "user": _login(node.get("author")),
        "assignee": {"login": assignees[0]} if assignees else None, "label_names": ",".join(labels) or None,
        "milestone": {"title": milestone.get("title"), "due_on": milestone.get("dueOn")}
        if isinstance(milestone, Mapping) else None, "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"), "closed_at": node.get("closedAt"),
    }


def _deployment(node: Mapping[str, Any]) -> dict:
    """GraphQL has no `production_environment`: GitHub's own default applies (true for `production`)."""
    ref = node.get("ref")
    environment = node.get("environment")
    return {
        "id": node.get("databaseId"), "sha": node.get("commitOid"),
        "ref": ref.get("name") if isinstance(ref, Mapping) else None, "task": node.get("task"),
        "environment": environment, "description": node.get("description"), "creator": _login(node.get("creator")),
        "production_environment": environment == "production" if isinstance(environment, str) else None,
        "created_at": node.get("createdAt"), "updated_at": node.get("updatedAt"),
    }


def _status(node: Mapping[str, Any]) -> dict:
    return {"id": database_id(node.get("id")), "state": _lower(node.get("state")),
            "environment": node.get("environment"), "description": node.get("description"),
            "creator": _login(node.get("creator")), "created_at": node.get("createdAt"),
            "updated_at": node.get("updatedAt")}


def database_id(node_id: Any) -> Any:
    """The database id inside a global node id. GraphQL has no `databaseId` on a DeploymentStatus; its node id
    carries one: legacy ids are base64 of `NN:TypeNAME<id>`, new ones `PREFIX_` + base64url(msgpack([0, …, id]))."""
    if not isinstance(node_id, str):
        return node_id
    try:
        if "_" in node_id:
            payload = node_id.split("_", 1)[1]
            return _msgpack_last_int(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        match = re.fullmatch(r"\d+:[A-Za-z]+?(\d+)", base64.b64decode(node_id).decode())
        return int(match.group(1)) if match else node_id
    except (ValueError, UnicodeDecodeError):
        return node_id


def _msgpack_last_int(data: bytes) -> Any:
    """The last unsigned integer of a msgpack array of integers (all GitHub's new node ids hold)."""
    widths = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    position, last = 1, None
    while position < len(data):
        marker = data[position]
        if marker < 0x80:
            last, position = marker, position + 1
        elif marker in widths:
            width = widths[marker]
            last = int.from_bytes(data[position + 1: position + 1 + width], "big")
            position += 1 + width
        else:
            raise ValueError("not an integer array")
    return last


_MAPPERS: dict[str, tuple[Callable[[Any], Any], str]] = {  # kind → (GraphQL node → REST shape, raw table)
    "pull_request": (_pull, "pull_requests"), "commit": (_commit, "commits"), "issue": (_issue, "issues")}
