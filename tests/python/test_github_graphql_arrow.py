"""GitHub's GraphQL answers → the raw tables as Arrow tables (`github_graphql._Fetcher`, projected by
`bundles.batched`): pages of nodes give one table per raw table, with the REST path's columns and types, and a
node that breaks its contract is quarantined with its reason (its children left out when it is a deployment).
Hand-written nodes, hand-computed rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from ingestion.sources.bundles import batched
from ingestion.sources.columns import arrow_schema
from ingestion.sources.github import TABLES
from ingestion.sources.github_graphql import _Fetcher
from ingestion.sources.projection import Quarantine, quarantining

RAW = TABLES["raw_github"]


def _fetcher() -> _Fetcher:
    return _Fetcher(_Parents(), RAW)  # type: ignore[arg-type]  # the pages are given; lookups answered here


class _Parents:
    """Answers the fetcher's parent lookups (`object(oid:)`) of one repository: every commit has parents p1, p2."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def query(self, build: Any, size: Any, *, force: bool = False) -> dict:
        text = build(size.value)[0]
        self.queries.append(text)
        aliases = re.findall(r'(f\d+): object\(oid: "\w+"\)', text)
        return {"r0": {alias: {"parents": {"nodes": [{"oid": "p1"}, {"oid": "p2"}]}} for alias in aliases}}


def _pull(number: int, *, state: str = "MERGED", reviews: list[dict] | None = None) -> dict:
    return {
        "fullDatabaseId": str(1000 + number), "number": number, "title": f"change {number}", "body": "",
        "state": state, "isDraft": False, "author": {"login": "ana"}, "headRefName": "feature", "headRefOid": "h1",
        "baseRefName": "main", "createdAt": "2026-03-01T10:00:00Z", "updatedAt": "2026-03-02T10:00:00Z",
        "closedAt": "2026-03-02T10:00:00Z", "mergedAt": "2026-03-02T10:00:00Z", "mergeCommit": {"oid": "m1"},
        "mergedBy": {"login": "ben"}, "additions": 5, "deletions": 2, "changedFiles": 1,
        "labels": {"nodes": [{"name": "bug"}]}, "closingIssuesReferences": {"nodes": [{"number": 4}]},
        "commits": {"totalCount": 1, "pageInfo": {"hasNextPage": False}, "nodes": [{"commit": {
            "oid": f"c{number}", "message": "fix",
            "author": {"name": "Ana", "email": "ana@example.com", "date": "2026-03-01T09:00:00+01:00",
                       "user": {"login": "ana"}},
            "committer": {"email": "ana@example.com", "date": "2026-03-01T08:00:00Z"}}}]},
        "reviews": {"totalCount": len(reviews or []), "pageInfo": {"hasNextPage": False}, "nodes": reviews or []},
    }


def _review(review_id: int, state: str) -> dict:
    return {"fullDatabaseId": str(review_id), "author": {"login": "ben"}, "state": state,
            "submittedAt": "2026-03-02T09:00:00Z", "commit": {"oid": "c7"}}


