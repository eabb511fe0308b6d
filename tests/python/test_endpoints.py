"""The generic incremental resource (`ingestion/sources/endpoints.py`) walking a small endpoint table against a
local HTTP server on 127.0.0.1, loaded by a real dlt pipeline into DuckDB: pages followed by `Link` headers, the
cursor sent as a query parameter and advanced on the rows, newest-first listings stopping at the cursor, child
endpoints read once per parent row with the parent's columns, and a bad record quarantined with its reason."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import dlt
import duckdb
import pytest
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from ingestion.pipeline import arrow_load_columns
from ingestion.sources.client import ApiClient
from ingestion.sources.endpoints import Endpoint, Incremental, Walk, resources, tables
from ingestion.sources.projection import Quarantine, fields, quarantining

ORDER = fields(("id", "id", "bigint", True), ("state", "state", "text", True, frozenset({"open", "done"})),
               ("updated_at", "updated_at", "timestamp", True), ("buyer", "buyer.login"))
LINE = fields(("sku", "sku", "text", True), ("quantity", "quantity", "bigint"))

ORDERS = Endpoint(
    "orders", "/shops/{key}/orders", ORDER, key_column="shop", params={"since": None, "per_page": 2},
    incremental=Incremental("updated_at", param="since", after=">"),
    children=(Endpoint("order_lines", "/shops/{key}/orders/{parent[id]}/lines", LINE, ("shop", "order_id", "sku"),
                       key_column="shop", parent={"order_id": "id"}, id_path="sku"),),
)
EVENTS = Endpoint(  # newest first, no query parameter: the walker stops at the first page older than the mark
    "events", "/events", fields(("id", "id", "bigint", True), ("at", "at", "timestamp", True)),
    cursor_key="events", incremental=Incremental("at", newest_first=True, after=">"),
)


def at(day: int) -> str:
    return f"2026-03-{day:02d}T10:00:00Z"


class Api:
    """Pages of JSON per path, split `per_page` at a time and linked by `Link: <…>; rel="next"`."""

    def __init__(self) -> None:
        self.records: dict[str, list[Any]] = {}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlparse(self.path)
                query = parse_qs(url.query)
                api.requests.append((url.path, query))
                records = api.records.get(url.path, [])
                since = query.get("since", [None])[0]
                if since:
                    records = [r for r in records if not isinstance(r, dict) or r.get("updated_at", since) >= since]
                size, page = int(query.get("per_page", ["100"])[0]), int(query.get("page", ["1"])[0])
                body = json.dumps(records[(page - 1) * size:page * size]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if page * size < len(records):
                    nxt = {**{k: v[0] for k, v in query.items()}, "page": page + 1}
                    link = "&".join(f"{k}={v}" for k, v in nxt.items())
                    self.send_header("Link", f'<http://{self.headers["Host"]}{url.path}?{link}>; rel="next"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture()
def api() -> Iterator[tuple[Api, str]]:
    state = Api()
    server = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def load(url: str, warehouse: Path, endpoint: Endpoint, keys: list[str] | None = None,
         quarantine: Quarantine | None = None, pipelines_dir: Path | None = None) -> None:
    client = ApiClient("Shop", url, BearerTokenAuth("t0ken"), HeaderLinkPaginator())
    walk = Walk(client, "shop", datetime(2026, 1, 1, tzinfo=UTC), keys=lambda: keys or [None],
                clock=lambda: datetime(2026, 4, 1, tzinfo=UTC))

    @dlt.source(name="shop", max_table_nesting=0)
    def shop() -> Any:
        return resources(walk, endpoint)

    pipeline = dlt.pipeline("endpoints_test", destination=dlt.destinations.duckdb(str(warehouse)),
                            dataset_name="raw_shop", pipelines_dir=str(pipelines_dir or warehouse.parent / "dlt"))
    with quarantining(quarantine or Quarantine("shop")), arrow_load_columns():
        pipeline.run(shop(), loader_file_format="parquet")


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_table_describes_the_raw_tables() -> None:
    shapes = tables(ORDERS)
    assert list(shapes) == ["orders", "order_lines"]
    assert [f.name for f in shapes["order_lines"][0]] == ["shop", "order_id", "sku", "quantity"]
    assert shapes["order_lines"][1] == ("shop", "order_id", "sku")


def test_pages_children_cursor_and_quarantine(api: tuple[Api, str], tmp_path: Path) -> None:
    state, url = api
    state.records["/shops/north/orders"] = [
        {"id": 1, "state": "open", "updated_at": at(2), "buyer": {"login": "ana"}},
        {"id": 2, "state": "done", "updated_at": "2026-03-03 10:00:00+01:00", "buyer": None},  # coerced
        {"id": 3, "state": "exploded", "updated_at": at(4)},  # quarantined
    ]
    state.records["/shops/south/orders"] = [{"id": "4", "state": "open", "updated_at": at(5)}]  # "4" → 4
    state.records["/shops/north/orders/1/lines"] = [{"sku": "a", "quantity": 2.0}, {"sku": "b"}]
    state.records["/shops/south/orders/4/lines"] = [{"sku": "c", "quantity": "3"}]
    warehouse = tmp_path / "w.duckdb"
    quarantine = Quarantine("shop")
    load(url, warehouse, ORDERS, ["north", "south"], quarantine)

    assert rows(warehouse, "select shop, id, state, updated_at, buyer, _dlt_load_id is not null from raw_shop.orders "
                           "order by id") == [
        ("north", 1, "open", datetime(2026, 3, 2, 10, tzinfo=UTC), "ana", True),
        ("north", 2, "done", datetime(2026, 3, 3, 9, tzinfo=UTC), None, True),
        ("south", 4, "open", datetime(2026, 3, 5, 10, tzinfo=UTC), None, True),
    ]
    assert rows(warehouse, "select shop, order_id, sku, quantity from raw_shop.order_lines order by sku") == [
        ("north", 1, "a", 2), ("north", 1, "b", None), ("south", 4, "c", 3)]
    assert [(t, r["endpoint"], r["record_id"], r["reason"]) for (t, _), r in quarantine.rejected.items()] == [
        ("orders", "/shops/north/orders", "3", "field 'state': unknown value 'exploded' (expected one of done, open)")]
    # pages of two, linked: the north listing took two requests; the first sync starts at the start date
    north = [query for path, query in state.requests if path == "/shops/north/orders"]
    assert [q.get("page", ["1"])[0] for q in north] == ["1", "2"]
    assert north[0]["since"] == ["2026-01-01T00:00:00Z"]

    # the second sync asks from each key's mark (the newest valid row), keeps only newer rows, and reads the
    # children of the changed parents only
    state.requests.clear()
    state.records["/shops/north/orders"].append({"id": 5, "state": "open", "updated_at": at(6)})
    state.records["/shops/north/orders/5/lines"] = [{"sku": "d", "quantity": 1}]
    load(url, warehouse, ORDERS, ["north", "south"])
    sent = {path: query["since"][0] for path, query in state.requests if "since" in query}
    assert sent == {"/shops/north/orders": "2026-03-03T09:00:00Z", "/shops/south/orders": "2026-03-05T10:00:00Z"}
    assert [path for path, _ in state.requests if path.endswith("/lines")] == ["/shops/north/orders/5/lines"]
    assert rows(warehouse, "select count(*) from raw_shop.orders") == [(4,)]


def test_a_newest_first_listing_stops_at_the_cursor(api: tuple[Api, str], tmp_path: Path) -> None:
    state, url = api
    state.records["/events"] = [{"id": n, "at": at(20 - n)} for n in range(1, 7)]  # newest first
    warehouse = tmp_path / "w.duckdb"
    load(url, warehouse, EVENTS)
    assert rows(warehouse, "select count(*), max(\"at\") from raw_shop.events") == [(6, datetime(2026, 3, 19, 10,
                                                                                             tzinfo=UTC))]
    state.requests.clear()
    state.records["/events"] = [{"id": 7, "at": at(21)}, *state.records["/events"]]
    load(url, warehouse, EVENTS)
    assert len(state.requests) == 1  # the first page already reached the mark: no second page
    assert rows(warehouse, "select count(*) from raw_shop.events") == [(7,)]


def test_the_change_time_falls_back_when_the_field_is_null() -> None:
    inc = Incremental("updated_at", fallback="created_at", lookback=timedelta(hours=2))
    assert inc.value({"updated_at": None, "created_at": 5}) == 5
    assert inc.value({"updated_at": 7, "created_at": 5}) == 7
