"""Jira source (Cloud REST v3 or Data Center REST v2, plus the agile API) into `raw_jira`.

- issues: Cloud (`api_version` 3) searches with `/rest/api/3/search/jql` (the enhanced search that replaced
  `/rest/api/3/search` in 2025: `nextPageToken`/`isLast` paging, no `startAt` or `total`, fields named one by
  one because it returns ids alone otherwise); Data Center (`api_version` 2) with `/rest/api/2/search`
  (`startAt`/`maxResults`/`total`). Both with the bounded `jql=project in (…) AND updated >= "<cursor>"` and
  `expand=changelog`; when an issue's embedded changelog is truncated (`changelog.total` above the histories
  it holds) its whole history is read from `/rest/api/{v}/issue/{id}/changelog`.
- changelog items (one row per changed field of a history entry; status moves carry status *ids*),
- statuses (`/rest/api/{v}/status`: id, name and `statusCategory.key` — the only thing status mapping uses,
  because boards name statuses in any language),
- sprints of every board of the configured projects (`/rest/agile/1.0/board?projectKeyOrId=…`, then
  `/rest/agile/1.0/board/{id}/sprint`); each issue keeps the sprint ids of its sprint field.

Config: `sources.jira.base_url` (`https://acme.atlassian.net` or a Data Center URL), `sources.jira.projects`
(JSON list of project keys), `sources.jira.start_date`, `sources.jira.api_version` (3 = Cloud, 2 = Data
Center), `sources.jira.sprint_field` (default `customfield_10020`), `sources.jira.story_points_field` (default
`customfield_10016`, Cloud's "Story point estimate"), `sources.jira.email` and the secret
`sources.jira.api_token` (Cloud: e-mail + API token, basic auth; Data Center: a personal access token, sent
as a bearer token when no e-mail is set).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth, HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import (
    JSONResponseCursorPaginator,
    OffsetPaginator,
    SinglePagePaginator,
)
from requests import Response

from ingestion.errors import PayloadError
from ingestion.sources.client import ApiClient
from ingestion.sources.endpoints import Embedded, Endpoint, Incremental, Walk, resources, tables
from ingestion.sources.projection import TableSpec, fields, project
from ingestion.timestamps import start_date_from

TOOL = "Jira"
PAGE_SIZE = 100
STATUS_CATEGORIES = frozenset({"new", "indeterminate", "done", "undefined"})
SPRINT_STATES = frozenset({"future", "active", "closed"})
_DC_SPRINT_ID = re.compile(r"\bid=(\d+)")

ISSUE = fields(
    ("id", "id", "text", True), ("key", "key", "text", True), ("project_key", "fields.project.key"),
    ("summary", "fields.summary"), ("issue_type", "fields.issuetype.name"),
    ("is_subtask", "fields.issuetype.subtask", "bool"), ("status_id", "fields.status.id", "text", True),
    ("status_name", "fields.status.name"),
    ("status_category_key", "fields.status.statusCategory.key", "text", True, STATUS_CATEGORIES),
    ("priority", "fields.priority.name"), ("resolution", "fields.resolution.name"), ("labels", "fields.labels"),
    ("assignee_account_id", "fields.assignee.accountId"), ("assignee_email", "fields.assignee.emailAddress"),
    ("assignee_name", "fields.assignee.displayName"), ("reporter_account_id", "fields.reporter.accountId"),
    ("parent_key", "fields.parent.key"),
    ("created_at", "fields.created", "timestamp", True), ("updated_at", "fields.updated", "timestamp", True),
    ("resolved_at", "fields.resolutiondate", "timestamp"), ("due_date", "fields.duedate"),  # `YYYY-MM-DD`
)
ISSUE_EXTRA = fields(
    ("sprint_ids", "sprint_ids"),  # space-separated ids from the sprint field
    ("story_points", "story_points"),  # the story points field's number, as text
)
CHANGELOG_ITEM = fields(
    ("issue_id", "issue_id", "text", True), ("history_id", "history_id", "text", True),
    ("item_index", "item_index", "bigint", True), ("field", "field", "text", True), ("field_id", "fieldId"),
    ("from_value", "from"), ("from_string", "fromString"), ("to_value", "to"), ("to_string", "toString"),
    ("author_account_id", "author_account_id"), ("created_at", "created_at", "timestamp", True),
)
HISTORY = fields(("id", "id", "text", True), ("created", "created", "timestamp", True))
STATUS = fields(
    ("id", "id", "text", True), ("name", "name", "text", True), ("untranslated_name", "untranslatedName"),
    ("category_key", "statusCategory.key", "text", True, STATUS_CATEGORIES),
)
SPRINT = fields(
    ("id", "id", "bigint", True), ("name", "name", "text", True), ("state", "state", "text", True, SPRINT_STATES),
    ("goal", "goal"), ("origin_board_id", "originBoardId", "bigint"), ("start_at", "startDate", "timestamp"),
    ("end_at", "endDate", "timestamp"), ("completed_at", "completeDate", "timestamp"),
)
BOARD = fields(("id", "id", "bigint", True), ("name", "name"), ("type", "type"))

class JiraPaginator(OffsetPaginator):
    """`startAt`/`maxResults` paging that stops on `isLast` (agile API, changelog), on `total` (search) or on
    an empty page — Jira's endpoints each send a different subset of those."""

    def __init__(self, limit: int = PAGE_SIZE) -> None:
        super().__init__(limit=limit, offset_param="startAt", limit_param="maxResults", total_path=None,
                         stop_after_empty_page=True)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        body = response.json()
        if not isinstance(body, Mapping):
            return
        total = body.get("total")
        if body.get("isLast") is True or (isinstance(total, int) and self.current_value >= total):
            self._has_next_page = False


