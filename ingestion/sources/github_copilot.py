"""GitHub Copilot usage-metrics source: the daily reports and the seat list into `raw_github_copilot`.

For every organisation (and the enterprise, when one is set) and every report day since the cursor, three
report endpoints are asked for the day — `users-1-day` (each user's activity), `user-teams-1-day` (each user's
team memberships that day) and `organization-1-day` (totals) under `/orgs/{org}/copilot/metrics/reports/` or
`/enterprises/{enterprise}/copilot/metrics/reports/`. Each answers `{download_links, report_day}`; the rows are
in the NDJSON files behind those links. The links are signed and expire: they are used at once and never
stored; one that has expired (403/404/410 from the file host) is replaced by asking the endpoint again.

A `204 No Content` means GitHub has no report for the day (yet): the day is left for the next run unless a later
day already has one. A 404 means the organisation, the enterprise or the usage-metrics policy is missing: a
clear error. The seat list (`/orgs/{org}/copilot/billing/seats`) is reloaded in full on every run.

Config: `sources.github_copilot.organizations` (list), `…enterprise` (slug, optional), `…start_date` (first
report day, default one year ago: GitHub keeps one year), `…end_date` (last report day, default yesterday UTC),
`…base_url` (default `https://api.github.com`) and the secret `…access_token` (classic: `read:org`;
fine-grained: the organisation permission "View Organization Copilot Metrics").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import dlt
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs.runtime_configuration import RuntimeConfiguration
from dlt.sources import DltResource
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator
from requests import HTTPError, Response

from ingestion.errors import PayloadError, SourceError
from ingestion.sources.client import ApiClient
from ingestion.sources.projection import TableSpec, fields, project_rows, table_hints

TOOL = "GitHub Copilot"
SOURCE = "github_copilot"
REPORTS = ("users-1-day", "user-teams-1-day", "organization-1-day")
EXPIRED = (403, 404, 410)  # what a file host answers for a signed link past its expiry
LINK_ATTEMPTS = 3  # ask the report endpoint for fresh links at most this often per file
HISTORY_DAYS = 365  # GitHub keeps a year of reports
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
SCOPE = ("scope", "scope", "text", True)  # `org:<name>` or `enterprise:<slug>`, added to every row

COUNTERS = (
    ("user_initiated_interaction_count", "user_initiated_interaction_count", "bigint"),
    ("code_generation_activity_count", "code_generation_activity_count", "bigint"),
    ("code_acceptance_activity_count", "code_acceptance_activity_count", "bigint"),
    ("loc_suggested_to_add_sum", "loc_suggested_to_add_sum", "bigint"),
    ("loc_suggested_to_delete_sum", "loc_suggested_to_delete_sum", "bigint"),
    ("loc_added_sum", "loc_added_sum", "bigint"),
    ("loc_deleted_sum", "loc_deleted_sum", "bigint"),
)
USER_DAY = fields(
    SCOPE, ("day", "day", "text", True), ("user_id", "user_id", "bigint", True), ("user_login", "user_login"),
    ("organization_id", "organization_id"), ("enterprise_id", "enterprise_id"), *COUNTERS,
    ("used_chat", "used_chat", "bool"), ("used_agent", "used_agent", "bool"), ("used_cli", "used_cli", "bool"),
    ("used_copilot_code_review_active", "used_copilot_code_review_active", "bool"),
    ("cli_session_count", "totals_by_cli.session_count", "bigint"),
    ("cli_request_count", "totals_by_cli.request_count", "bigint"),
    ("cli_prompt_count", "totals_by_cli.prompt_count", "bigint"),
)
USER_DAY_FEATURE = fields(SCOPE, ("day", "day", "text", True), ("user_id", "user_id", "bigint", True),
                          ("feature", "feature", "text", True), *COUNTERS)
USER_DAY_IDE = fields(SCOPE, ("day", "day", "text", True), ("user_id", "user_id", "bigint", True),
                      ("ide", "ide", "text", True), *COUNTERS)
USER_TEAM = fields(
    SCOPE, ("day", "day", "text", True), ("user_id", "user_id", "bigint", True), ("user_login", "user_login"),
    ("team_id", "team_id", "bigint", True), ("team_slug", "slug"), ("organization_id", "organization_id"),
    ("enterprise_id", "enterprise_id"),
)
ENTITY_DAY = fields(
    SCOPE, ("day", "day", "text", True), ("daily_active_users", "daily_active_users", "bigint"),
    ("weekly_active_users", "weekly_active_users", "bigint"),
    ("monthly_active_users", "monthly_active_users", "bigint"),
    ("daily_active_cli_users", "daily_active_cli_users", "bigint"), *COUNTERS,
    ("pull_requests_created", "pull_requests.total_created", "bigint"),
    ("pull_requests_created_by_copilot", "pull_requests.total_created_by_copilot", "bigint"),
    ("pull_requests_merged", "pull_requests.total_merged", "bigint"),
    ("pull_requests_merged_created_by_copilot", "pull_requests.total_merged_created_by_copilot", "bigint"),
)
SEAT = fields(
    ("organization", "organization", "text", True), ("assignee_id", "assignee.id", "bigint", True),
    ("assignee_login", "assignee.login"), ("assignee_type", "assignee.type"),
    ("assigning_team_slug", "assigning_team.slug"), ("plan_type", "plan_type"),
    ("created_at", "created_at", "timestamp", True), ("updated_at", "updated_at", "timestamp"),
    ("pending_cancellation_date", "pending_cancellation_date"), ("last_activity_at", "last_activity_at", "timestamp"),
    ("last_activity_editor", "last_activity_editor"),
)

TABLES: dict[str, dict[str, TableSpec]] = {
    "raw_github_copilot": {
        "user_days": (USER_DAY, ("scope", "day", "user_id")),
        "user_day_features": (USER_DAY_FEATURE, ("scope", "day", "user_id", "feature")),
        "user_day_ides": (USER_DAY_IDE, ("scope", "day", "user_id", "ide")),
        "user_teams": (USER_TEAM, ("scope", "day", "user_id", "team_id")),
        "entity_days": (ENTITY_DAY, ("scope", "day")),
        "seats": (SEAT, ("organization", "assignee_id")),
    },
}
RAW = TABLES["raw_github_copilot"]


class ReportClient:
    """Asks one scope's report endpoints for a day and reads the NDJSON files behind the signed links."""

    def __init__(self, api: ApiClient, prefix: str, scope: str) -> None:
        self.api, self.prefix, self.scope = api, prefix, scope
        runtime = resolve_configuration(RuntimeConfiguration())
        # the file host gets no Authorization header: the signature in the link is the credential
        self.files = Client(raise_for_status=False, request_timeout=runtime.request_timeout,
                            request_max_attempts=runtime.request_max_attempts,
                            request_backoff_factor=runtime.request_backoff_factor,
                            request_max_retry_delay=runtime.request_max_retry_delay).session

    def links(self, report: str, day: date) -> list[str] | None:
        """The day's download links, or None when GitHub has no report for the day (204)."""
        path = f"{self.prefix}/copilot/metrics/reports/{report}"
        response: Response = self.api.rest.get(path, params={"day": day.isoformat()})
        if response.status_code == 204:
            return None
        if response.status_code == 404:
            raise SourceError(
                f"{TOOL}: {path} answered 404 Not Found for {day}: check the name ({self.scope}), that the "
                "\"Copilot usage metrics\" policy is enabled, and that the token may read it (classic token: "
                "read:org; fine-grained: the organisation permission \"View Organization Copilot Metrics\")")
        if response.status_code >= 400:
            raise self.api._error(HTTPError(str(response.status_code), response=response))
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceError(f"{TOOL} sent a body that is not valid JSON for {path}: {exc}") from None
        links = body.get("download_links") if isinstance(body, Mapping) else None
        if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
            raise PayloadError(SOURCE, path, day.isoformat(), "expected {download_links: [...], report_day}")
        return links

    def rows(self, report: str, day: date) -> list[dict[str, Any]] | None:
        """Every record of the day's report (None for a 204), asking for fresh links when one has expired."""
        links = self.links(report, day)
        if links is None:
            return None
        records: list[dict[str, Any]] = []
        for index in range(len(links)):
            records += self._file(report, day, links, index)
        return records

    def _file(self, report: str, day: date, links: list[str], index: int) -> list[dict[str, Any]]:
        for _attempt in range(LINK_ATTEMPTS):
            response = self.files.get(links[index])
            if response.status_code < 300:
                return _ndjson(response.text, f"{report} {day} file {index + 1}")
            if response.status_code not in EXPIRED:
                break
            fresh = self.links(report, day)  # the link expired: the endpoint signs new ones
            if not fresh or len(fresh) <= index:
                return []
            links[:] = fresh
        where = urlsplit(links[index])  # never the signature in the query string
        raise SourceError(f"{TOOL}: could not download {report} for {day} from {where.netloc}{where.path} "
                          f"({response.status_code})")


