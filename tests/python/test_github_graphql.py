"""GitHub through GraphQL (the default) against the replay server's real GraphQL (GitHub's own schema): the same
raw rows and marts as REST, nested connections paged to the end, queries GitHub would refuse refused, the
page size adapting to gateway errors, and the GitHub Enterprise Server endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import requests
from scenarios import PAYMENTS, march_2026
from table_rows import table_rows

from ingestion.demo import copilot_api
from ingestion.demo.org import OrgBuilder
from ingestion.demo.server import ReplayServer
from ingestion.errors import SourceError
from ingestion.pipeline import ingest_source
from ingestion.sources.github_graphql import database_id
from ingestion.sources.github_graphql_client import PageSize, graphql_endpoint, wait_seconds
from yardstick.demo import environment, source_settings
from yardstick.publish import private_path
from yardstick.refresh import Progress, refresh

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

RAW = ("pull_requests", "pull_request_commits", "pull_request_reviews", "commits", "deployments",
       "deployment_statuses", "issues")
GRAPHQL_ONLY = {"closing_issue_numbers"}  # REST has no closing-issue references


def _graphql_posts(server: ReplayServer, since: int = 0) -> int:
    return sum(1 for r in server.requests[since:] if r.method == "POST" and r.path == "/graphql")


def test_graphql_and_rest_fill_the_same_raw_rows_and_marts(scenario_warehouse: Path, tmp_path: Path) -> None:
    """The session's scenario warehouse is built through GraphQL (the default); the same organisation through
    REST gives identical raw tables and identical marts, for far fewer requests through GraphQL."""
    scenario = march_2026()
    rest = tmp_path / "rest" / "warehouse.duckdb"  # named like the scenario's (dbt's link is named after the file)
    rest.parent.mkdir()
    with ReplayServer(scenario.org) as server, environment({
        **source_settings(server, sorted(scenario.org.github), date(2026, 1, 1)),
        # the scenario warehouse has the Copilot reports too (conftest.py): the same here, so the AI marts match
        **copilot_api.source_settings(server.url + "/copilot", "acme", "2026-03-02", "2026-03-15"),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05", "SOURCES__GITHUB__API": "rest",
    }):
        refresh(rest, from_scratch=True, progress=Progress(quiet=True))
        assert _graphql_posts(server) == 0
    with duckdb.connect() as con:
        # the private working files: raw tables and marts (the published files hold the marts only)
        con.execute(f"attach '{private_path(scenario_warehouse)}' as g (read_only)")
        con.execute(f"attach '{private_path(rest)}' as r (read_only)")
        filled = 0
        for table in RAW:
            graphql_rows = table_rows(con, "raw_github", table, catalog="g", skip=GRAPHQL_ONLY)
            filled += bool(graphql_rows)
            assert graphql_rows == table_rows(con, "raw_github", table, catalog="r", skip=GRAPHQL_ONLY), table
        assert filled >= 6  # the scenario has no GitHub issues; every other table has rows
        marts = [t for (t,) in con.sql("select table_name from information_schema.tables where table_catalog = 'g' "
                                       "and table_schema = 'marts' order by 1").fetchall()]
        assert len(marts) > 5
        for mart in marts:
            assert table_rows(con, "marts", mart, catalog="g", skip=GRAPHQL_ONLY) == table_rows(con, "marts", mart, catalog="r", skip=GRAPHQL_ONLY), mart


def _long_pull_org() -> OrgBuilder:
    b = OrgBuilder()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    reviewers = [f"reviewer-{n}" for n in range(6)]
    b.pull_request(PAYMENTS, author="ana", title="Big migration", opened_at=start,
                   commit_times=[start + timedelta(minutes=n) for n in range(250)],
                   reviews=[(reviewers[n % 6], "COMMENTED", start + timedelta(hours=5, minutes=n)) for n in range(119)]
                   + [("reviewer-0", "APPROVED", start + timedelta(hours=9))],
                   merged_at=start + timedelta(hours=10), body="Fixes #1", labels=["migration", "risky"])
    b.pull_request(PAYMENTS, author="ben", title="Small fix", opened_at=start + timedelta(days=1),
                   commit_times=[start + timedelta(days=1, minutes=5)], merged_at=start + timedelta(days=1, hours=2))
    return b


def test_a_pull_request_with_250_commits_and_120_reviews_is_complete(
    serve: Callable[..., ReplayServer], tmp_path: Path
) -> None:
    server = serve(_long_pull_org().build())
    warehouse = tmp_path / "warehouse.duckdb"
    ingest_source("github", warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        big = con.sql("select number, commits, label_names from raw_github.pull_requests "
                      "where title = 'Big migration'").fetchone()
        number = big[0]
        assert big[1:] == (250, "migration,risky")
        children = con.sql(f"""select (select count(distinct sha) from raw_github.pull_request_commits
                                       where pull_request_number = {number}),
                                      (select count(distinct id) from raw_github.pull_request_reviews
                                       where pull_request_number = {number})""").fetchone()
        assert children == (250, 120)
        # every commit but the first has its parent, the previous commit of the branch
        orphans = con.sql(f"""select count(*) from raw_github.pull_request_commits c
                              where pull_request_number = {number} and parent_shas not in
                              (select sha from raw_github.pull_request_commits)""").fetchone()[0]
        assert orphans == 1
    # one page of pull requests, then the rest of the long one's commits and reviews: a handful of queries
    assert 4 <= _graphql_posts(server) <= 20
    assert not [r for r in server.requests if "/pulls" in r.path]
    assert server.graphql_budget.used >= _graphql_posts(server)  # every query cost at least a point


def _post(server: ReplayServer, query: str) -> dict:
    response = requests.post(server.github_url + "/graphql", json={"query": query}, timeout=30,
                             headers={"Authorization": f"bearer {server.github_token}"})
    assert response.status_code == 200
    return response.json()


def test_queries_github_would_refuse_are_refused(serve: Callable[..., ReplayServer]) -> None:
    server = serve(_long_pull_org().build())
    unknown = _post(server, '{ repository(owner: "acme", name: "payments-api") { pullRequests(first: 1) '
                            '{ nodes { leadTimeHours } } } }')
    assert "Cannot query field 'leadTimeHours' on type 'PullRequest'" in unknown["errors"][0]["message"]
    # validation is remembered per shape (literals blanked): a literal of the wrong kind or beyond `Int` is a
    # different shape, refused as GitHub refuses it, after the same query with a good literal ran
    for first, refusal in (('"2"', "Int cannot represent non-integer value"),
                           ("4294967296", "Int cannot represent non 32-bit signed integer value")):
        good = _post(server, '{ repository(owner: "acme", name: "payments-api") { pullRequests(first: 2) '
                             '{ totalCount } } }')
        assert good["data"]["repository"]["pullRequests"]["totalCount"] >= 1
        bad = _post(server, '{ repository(owner: "acme", name: "payments-api") { pullRequests(first: %s) '
                            '{ totalCount } } }' % first)
        assert refusal in bad["errors"][0]["message"] and bad["errors"][0]["locations"], bad
    unpaged = _post(server, '{ repository(owner: "acme", name: "payments-api") { pullRequests { totalCount } } }')
    assert unpaged["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    huge = _post(server, '{ repository(owner: "acme", name: "payments-api") { pullRequests(first: 100) { nodes { '
                         'commits(first: 100) { nodes { commit { parents(first: 60) { totalCount } } } } } } } }')
    assert huge["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert "610,100" in huge["errors"][0]["message"]  # 100 + 100*100 + 100*100*60
    # GitHub's formula: 1 + 100 + 100*100 = 10,101 requests → 101 points; one more for the rateLimit query
    priced = _post(server, '{ rateLimit { cost } repository(owner: "acme", name: "payments-api") { '
                           'pullRequests(first: 100) { nodes { commits(first: 100) { nodes { commit { '
                           'parents(first: 1) { totalCount } } } } } } } }')
    assert priced["data"]["rateLimit"]["cost"] == 101
    assert server.graphql_budget.used == 2 + 101  # the two good queries above; refused queries are not charged


def test_a_query_the_schema_rejects_stops_the_sync_with_its_reason(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(_long_pull_org().build())
    from ingestion.sources import github_graphql_queries

    monkeypatch.setattr(github_graphql_queries, "ISSUES", github_graphql_queries.ISSUES.replace("closedAt", "closedAt resolvedAt"))
    with pytest.raises(SourceError, match="Cannot query field 'resolvedAt' on type 'Issue'"):
        ingest_source("github", tmp_path / "warehouse.duckdb")


def test_gateway_errors_shrink_the_page_and_it_grows_back(
    serve: Callable[..., ReplayServer], tmp_path: Path
) -> None:
    server = serve(march_2026().org)
    server.fail("/graphql", 502, times=1)
    server.fail("/graphql", 504, times=1)
    ingest_source("github", tmp_path / "warehouse.duckdb")
    statuses = [r.status for r in server.requests if r.path == "/graphql"]
    assert statuses[:3] == [502, 504, 200]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from raw_github.pull_requests").fetchone()[0] > 0
    size = PageSize(ceiling=40, recover=2)
    assert [size.shrink(), size.value, size.shrink(), size.value] == [True, 20, True, 10]
    size.succeeded(), size.succeeded()
    assert size.value == 20
    size.succeeded(), size.succeeded(), size.succeeded(), size.succeeded()
    assert size.value == 40
    floor = PageSize(ceiling=1)
    assert floor.shrink() is False


def test_graphql_endpoint_follows_the_rest_base_url() -> None:
    assert graphql_endpoint("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_endpoint("https://api.github.com/") == "https://api.github.com/graphql"
    assert graphql_endpoint("https://github.acme.internal/api/v3") == "https://github.acme.internal/api/graphql"
    assert graphql_endpoint("https://github.acme.internal/api/v3/") == "https://github.acme.internal/api/graphql"
    assert graphql_endpoint("http://127.0.0.1:8080/github") == "http://127.0.0.1:8080/github/graphql"


def test_replay_server_answers_ghes_path_too(serve: Callable[..., ReplayServer]) -> None:
    server = serve(_long_pull_org().build())
    response = requests.post(server.url + "/github/api/graphql", timeout=30,
                             json={"query": "{ rateLimit { remaining } }"},
                             headers={"Authorization": f"bearer {server.github_token}"})
    assert response.json()["data"]["rateLimit"]["remaining"] == 4999
    assert response.headers["X-RateLimit-Resource"] == "graphql"


def test_waits_follow_githubs_headers_not_guesses() -> None:
    now = 1_800_000_000.0
    assert wait_seconds({"Retry-After": "30"}, default=1.0, now=now) == 30.0
    assert wait_seconds({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(now) + 120)},
                        default=1.0, now=now) == 121.0
    assert wait_seconds({"X-RateLimit-Remaining": "10", "X-RateLimit-Reset": str(int(now) + 120)},
                        default=1.0, now=now) == 1.0


def test_deployment_status_ids_come_from_their_node_ids() -> None:
    assert database_id("MDE2OkRlcGxveW1lbnRTdGF0dXMzNTc1MTMxOTc3") == 3575131977  # 016:DeploymentStatus3575131977
    # new-style ids: PREFIX_ + base64url(msgpack [0, repository id, database id])
    import base64

    packed = bytes([0x93, 0x00, 0xCE]) + (123456789).to_bytes(4, "big") + bytes([0xCF]) + (9876543210).to_bytes(8, "big")
    assert database_id("DES_" + base64.urlsafe_b64encode(packed).decode().rstrip("=")) == 9876543210
    assert json.dumps(database_id(None)) == "null"


def test_the_replay_schema_is_githubs_own_copy() -> None:
    from ingestion.demo.github_graphql_cost import SCHEMA_PATH

    fixture = Path(__file__).parents[1] / "fixtures" / "github-graphql" / "schema.graphql"
    assert SCHEMA_PATH.read_bytes() == fixture.read_bytes()
    assert "type PullRequest implements" in fixture.read_text(encoding="utf-8")


def test_each_query_costs_the_point_it_was_sized_for() -> None:
    """The source's arithmetic of what its queries cost agrees with GitHub's formula as the replay server prices
    them, and each query is valid against GitHub's schema: a page, a bulk first page of several repositories and
    a batch of follow-ups each stay within one point (149 requests)."""
    from graphql import parse, validate

    from ingestion.demo.github_graphql_cost import points, query_requests, schema
    from ingestion.sources import github_graphql_queries as q

    since = datetime(2026, 1, 1, tzinfo=UTC)

    def requests_of(text: str) -> int:
        document = parse(text)
        assert validate(schema(), document) == []
        return query_requests(document, {})[0]

    assert (q.PULLS.ceiling(), q.PULLS.requests(q.PULLS.ceiling())) == (37, 149)  # 37 PRs × 4 connections + 1
    for shape in (q.PULLS, q.COMMITS, q.ISSUE_LIST, q.DEPLOYMENT_LIST):
        first = shape.ceiling()
        page = q.repositories_query([("acme/a", shape.selection(first, "Y3Vyc29yOnYyOjE=", since))])
        assert requests_of(page) == shape.requests(first) <= q.POINT_REQUESTS
        heads = q.repositories_query([(f"acme/r{i}", shape.selection(4, None, since)) for i in range(3)])
        assert requests_of(heads) == 3 * shape.requests(4)
    # follow-ups: a page of commits (no parents) or reviews is one request, a commit's parents one more
    pending = [q.Pending("acme/a", 7, "commits", "abc"), q.Pending("acme/a", 7, "reviews", "def")]
    pending += [q.Lookup("acme/b", 9, {"oid": f"{n:040x}"}) for n in range(200)]
    batch = q.pack(pending, lambda item: item.requests())
    assert len(batch) == q.POINT_REQUESTS  # 2 + 147 lookups: one point
    text, groups = q.followup_query(batch)
    assert [(alias, repo, len(items)) for alias, repo, items in groups] == [("r0", "acme/a", 2), ("r1", "acme/b", 147)]
    assert requests_of(text) == 149
    # a page of the default branch's history (101 requests) leaves 48 for queued lookups: still one point
    page = (("acme/c", q.COMMITS.selection(100, None, since)))
    text, groups = q.followup_query(pending[2:50], page)
    assert [(alias, repo) for alias, repo, _ in groups] == [("r1", "acme/b")]
    assert requests_of(text) == 101 + 48 == q.POINT_REQUESTS
    assert points(requests_of(text)) == 1 and points(150) == 2 and points(250) == 3 and points(249) == 2