class JiraTokenPaginator(JSONResponseCursorPaginator):
    """Cloud's enhanced search: `nextPageToken` from the body into the next request, until `isLast`."""

    def __init__(self) -> None:
        super().__init__(cursor_path="nextPageToken", cursor_param="nextPageToken")

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        body = response.json()
        if isinstance(body, Mapping) and body.get("isLast") is True:
            self._has_next_page = False


# the issue fields the raw table reads (the enhanced search returns only the fields it is asked for)
ISSUE_FIELDS = ("project", "summary", "issuetype", "status", "priority", "resolution", "labels", "assignee",
                "reporter", "parent", "created", "updated", "resolutiondate", "duedate")


def _id(item: Any) -> Any:
    return item.get("id") if isinstance(item, Mapping) else None


def sprint_ids(value: Any) -> str | None:
    """The sprint field as space-separated ids: Cloud sends objects, Data Center sends
    `com.atlassian.greenhopper.service.sprint.Sprint@…[id=12,…]` strings."""
    if not value:
        return None
    items = value if isinstance(value, list) else [value]
    ids = []
    for item in items:
        if isinstance(item, Mapping) and item.get("id") is not None:
            ids.append(str(item["id"]))
        elif isinstance(item, str) and (match := _DC_SPRINT_ID.search(item)):
            ids.append(match.group(1))
    return " ".join(ids) or None


def story_points(value: Any, endpoint: str, issue_id: Any) -> str | None:
    """The story points field (a number, or empty) as text; anything else stops the load."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError("jira", endpoint, issue_id, f"story points field: expected a number, got {value!r}")
    return repr(float(value))


def changelog_rows(issue_id: str, histories: Sequence[Any], endpoint: str) -> list[dict]:
    """One row per changed field of each history entry."""
    rows = []
    for history in histories:
        head = project(history, HISTORY, source="jira", endpoint=endpoint)
        author = history.get("author") or {}
        for index, item in enumerate(history.get("items") or []):
            if not isinstance(item, Mapping):
                raise PayloadError("jira", endpoint, head["id"], "changelog item is not a JSON object")
            flat = {**item, "issue_id": issue_id, "history_id": head["id"], "item_index": index,
                    "author_account_id": author.get("accountId") or author.get("name"),
                    "created_at": history["created"]}
            rows.append(project(flat, CHANGELOG_ITEM, source="jira", endpoint=endpoint, id_path="history_id"))
    return rows


def _jql_time(moment: Any) -> str:
    return moment.strftime("%Y/%m/%d %H:%M")


def _full_changelog(api: ApiClient, rest: str, search: str, item: dict) -> tuple[list[dict], str]:
    """An issue's changelog histories and the endpoint they came from: the search page embeds at most a page
    of them; a longer changelog is read from the issue's own changelog endpoint."""
    changelog = item.get("changelog") or {}
    histories = changelog.get("histories") or []
    total, shown = changelog.get("total"), changelog.get("maxResults")
    if isinstance(total, int) and total > max(len(histories), shown or 0):
        endpoint = f"{rest}/issue/{item['id']}/changelog"
        return [h for page in api.pages(endpoint, data_selector="values") for h in page], endpoint
    return histories, search


def _boards(api: ApiClient, projects: Sequence[str]) -> dict[int, dict]:
    """The boards of the configured projects, by id."""
    boards: dict[int, dict] = {}
    for key in projects:
        path = "/rest/agile/1.0/board"
        for page in api.pages(path, params={"projectKeyOrId": key}, data_selector="values"):
            boards.update((row["id"], row) for row in (project(item, BOARD, source="jira", endpoint=path)
                                                       for item in page))
    return boards


