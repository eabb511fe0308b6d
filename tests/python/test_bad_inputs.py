"""The bad-input catalogue: what real APIs send on a bad day, through the real GitHub and PagerDuty sources
into a published warehouse. Each case either stops the run with a clear message naming the source, the
endpoint and the record (and leaves the published warehouse byte-for-byte unchanged, earlier data intact), or
— where the input is legitimately acceptable — asserts exactly how it is loaded."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from scenarios import PAYMENTS, SEARCH, march_2026

from ingestion.demo.org import Org
from ingestion.demo.server import ReplayServer
from ingestion.errors import PayloadError, SourceError, TokenRejected, YardstickError
from yardstick.demo import environment, source_settings
from yardstick.errors import QualityGateFailed
from yardstick.refresh import Progress, refresh

COUNTED = ["raw_github.pull_requests", "raw_github.commits", "raw_github.deployments", "raw_pagerduty.incidents",
           "raw_pagerduty.log_entries"]
GOOD = {"raw_github.pull_requests": 6, "raw_github.commits": 15, "raw_github.deployments": 8,
        "raw_pagerduty.incidents": 3, "raw_pagerduty.log_entries": 10}
PR_LIST = f"/repos/{PAYMENTS}/pulls"


def counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {table: con.execute(f"select count(*) from {table}").fetchone()[0] for table in COUNTED}


def query(warehouse: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse published from the good scenario (ingest and raw gate; no dbt build needed here)."""
    path = tmp_path_factory.mktemp("good") / "warehouse.duckdb"
    scenario = march_2026()
    with ReplayServer(scenario.org) as server, environment(
            source_settings(server, sorted(scenario.org.github), date(2026, 1, 1))):
        refresh(path, sources=["github", "pagerduty"], build=False, progress=Progress(quiet=True))
    assert counts(path) == GOOD
    return path


