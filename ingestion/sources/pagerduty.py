"""PagerDuty REST v2 source: incidents and their log entries into `raw_pagerduty`.

One endpoint serves both: `/log_entries?since=<cursor>&include[]=incidents` lists every log entry written
since the last run (a new incident, an acknowledgement, a resolution, a note) with its incident embedded in
its current state — so a nightly fetches exactly the incidents that changed.

Config: `sources.pagerduty.base_url` (default `https://api.pagerduty.com`), `sources.pagerduty.start_date`,
and the secret `sources.pagerduty.api_token` (a read-only REST API key).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from ingestion.sources.client import ApiClient
from ingestion.sources.endpoints import Embedded, Endpoint, Incremental, Walk, resources, tables
from ingestion.sources.projection import TableSpec, fields
from ingestion.timestamps import start_date_from

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



def latest_incidents(page: list[Any]) -> list[Any]:
    """The incidents embedded in a page of log entries, each once in its latest state."""
    return list({entry["incident"].get("id"): entry["incident"] for entry in page
                 if isinstance(entry, dict) and isinstance(entry.get("incident"), dict)}.values())


# The endpoint table: one listing (log entries since the cursor) whose pages also fill `incidents`.
LOG_ENTRIES = Endpoint(
    "log_entries", "/log_entries", LOG_ENTRY, pages="log_entry_pages", data_selector="log_entries",
    params={"include[]": "incidents", "is_overview": "false"},
    incremental=Incremental("created_at", param="since"),
    embedded=(Embedded("incidents", INCIDENT, ("id",), endpoint="/log_entries (include[]=incidents)",
                       records=latest_incidents),),
)
TABLES: dict[str, dict[str, TableSpec]] = {"raw_pagerduty": tables(LOG_ENTRIES)}


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
    return resources(Walk(api, "pagerduty", start_date_from(start_date), full_refresh=full_refresh), LOG_ENTRIES)