def scrum_boards(api: ApiClient, projects: Sequence[str]) -> list[int]:
    """The ids of the configured projects' boards that have sprints (kanban boards have none: the API answers
    400)."""
    return [board_id for board_id, board in sorted(_boards(api, projects).items()) if board.get("type") != "kanban"]


@dataclass(frozen=True)
class Settings:
    """The settings the endpoint table depends on."""

    projects: Sequence[str] = ()
    api_version: int = 3
    sprint_field: str = "customfield_10020"
    story_points_field: str = "customfield_10016"
    page_size: int = PAGE_SIZE
    lookback_hours: int = 24

    @property
    def rest(self) -> str:
        return f"/rest/api/{self.api_version}"

    @property
    def search(self) -> str:
        return f"{self.rest}/search/jql" if self.api_version >= 3 else f"{self.rest}/search"

    def jql(self, since: datetime) -> str:
        keys = ", ".join(f'"{key}"' for key in self.projects)
        return f'project in ({keys}) AND updated >= "{_jql_time(since)}" ORDER BY updated ASC'

    def with_extras(self, item: Any, key: Any, path: str) -> Any:
        """An issue with its sprint ids and story points lifted out of the configured custom fields."""
        fields_ = item.get("fields") if isinstance(item, Mapping) else None
        if not isinstance(fields_, Mapping):
            return item
        return {**item, "sprint_ids": sprint_ids(fields_.get(self.sprint_field)),
                "story_points": story_points(fields_.get(self.story_points_field), path, item.get("id"))}


def endpoints(settings: Settings, api: ApiClient | None = None) -> tuple[Endpoint, ...]:
    """The endpoint table: issues updated since the cursor (minus a look-back: JQL has minute precision and reads
    times in the user's time zone), oldest first, whose search pages also fill the changelog items; statuses;
    the sprints of every scrum board. `api` reads truncated changelogs (not needed for the table's shape)."""
    search = settings.search

    def changelog(item: Any) -> list[dict]:
        if _id(item) is None:
            raise PayloadError("jira", search, None, "missing required field 'id'")
        histories, endpoint = _full_changelog(api, settings.rest, search, item) if api else ([], search)
        return changelog_rows(str(item["id"]), histories, endpoint)

    paginator = JiraTokenPaginator if settings.api_version >= 3 else partial(JiraPaginator, settings.page_size)
    issues = Endpoint(
        "issues", search, ISSUE + ISSUE_EXTRA, pages="issue_pages", cursor_key="issues", data_selector="issues",
        paginator=paginator, prepare=settings.with_extras,
        params={"jql": None, "expand": "changelog", "maxResults": settings.page_size,
                "fields": ",".join((*ISSUE_FIELDS, settings.sprint_field, settings.story_points_field))},
        incremental=Incremental("updated_at", param="jql", param_format=settings.jql,
                                lookback=timedelta(hours=settings.lookback_hours)),
        embedded=(Embedded("issue_changelog_items", CHANGELOG_ITEM, ("issue_id", "history_id", "item_index"),
                           build=changelog),),
    )
    statuses = Endpoint("statuses", f"{settings.rest}/status", STATUS, paginator=SinglePagePaginator)
    sprints = Endpoint("sprints", "/rest/agile/1.0/board/{key}/sprint", SPRINT, key_column="board_id",
                       key_type="bigint", data_selector="values")
    return issues, statuses, sprints


TABLES: dict[str, dict[str, TableSpec]] = {"raw_jira": tables(*endpoints(Settings()))}


@dlt.source(name="jira", section="jira", max_table_nesting=0)
def jira_source(
    base_url: str = dlt.config.value,
    projects: list[str] = dlt.config.value,
    api_token: str = dlt.secrets.value,
    email: str | None = None,
    api_version: int = 3,
    sprint_field: str = "customfield_10020",
    story_points_field: str = "customfield_10016",
    start_date: str | None = None,
    lookback_hours: int = 24,
    page_size: int = PAGE_SIZE,
    full_refresh: bool = False,
) -> Sequence[DltResource]:
    """Issues (with changelog and sprint ids) updated since the cursor, statuses, and board sprints."""
    auth = HttpBasicAuth(email, api_token) if email else BearerTokenAuth(api_token)
    api = ApiClient(TOOL, base_url, auth, JiraPaginator(), headers={"Accept": "application/json"})
    settings = Settings(projects, api_version, sprint_field, story_points_field, page_size, lookback_hours)
    issues, statuses, sprints = endpoints(settings, api)
    walk = Walk(api, "jira", start_date_from(start_date), full_refresh=full_refresh)
    boards = Walk(api, "jira", walk.start, keys=lambda: scrum_boards(api, projects), full_refresh=full_refresh)
    return [*resources(walk, issues), *resources(walk, statuses), *resources(boards, sprints)]