@pytest.fixture()
def published(good: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(good, copy)
    return copy


def sync(warehouse: Path, *, full_refresh: bool = False) -> None:
    refresh(warehouse, sources=["github", "pagerduty"], build=False, full_refresh=full_refresh,
            progress=Progress(quiet=True))


def fails(warehouse: Path, error: type[YardstickError], pattern: str, *, full_refresh: bool = False) -> str:
    """The run fails with `error` matching `pattern`; the published warehouse is byte-for-byte unchanged."""
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    with pytest.raises(error, match=pattern) as raised:
        sync(warehouse, full_refresh=full_refresh)
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert counts(warehouse) == GOOD  # earlier good data intact
    return str(raised.value)


Serve = Callable[[Org], ReplayServer]
URL = r"http://127\.0\.0\.1:\d+"


# ---------------------------------------------------------------- broken HTTP bodies and statuses

def test_01_malformed_json(serve: Serve, published: Path) -> None:
    serve(march_2026().org).fail(PR_LIST, 200, body="{'not': json}")
    fails(published, SourceError, rf"^GitHub sent a body that is not valid JSON for {PR_LIST}: ")


def test_02_truncated_body(serve: Serve, published: Path) -> None:
    serve(march_2026().org).fail(f"/repos/{SEARCH}/commits", 200, body='[{"sha": "abc123", "commit": {"mess')
    fails(published, SourceError, rf"^GitHub sent a body that is not valid JSON for /repos/{SEARCH}/commits: ")


def test_03_html_error_page_instead_of_json(serve: Serve, published: Path) -> None:
    html = "<html><head><title>Maintenance</title></head><body><h1>Back soon</h1></body></html>"
    serve(march_2026().org).fail("/log_entries", 200, body=html)
    fails(published, SourceError, r"^PagerDuty sent a body that is not valid JSON for /log_entries: ")


def test_04_401_token_rejected(serve: Serve, published: Path) -> None:
    serve(march_2026().org).fail(PR_LIST, 401, body='{"message": "Bad credentials"}')
    fails(published, TokenRejected, rf"^GitHub rejected the token \(401\) for {URL}/github{PR_LIST}\?")


def test_05_403_forbidden_without_rate_limit(serve: Serve, published: Path) -> None:
    serve(march_2026().org).fail(PR_LIST, 403, body='{"message": "Resource not accessible by integration"}')
    fails(published, SourceError, rf"^GitHub answered 403 for {URL}/github{PR_LIST}\?\S+: "
                                   r"\{\"message\": \"Resource not accessible by integration\"\}$")


def test_06_404_repository_not_found(serve: Serve, published: Path) -> None:
    serve(march_2026().org).fail(f"/repos/{SEARCH}/pulls", 404)
    fails(published, SourceError, rf"^GitHub answered 404 for {URL}/github/repos/{SEARCH}/pulls\?")


def test_07_410_gone(serve: Serve, published: Path) -> None:
    serve(march_2026().org).fail("/log_entries", 410, body='{"error": {"message": "Gone", "code": 2100}}')
    fails(published, SourceError, rf"^PagerDuty answered 410 for {URL}/pagerduty/log_entries\?")


def test_08_429_that_never_clears(serve: Serve, published: Path) -> None:
    serve(march_2026().org).fail("/log_entries", 429, times=10, retry_after=0)
    fails(published, SourceError, rf"^PagerDuty answered 429 for {URL}/pagerduty/log_entries\?.*Rate Limit Exceeded")


def test_09_persistent_500(serve: Serve, published: Path) -> None:
    serve(march_2026().org).fail(f"/repos/{PAYMENTS}/deployments", 500, times=10)
    fails(published, SourceError, rf"^GitHub answered 500 for {URL}/github/repos/{PAYMENTS}/deployments\?")


def test_10_a_429_then_success_is_retried_and_loads(serve: Serve, published: Path) -> None:
    server = serve(march_2026().org)
    server.fail("/log_entries", 429, times=1, retry_after=0)
    sync(published, full_refresh=True)
    assert [r.status for r in server.requests if r.path == "/log_entries"][:2] == [429, 200]
    assert counts(published) == GOOD


# ---------------------------------------------------------------- pagination

def test_11_pagination_that_loops(serve: Serve, published: Path) -> None:
    org = march_2026().org
    entry = org.pagerduty.log_entries[0]
    page = json.dumps({"log_entries": [entry], "limit": 1, "offset": 0, "more": True})
    serve(org).fail("/log_entries", 200, times=50, body=page)  # every page is the same page, "more": true
    fails(published, SourceError, r"^PagerDuty repeated page 1's records on page 2 of /log_entries "
                                  r"\(pagination loops\); stopping$")


def test_12_an_empty_page_ends_the_listing(serve: Serve, published: Path) -> None:
    server = serve(march_2026().org)
    server.fail("/log_entries", 200, body=json.dumps({"log_entries": [], "limit": 100, "offset": 0, "more": True}))
    sync(published)  # accepted: nothing new; the listing stops at the empty page instead of paging on
    assert [r.path for r in server.requests].count("/log_entries") == 1
    assert counts(published) == GOOD


# ---------------------------------------------------------------- records that break the contract

def test_13_record_missing_its_id(serve: Serve, published: Path) -> None:
    org = march_2026().org
    pr = org.github[PAYMENTS].pulls[1]
    del pr["id"]
    serve(org)
    message = fails(published, PayloadError, "missing required field 'id'", full_refresh=True)
    assert message == f"github: bad record None from {PR_LIST}/{pr['number']}: missing required field 'id'"


def test_14_null_timestamp(serve: Serve, published: Path) -> None:
    org = march_2026().org
    incident = org.pagerduty.incidents[0]
    incident["created_at"] = None
    for entry in org.pagerduty.log_entries:
        if entry["incident"]["id"] == incident["id"]:
            entry["incident"] = incident
    serve(org)
    message = fails(published, PayloadError, "missing required field 'created_at'", full_refresh=True)
    assert message == (f"pagerduty: bad record {incident['id']!r} from /log_entries (include[]=incidents): "
                       "missing required field 'created_at'")


def test_15_timestamp_without_zone_is_read_as_utc(serve: Serve, published: Path) -> None:
    org = march_2026().org
    pr = org.github[PAYMENTS].pulls[0]
    pr["closed_at"] = "2026-03-02T13:00:00"  # no Z, no offset
    serve(org)
    sync(published, full_refresh=True)
    got = query(published, "select closed_at from raw_github.pull_requests where id = ?", pr["id"])
    assert got == [(datetime(2026, 3, 2, 13, tzinfo=UTC),)]


def test_16_type_change(serve: Serve, published: Path) -> None:
    org = march_2026().org
    pr = org.github[PAYMENTS].pulls[2]
    pr["additions"] = "120"  # an integer field arrives as text
    serve(org)
    message = fails(published, PayloadError, "expected an integer", full_refresh=True)
    assert message == (f"github: bad record {pr['id']} from {PR_LIST}/{pr['number']}: "
                       "field 'additions': expected an integer, got '120'")


def test_17_new_column_is_ignored(serve: Serve, published: Path) -> None:
    org = march_2026().org
    for pr in org.github[PAYMENTS].pulls:
        pr["auto_merge_strategy"] = {"method": "squash"}
    serve(org)
    sync(published, full_refresh=True)
    columns = [c for (c,) in query(published, "select column_name from information_schema.columns "
                                              "where table_name = 'pull_requests' and table_schema = 'raw_github'")]
    assert not any("auto_merge" in c for c in columns)
    assert counts(published) == GOOD


def test_18_removed_optional_column_loads_as_null(serve: Serve, published: Path) -> None:
    org = march_2026().org
    for pr in org.github[PAYMENTS].pulls:
        del pr["body"]
    serve(org)
    sync(published, full_refresh=True)
    assert query(published, "select count(*) from raw_github.pull_requests where repository = ? and body is not null",
                 PAYMENTS) == [(0,)]
    assert counts(published) == GOOD


def test_19_duplicates_in_a_listing_are_merged(serve: Serve, published: Path) -> None:
    org = march_2026().org
    org.pagerduty.log_entries.extend([dict(entry) for entry in org.pagerduty.log_entries[:3]])
    serve(org)
    sync(published, full_refresh=True)
    assert counts(published) == GOOD
    assert query(published, "select count(distinct id) = count(*) from raw_pagerduty.log_entries") == [(True,)]


def test_20_out_of_order_updates_all_load(serve: Serve, published: Path) -> None:
    org = march_2026().org
    org.pagerduty.log_entries.reverse()  # newest first instead of oldest first
    server = serve(org)
    sync(published, full_refresh=True)
    assert counts(published) == GOOD
    sync(published)  # the cursor is the newest entry, whatever the order: the next sync asks from there
    since = [r.query["since"] for r in server.requests if r.path == "/log_entries"][-1]
    assert since == ["2026-03-20T10:30:00Z"]


def test_21_an_update_older_than_the_stored_one_is_ignored(serve: Serve, published: Path) -> None:
    org = march_2026().org
    pr = org.github[PAYMENTS].pulls[0]
    stored = query(published, "select title, updated_at from raw_github.pull_requests where id = ?", pr["id"])
    pr["title"] = "A stale replica's title"
    pr["updated_at"] = "2026-01-02T00:00:00Z"  # older than what we stored
    serve(org)
    sync(published)
    assert query(published, "select title, updated_at from raw_github.pull_requests where id = ?", pr["id"]) == stored


def test_22_a_deleted_record_stays_as_last_seen(serve: Serve, published: Path) -> None:
    org = march_2026().org
    gone = org.github[SEARCH].pulls.pop()
    serve(org)
    sync(published)
    assert query(published, "select count(*) from raw_github.pull_requests where id = ?", gone["id"]) == [(1,)]
    assert counts(published) == GOOD


def test_23_unicode_and_very_long_strings_load_exactly(serve: Serve, published: Path) -> None:
    org = march_2026().org
    pr = org.github[PAYMENTS].pulls[0]
    pr["title"] = "Ünïcødé 🚀 — 支付 \u200b\"quoted\" 'single' \\ back"
    pr["body"] = "長い" * 100_000
    serve(org)
    sync(published, full_refresh=True)
    assert query(published, "select title, body from raw_github.pull_requests where id = ?", pr["id"]) == [
        (pr["title"], pr["body"])]


def test_24_a_50_mb_response(serve: Serve, published: Path) -> None:
    org = march_2026().org
    pr = org.github[PAYMENTS].pulls[3]
    pr["body"] = "x" * (50 * 1024 * 1024)
    serve(org)
    sync(published, full_refresh=True)
    assert query(published, "select length(body) from raw_github.pull_requests where id = ?", pr["id"]) == [
        (50 * 1024 * 1024,)]


def test_25_an_event_far_in_the_future_does_not_poison_the_cursor(serve: Serve, published: Path) -> None:
    org = march_2026().org
    entry = org.pagerduty.log_entries[-1]
    entry["created_at"] = "2099-01-01T00:00:00Z"
    server = serve(org)
    sync(published, full_refresh=True)
    # loaded as sent (it is what the API says), but the cursor stops at now
    assert query(published, "select max(created_at) from raw_pagerduty.log_entries") == [
        (datetime(2099, 1, 1, tzinfo=UTC),)]
    sync(published)
    since = datetime.fromisoformat([r.query["since"] for r in server.requests if r.path == "/log_entries"][-1][0])
    assert since <= datetime.now(UTC)  # the next sync still asks for everything since (about) now


def test_26_a_pull_request_merged_before_it_was_created(serve: Serve, published: Path) -> None:
    org = march_2026().org
    pr = org.github[PAYMENTS].pulls[0]
    pr["merged_at"] = "2026-02-01T00:00:00Z"
    serve(org)
    message = fails(published, QualityGateFailed, r"raw quality gate failed", full_refresh=True)
    assert f"on raw_github.pull_requests: 1 failing row(s), e.g. [{{'id': {pr['id']}, 'merged_at': " in message
    assert "column_A=merged_at, column_B=created_at" in message


def test_27_a_record_that_is_not_an_object(serve: Serve, published: Path) -> None:
    org = march_2026().org
    org.github[SEARCH].deployments.append("deployment 42")  # type: ignore[arg-type]
    serve(org)
    fails(published, PayloadError, rf"^github: bad record None from /repos/{SEARCH}/deployments: "
                                   r"expected a JSON object, got str$")
