"""GitHub's GraphQL schema and the price of a query, for the replay servers (github_graphql.py answers the
queries): GitHub's documented formula (one request per connection and node that holds it, the nodes of
``nodes(ids:)`` included, divided by 100, at least 1), its limits (500,000 nodes, ``first``/``last`` of at most 100
on every connection) and the points budget a token spends per hour."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    get_named_type,
    value_from_ast_untyped,
)

SCHEMA_PATH = Path(__file__).with_name("github_schema.graphql")
MAX_NODES = 500_000
MAX_PAGE = 100
POINTS_PER_HOUR = 5000


@functools.cache
def schema() -> GraphQLSchema:
    """GitHub's schema, built once per process (about 3 s). Strict SDL validation is skipped: the public SDL
    defines two fields twice, which GitHub's own server tolerates."""
    return build_schema(SCHEMA_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True)


class PointsBudget:
    """GitHub's GraphQL primary limit: points per hour, shared by all queries of one token."""

    def __init__(self, limit: int = POINTS_PER_HOUR) -> None:
        self.limit = limit
        self.used = 0
        self.by_shape: dict[str, list[int]] = {}  # query shape → [queries, points]: where the points go
        self.reset_at = int(time.time()) + 3600
        self._lock = threading.Lock()

    def charge(self, cost: int) -> bool:
        """Take `cost` points; False (nothing taken) when the budget cannot pay for the query."""
        with self._lock:
            now = int(time.time())
            if now >= self.reset_at:
                self.used, self.reset_at = 0, now + 3600
            if self.used + cost > self.limit:
                return False
            self.used += cost
            return True

    def record(self, shape: str, cost: int) -> None:
        with self._lock:
            tally = self.by_shape.setdefault(shape, [0, 0])
            tally[0] += 1
            tally[1] += cost

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Used": str(self.used), "X-RateLimit-Reset": str(self.reset_at),
                "X-RateLimit-Resource": "graphql"}


class PaginationError(ValueError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def query_cost(document: DocumentNode, variables: Mapping[str, Any]) -> tuple[int, int]:
    """(points, nodes) of the document's operation: each connection is one request per node that holds it
    and `first`/`last` nodes per request; points are requests / 100, rounded, at least 1."""
    points, nodes, _shape = priced(document, variables)
    return points, nodes


def query_requests(document: DocumentNode, variables: Mapping[str, Any]) -> tuple[int, int, list[str]]:
    """(requests, nodes, outermost connections) of the document's operation, before rounding to points."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    totals: list[Any] = [0, 0, []]  # requests, nodes, names of the connections no other connection holds
    for op in document.definitions:
        if isinstance(op, OperationDefinitionNode):
            root = schema().get_root_type(op.operation)
            _walk(op.selection_set, root, 1, fragments, dict(variables), totals)
    return totals[0], totals[1], totals[2]


def priced(document: DocumentNode, variables: Mapping[str, Any]) -> tuple[int, int, str]:
    """(points, nodes, shape): the shape names the query by its outermost connections (`pullRequests`,
    `commits+reviews`, …), for counting where the points go."""
    requests, nodes, outer = query_requests(document, variables)
    return points(requests), nodes, "+".join(sorted(set(outer))) or "(no connection)"


def points(requests: int) -> int:
    """GitHub's docs: the requests divided by 100, rounded to the nearest whole number, at least 1. A half rounds
    up (the docs name no rule for it; GitHub's server is Ruby, whose `round` takes a half away from zero, where
    Python's `round` would take 250 requests to 2 points, not 3)."""
    return max(1, (requests + 50) // 100)


def _walk(selection: SelectionSetNode | None, parent: Any, multiplier: int, fragments: Mapping[str, Any],
          variables: dict[str, Any], totals: list[Any], outermost: bool = True) -> None:
    if selection is None:
        return
    for node in selection.selections:
        if isinstance(node, FragmentSpreadNode):
            fragment = fragments[node.name.value]
            _walk(fragment.selection_set, schema().get_type(fragment.type_condition.name.value), multiplier,
                  fragments, variables, totals, outermost)
        elif isinstance(node, InlineFragmentNode):
            target = schema().get_type(node.type_condition.name.value) if node.type_condition else parent
            _walk(node.selection_set, target, multiplier, fragments, variables, totals, outermost)
        elif isinstance(node, FieldNode) and hasattr(parent, "fields") and node.name.value in parent.fields:
            named = get_named_type(parent.fields[node.name.value].type)
            inner, outer = multiplier * _listed(node, variables), outermost
            if named.name.endswith("Connection"):
                size = _page_size(node, variables)
                totals[0] += multiplier
                inner = multiplier * size
                totals[1] += inner
                if outermost:
                    totals[2].append(node.name.value)
                outer = False
            _walk(node.selection_set, named, inner, fragments, variables, totals, outer)


def _listed(node: FieldNode, variables: Mapping[str, Any]) -> int:
    """How many nodes a field given a list of ids returns (`nodes(ids: [...])`): each of them holds the
    connections below, one request each ("one request per connection for every node that holds it"); 1 for any
    other field."""
    for arg in node.arguments:
        if arg.name.value == "ids":
            ids = value_from_ast_untyped(arg.value, variables)
            return max(1, len(ids)) if isinstance(ids, list) else 1
    return 1


def _page_size(node: FieldNode, variables: Mapping[str, Any]) -> int:
    args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in node.arguments}
    size = args.get("first") if args.get("first") is not None else args.get("last")
    name = node.name.value
    if size is None:
        raise PaginationError("MISSING_PAGINATION_BOUNDARIES",
                              f"You must provide a `first` or `last` value to properly paginate the `{name}` "
                              "connection.")
    if not 0 <= int(size) <= MAX_PAGE:
        raise PaginationError("EXCESSIVE_PAGINATION",
                              f"Requesting {size} records on the `{name}` connection exceeds the `first` limit "
                              f"of {MAX_PAGE} records.")
    return int(size)