def _ndjson(text: str, what: str) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PayloadError(SOURCE, what, f"line {number}", f"not JSON: {exc}") from None
        records.append(record)
    return records


BREAKDOWNS = (("user_day_features", "totals_by_feature", USER_DAY_FEATURE, "feature"),
              ("user_day_ides", "totals_by_ide", USER_DAY_IDE, "ide"))


def _keyed(record: Any, scope: str, *parts: str) -> Any:
    """The record with its scope and a quarantine key (`scope/day/user/...`); a non-object is left as it is."""
    if not isinstance(record, Mapping):
        return record
    key = "/".join([scope, *(str(record.get(part)) for part in parts)])
    return {**record, "scope": scope, "_key": key}


def _user_rows(scope: str, records: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """`users-1-day` records as rows of user_days and of its per-feature and per-IDE breakdowns; a record (or
    breakdown item) that breaks its raw contract is quarantined, the rest kept."""
    endpoint = "users-1-day"
    users = [_keyed(record, scope, "day", "user_id") for record in records]
    out = {"user_days": project_rows(users, USER_DAY, source=SOURCE, endpoint=endpoint, table="user_days",
                                     id_path="_key")}
    for table, array, spec, dimension in BREAKDOWNS:
        items = [_keyed({**item, "day": user.get("day"), "user_id": user.get("user_id")}, scope, "day", "user_id",
                        dimension)
                 for user in users if isinstance(user, Mapping) and isinstance(user.get(array), list)
                 for item in user[array] if isinstance(item, Mapping)]
        out[table] = project_rows(items, spec, source=SOURCE, endpoint=endpoint, table=table, id_path="_key")
    return out


def _entity_rows(scope: str, records: list[Any]) -> list[dict[str, Any]]:
    """One row per day: a record carries its days in `day_totals` (or is itself a day's totals)."""
    days = [total for record in records if isinstance(record, Mapping)
            for total in (record.get("day_totals") or [record])]
    return project_rows([_keyed(total, scope, "day") for total in days], ENTITY_DAY, source=SOURCE,
                        endpoint="organization-1-day", table="entity_days", id_path="_key")


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _as_date(value: str | None, default: date) -> date:
    return date.fromisoformat(value[:10]) if value else default


def _day_bundle(reports: ReportClient, day: date) -> dict[str, list[dict[str, Any]]] | None:
    """The rows of one day's three reports by raw table, or None when the users report does not exist (204)."""
    users = reports.rows("users-1-day", day)
    if users is None:
        return None
    bundle = _user_rows(reports.scope, users)
    teams = [_keyed(record, reports.scope, "day", "user_id", "team_id")
             for record in reports.rows("user-teams-1-day", day) or []]
    bundle["user_teams"] = project_rows(teams, USER_TEAM, source=SOURCE, endpoint="user-teams-1-day",
                                        table="user_teams", id_path="_key")
    bundle["entity_days"] = _entity_rows(reports.scope, reports.rows("organization-1-day", day) or [])
    return bundle


def _report_days(api: ApiClient, scopes: Sequence[tuple[str, str]], first: date, last: date, *,
                 full_refresh: bool) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Bundles of each scope's days since its cursor (kept in the resource state); the cursor moves past each day
    whose users report exists (a 204 day before it is passed over, one after it is asked again next run)."""
    loaded: dict[str, str] = dlt.current.resource_state().setdefault("report_days", {})  # scope -> last day
    if full_refresh:
        loaded.clear()
    for prefix, scope in scopes:
        since = date.fromisoformat(loaded[scope]) + timedelta(days=1) if scope in loaded else first
        reports = ReportClient(api, prefix, scope)
        for day in _days(max(since, first), last):
            bundle = _day_bundle(reports, day)
            if bundle is not None:
                yield bundle
                loaded[scope] = day.isoformat()


@dlt.source(name="github_copilot", section="github_copilot", max_table_nesting=0)
def github_copilot_source(
    organizations: list[str] = dlt.config.value,
    access_token: str = dlt.secrets.value,
    enterprise: str | None = None,
    base_url: str = "https://api.github.com",
    start_date: str | None = None,
    end_date: str | None = None,
    full_refresh: bool = False,
) -> Sequence[DltResource]:
    """Daily Copilot usage reports (per user, user-teams, totals) since the cursor, and the seat list."""
    api = ApiClient(TOOL, base_url, BearerTokenAuth(access_token), HeaderLinkPaginator(), headers=HEADERS)
    last = _as_date(end_date, datetime.now(UTC).date() - timedelta(days=1))
    first = max(_as_date(start_date, last - timedelta(days=HISTORY_DAYS - 1)), last - timedelta(days=HISTORY_DAYS))
    scopes = [(f"/orgs/{org}", f"org:{org}") for org in organizations]
    if enterprise:
        scopes.append((f"/enterprises/{enterprise}", f"enterprise:{enterprise}"))

    @dlt.resource(name="report_days", selected=False)
    def report_days() -> Iterator[dict[str, list[dict[str, Any]]]]:
        """One bundle of rows per scope and report day since the cursor."""
        yield from _report_days(api, scopes, first, last, full_refresh=full_refresh)

    def table(name: str) -> DltResource:
        def rows(bundle: dict[str, list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
            if bundle[name]:
                yield bundle[name]
        return dlt.transformer(rows, name=name, data_from=report_days, **table_hints(RAW[name]))

    @dlt.resource(name="seats", **table_hints(RAW["seats"]))
    def seats() -> Iterator[list[dict[str, Any]]]:
        for org in organizations:
            path = f"/orgs/{org}/copilot/billing/seats"
            for page in api.pages(path, params={"per_page": 100}, data_selector="seats"):
                seats = [{**seat, "organization": org} if isinstance(seat, Mapping) else seat for seat in page]
                yield project_rows(seats, SEAT, source=SOURCE, endpoint=path, table="seats", id_path="assignee.id")

    return (report_days, *(table(name) for name in RAW if name != "seats"), seats)
