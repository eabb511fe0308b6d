"""PagerDuty REST v2 source: incidents and their log entries into `raw_pagerduty`.

One endpoint serves both: `/log_entries?since=<cursor>&include[]=incidents` lists every log entry written
since the last run (a new incident, an acknowledgement, a resolution, a note) with its incident embedded in
its current state — so a nightly fetches exactly the incidents that changed.

Config: `sources.pagerduty.base_url` (default `https://api.pagerduty.com`), `sources.pagerduty.start_date`,
and the secret `sources.pagerduty.api_token` (a read-only REST API key).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from ingestion.sources.client import ApiClient
from ingestion.sources.cursors import Cursors
from ingestion.sources.projection import TableSpec, fields, project_rows, table_hints
from ingestion.timestamps import isoformat_z, start_date_from

TOOL = "PagerDuty"
PAGE_SIZE = 100
INCIDENT_STATUSES = frozenset({"triggered", "acknowledged", "resolved"})

INCIDENT = fields(
    ("id", "id", "text", True), ("incident_number", "incident_number", "bigint"), ("title", "title"),
    ("description", "description"), ("status", "status", "text", True, INCIDENT_STATUSES), ("urgency", "urgency"),
    ("service_id", "service.id"), ("service_name", "service.summary"), ("incident_key", "incident_key"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp"),
    ("last_status_change_at", "last_status_change_at", "timestamp"), ("resolved_at", "resolved_at", "timestamp"),
)
LOG_ENTRY = fields(
    ("id", "id", "text", True), ("incident_id", "incident.id", "text", True), ("type", "type", "text", True),
    ("created_at", "created_at", "timestamp", True), ("summary", "summary"), ("channel_type", "channel.type"),
    ("channel_summary", "channel.summary"), ("agent_summary", "agent.summary"),
)

TABLES: dict[str, dict[str, TableSpec]] = {
    "raw_pagerduty": {"incidents": (INCIDENT, ("id",)), "log_entries": (LOG_ENTRY, ("id",))},
}


@dlt.source(name="pagerduty", section="pagerduty", max_table_nesting=0)
def pagerduty_source(
    api_token: str = dlt.secrets.value,
    base_url: str = "https://api.pagerduty.com",
    start_date: str | None = None,
    full_refresh: bool = False,
) -> Sequence[DltResource]:
    """Log entries since the cursor, and the incidents they belong to (current state)."""
    api = ApiClient(
        TOOL, base_url, APIKeyAuth(name="Authorization", api_key=f"Token token={api_token}", location="header"),
        OffsetPaginator(limit=PAGE_SIZE, total_path=None, has_more_path="more"),
        headers={"Accept": "application/vnd.pagerduty+json;version=2"},
    )
    start = start_date_from(start_date)
    raw = TABLES["raw_pagerduty"]

    @dlt.resource(name="log_entry_pages", selected=False)
    def log_entry_pages() -> Iterator[list[dict]]:
        """Raw pages of log entries since the cursor, each entry embedding its incident."""
        cursors = Cursors(start, full_refresh=full_refresh)
        params = {"since": isoformat_z(cursors.start("log_entries")), "include[]": "incidents",
                  "is_overview": "false"}
        for page in api.pages("/log_entries", params=params, data_selector="log_entries"):
            yield page
            cursors.advance("log_entries", (row["created_at"] for row in _log_rows(page)))

    @dlt.transformer(name="log_entries", data_from=log_entry_pages, **table_hints(raw["log_entries"]))
    def log_entries(page: list[dict]) -> Iterator[list[dict]]:
        yield _log_rows(page)

    @dlt.transformer(name="incidents", data_from=log_entry_pages, **table_hints(raw["incidents"]))
    def incidents(page: list[dict]) -> Iterator[list[dict]]:
        latest = {entry["incident"].get("id"): entry["incident"] for entry in page
                  if isinstance(entry, dict) and isinstance(entry.get("incident"), dict)}
        yield project_rows(latest.values(), INCIDENT, source="pagerduty", table="incidents",
                           endpoint="/log_entries (include[]=incidents)")

    return log_entry_pages, log_entries, incidents


def _log_rows(page: list[dict]) -> list[dict]:
    return project_rows(page, LOG_ENTRY, source="pagerduty", endpoint="/log_entries", table="log_entries")