def test_pages_of_pull_requests_become_three_typed_tables() -> None:
    quarantine = Quarantine("github")
    fetcher = _fetcher()
    with quarantining(quarantine):
        pages = [fetcher.pull_bundle("acme/api", [_pull(7, reviews=[_review(70, "APPROVED"), _review(71, "SHRUGGED")])]),
                 fetcher.pull_bundle("acme/api", [_pull(8, state="EXPLODED")])]  # maps to "closed": still valid
        pages += fetcher.flush(full_only=False)  # the commits' parents: one lookup query for both
        *held, bundle = list(batched(pages))  # two pages and the lookups, one projection per table
    assert held == [{}, {}, {}]  # each bundle held back; then the three projected together
    assert len(fetcher.client.queries) == 1 and fetcher.client.queries[0].count("object(oid:") == 2
    pulls, commits, reviews = (bundle[t] for t in ("pull_requests", "pull_request_commits", "pull_request_reviews"))
    assert all(isinstance(t, pa.Table) for t in (pulls, commits, reviews))
    assert pulls.schema == arrow_schema(RAW["pull_requests"][0], strict=True)
    assert pulls.select(["repository", "id", "number", "state", "label_names", "closing_issue_numbers",
                         "merged_by_login", "merged_at"]).to_pylist() == [
        {"repository": "acme/api", "id": 1007, "number": 7, "state": "closed", "label_names": "bug",
         "closing_issue_numbers": "4", "merged_by_login": "ben", "merged_at": datetime(2026, 3, 2, 10, tzinfo=UTC)},
        {"repository": "acme/api", "id": 1008, "number": 8, "state": "closed", "label_names": "bug",
         "closing_issue_numbers": "4", "merged_by_login": "ben", "merged_at": datetime(2026, 3, 2, 10, tzinfo=UTC)},
    ]
    assert commits.select(["repository", "pull_request_number", "sha", "parent_shas", "authored_at"]).to_pylist() == [
        {"repository": "acme/api", "pull_request_number": 7, "sha": "c7", "parent_shas": "p1 p2",
         "authored_at": datetime(2026, 3, 1, 8, tzinfo=UTC)},  # +01:00 read as the same instant
        {"repository": "acme/api", "pull_request_number": 8, "sha": "c8", "parent_shas": "p1 p2",
         "authored_at": datetime(2026, 3, 1, 8, tzinfo=UTC)},
    ]
    # the review in an unknown state is quarantined with its reason; the other is kept
    assert reviews.select(["pull_request_number", "id", "state"]).to_pylist() == [
        {"pull_request_number": 7, "id": 70, "state": "APPROVED"}]
    assert [(key, row["endpoint"], row["reason"]) for key, row in quarantine.rejected.items()] == [
        (("pull_request_reviews", "71"), "graphql review of acme/api",
         "field 'state': unknown value 'SHRUGGED' (expected one of APPROVED, CHANGES_REQUESTED, COMMENTED, "
         "DISMISSED, PENDING)")]


def _deployment(database_id: int, created_at: object, statuses: int) -> dict:
    return {"databaseId": database_id, "commitOid": "abc", "ref": {"name": "main"}, "task": "deploy",
            "environment": "production", "description": None, "creator": {"login": "ana"},
            "createdAt": created_at, "updatedAt": "2026-03-03T10:00:00Z",
            "statuses": {"nodes": [{"id": "MDE2OkRlcGxveW1lbnRTdGF0dXM" + ["xMA==", "xMQ==", "xMg=="][i],
                                    "state": "SUCCESS", "environment": "production", "description": "ok",
                                    "creator": {"login": "ana"}, "createdAt": "2026-03-03T10:05:00Z",
                                    "updatedAt": None} for i in range(statuses)]}}


def test_a_quarantined_deployment_takes_its_statuses_with_it() -> None:
    quarantine = Quarantine("github")
    with quarantining(quarantine):
        bundle = _fetcher().deployment_bundle("acme/api", [
            _deployment(5, "2026-03-03T10:00:00Z", 2),
            _deployment(6, 1772532000, 1),  # an epoch number for a timestamp: refused
            _deployment(7, "2026-03-03T11:00:00Z", 1),
        ])
    assert bundle["deployments"].column("id").to_pylist() == [5, 7]
    assert bundle["deployments"].column("production_environment").to_pylist() == [True, True]
    # statuses 10, 11 of deployment 5 and status 10 of deployment 7 (ids from the node ids); none of 6
    assert bundle["deployment_statuses"].select(["deployment_id", "id", "state"]).to_pylist() == [
        {"deployment_id": 5, "id": 10, "state": "success"}, {"deployment_id": 5, "id": 11, "state": "success"},
        {"deployment_id": 7, "id": 10, "state": "success"}]
    assert [(key, row["reason"]) for key, row in quarantine.rejected.items()] == [
        (("deployments", "6"), "field 'created_at': expected an ISO-8601 timestamp, got 1772532000")]
