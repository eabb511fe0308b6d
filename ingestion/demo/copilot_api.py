"""GitHub Copilot usage-metrics routes for the replay server, under the ``/copilot`` prefix.

Serves what GitHub serves (REST API version 2022-11-28):

- ``/orgs/{org}/copilot/metrics/reports/{users-1-day|user-teams-1-day|organization-1-day}?day=YYYY-MM-DD``
  (and the ``/enterprises/{enterprise}/…`` forms): ``{download_links, report_day}``; ``204`` with no body for a
  day without a report; GitHub's 404 body for an unknown organisation or enterprise;
- the NDJSON files behind the links, at ``/copilot/files/…?expires=…&signature=…``: signed (HMAC) and
  expiring like a blob-store SAS link; a link past its expiry or with a bad signature answers the file host's
  ``403 AuthenticationFailed``, and a request that also carries an ``Authorization`` header (a leaked token) ``400``;
- ``/orgs/{org}/copilot/billing/seats`` (``page``/``per_page``, ``Link`` header).

Test controls on :class:`CopilotData`: ``expire_next`` (the next N links are issued already expired),
``no_content_days`` (days answered 204). The demo data comes from :func:`simulate`: one team adopts the assistant
partway through the period; the others try it now and then. Field names follow GitHub's documented report
schema (docs.github.com, "Data available in Copilot usage metrics").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

TOKEN = "demo-copilot-token"
REPORTS = ("users-1-day", "user-teams-1-day", "organization-1-day")
Json = dict[str, Any]
Reply = tuple[int, Any, dict[str, str]]
_GITHUB_DOCS = "https://docs.github.com/rest/copilot/copilot-usage-metrics"
_EXPIRED = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server '
            "failed to authenticate the request. Signed expiry time has passed.</Message></Error>")
_AUTH_CONFLICT = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidAuthenticationInfo</Code><Message>'
                  "Authentication information is not given in the correct format.</Message></Error>")
_NDJSON = {"Content-Type": "application/x-ndjson"}


@dataclass
class CopilotData:
    """One organisation's (and optionally an enterprise's) reports: report name -> day -> NDJSON records."""

    org: str = "acme"
    enterprise: str | None = None
    reports: dict[str, dict[str, list[Json]]] = field(default_factory=lambda: {name: {} for name in REPORTS})
    seats: list[Json] = field(default_factory=list)
    last_day: str | None = None  # newest day with a report; later days answer 204 (not generated yet)
    no_content_days: list[str] = field(default_factory=list)
    expire_next: int = 0  # test control: the next N links are issued already expired
    link_ttl_seconds: int = 300
    files_per_report: int = 2
    secret: str = "demo-copilot-signing-key"  # plain JSON fields: Org.as_dict() stays serialisable

    def sign(self, path: str, expires: int) -> str:
        return hmac.new(self.secret.encode(), f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()


def handle(data: CopilotData | None, method: str, path: str, query: dict[str, list[str]],
           headers: Mapping[str, str]) -> Reply:
    data = data or CopilotData()
    if path.startswith("/files/"):
        if headers.get("Authorization"):  # like a blob store: a signed link plus a token is refused
            return 400, _AUTH_CONFLICT, {"Content-Type": "application/xml"}
        return _file(data, path, query)
    if (headers.get("Authorization") or "").strip() != f"Bearer {TOKEN}":
        return 401, {"message": "Bad credentials", "documentation_url": _GITHUB_DOCS, "status": "401"}, {}
    if method not in ("GET", "HEAD"):
        return _not_found()
    report = re.fullmatch(r"/(orgs|enterprises)/([^/]+)/copilot/metrics/reports/([a-z0-9-]+)", path)
    if report:
        kind, name, which = report.groups()
        if (kind == "orgs" and name.lower() != data.org.lower()) or \
                (kind == "enterprises" and name != data.enterprise) or which not in REPORTS:
            return _not_found()
        return _links(data, f"{kind}/{name}", which, (query.get("day") or [""])[0], headers.get("Host", ""))
    seats = re.fullmatch(r"/orgs/([^/]+)/copilot/billing/seats", path)
    if seats and seats.group(1).lower() == data.org.lower():
        return _seats(data, path, query, headers.get("Host", ""))
    return _not_found()


def _not_found() -> Reply:
    return 404, {"message": "Not Found", "documentation_url": _GITHUB_DOCS, "status": "404"}, {}


def _links(data: CopilotData, scope: str, report: str, day: str, host: str) -> Reply:
    try:
        date.fromisoformat(day)
    except ValueError:
        return 422, {"message": "Invalid day", "documentation_url": _GITHUB_DOCS, "status": "422"}, {}
    if day in data.no_content_days or (data.last_day is not None and day > data.last_day):
        return 204, "", {}
    records = data.reports[report].get(day, []) if scope.startswith("orgs") or data.enterprise else []
    parts = max(1, min(data.files_per_report, len(records)))
    links = []
    for part in range(parts):
        expires = int(time.time()) + data.link_ttl_seconds
        if data.expire_next > 0:
            data.expire_next -= 1
            expires = int(time.time()) - 60
        file_path = f"/files/{scope}/{report}/{day}/{part}.ndjson"
        links.append(f"http://{host}/copilot{file_path}?expires={expires}&signature={data.sign(file_path, expires)}")
    return 200, {"download_links": links, "report_day": day}, {}


def _file(data: CopilotData, path: str, query: dict[str, list[str]]) -> Reply:
    match = re.fullmatch(r"/files/(?:orgs|enterprises)/[^/]+/([a-z0-9-]+)/([0-9-]+)/(\d+)\.ndjson", path)
    try:
        expires = int((query.get("expires") or ["0"])[0])
    except ValueError:
        expires = 0
    signature = (query.get("signature") or [""])[0]
    if not match or expires < time.time() or not hmac.compare_digest(signature, data.sign(path, expires)):
        return 403, _EXPIRED, {"Content-Type": "application/xml"}
    report, day, part = match.group(1), match.group(2), int(match.group(3))
    records = data.reports.get(report, {}).get(day, [])
    parts = max(1, min(data.files_per_report, len(records)))
    chunk = records[part::parts]
    return 200, "".join(json.dumps(record) + "\n" for record in chunk), dict(_NDJSON)


def _seats(data: CopilotData, path: str, query: dict[str, list[str]], host: str) -> Reply:
    per_page = int((query.get("per_page") or ["50"])[0])
    page = int((query.get("page") or ["1"])[0])
    last = max(1, -(-len(data.seats) // per_page))
    body = {"total_seats": len(data.seats), "seats": data.seats[(page - 1) * per_page:page * per_page]}
    headers = {}
    if page < last:
        base = f"http://{host}/copilot{path}?per_page={per_page}"
        headers["Link"] = f'<{base}&page={page + 1}>; rel="next", <{base}&page={last}>; rel="last"'
    return 200, body, headers


# ----------------------------------------------------------------------------------- demo organisation

def _counters(rng: random.Random, scale: int) -> Json:
    suggested = rng.randint(10, 40) * scale
    accepted = rng.randint(suggested // 5, suggested // 2)
    generated = rng.randint(5, 15) * scale
    return {"user_initiated_interaction_count": rng.randint(2, 12) * scale,
            "code_generation_activity_count": generated,
            "code_acceptance_activity_count": rng.randint(generated // 4, generated // 2),
            "loc_suggested_to_add_sum": suggested, "loc_suggested_to_delete_sum": 0,
            "loc_added_sum": accepted, "loc_deleted_sum": rng.randint(0, accepted // 4)}


def user_day(rng: random.Random, org_id: str, login: str, day: date, heavy: bool) -> Json:
    """One per-user report record, as documented for `organization_users_1_day`."""
    completion = _counters(rng, 2 if heavy else 1)
    chat = _counters(rng, 1)
    agent = _counters(rng, 2) if heavy and rng.random() < 0.6 else None
    features = [{"feature": "code_completion", **completion}, {"feature": "chat_panel_ask_mode", **chat}]
    if agent:
        features.append({"feature": "agent_edit", **agent, "user_initiated_interaction_count": 0})
    totals = {key: sum(item[key] for item in features) for key in completion}
    used_cli = heavy and rng.random() < 0.3
    record: Json = {
        "day": day.isoformat(), "organization_id": org_id, "enterprise_id": None, "user_id": user_id(login),
        "user_login": login, **totals, "used_chat": True, "used_agent": agent is not None, "used_cli": used_cli,
        "used_copilot_code_review_active": False, "totals_by_feature": features,
        "totals_by_ide": [{"ide": "vscode" if zlib.crc32(login.encode()) % 3 else "intellij", **totals}],
        "totals_by_language_feature": [], "totals_by_language_model": [], "totals_by_model_feature": [],
    }
    if used_cli:
        record["totals_by_cli"] = {"session_count": 1, "request_count": rng.randint(2, 9),
                                   "prompt_count": rng.randint(1, 4)}
    return record


def user_id(login: str) -> int:
    return 1_000_000 + zlib.crc32(login.encode()) % 1_000_000


def simulate(teams: dict[str, list[str]], start: date, end: date, *, adopter: str, seed: int = 7,
             org: str = "acme") -> CopilotData:
    """Reports for the days in [start, end): every engineer has a seat; the `adopter` team starts using the
    assistant on three to five working days a week from a third of the way in; the others on up to two."""
    rng = random.Random(f"{seed}-copilot")
    data = CopilotData(org=org, last_day=(end - timedelta(days=1)).isoformat())
    org_id = "4242"
    adoption = start + timedelta(days=(end - start).days // 3)
    data.seats = [{"created_at": f"{start.isoformat()}T09:00:00Z", "updated_at": f"{start.isoformat()}T09:00:00Z",
                   "pending_cancellation_date": None, "last_activity_at": None, "last_activity_editor": None,
                   "plan_type": "business", "assigning_team": {"slug": team, "name": team},
                   "assignee": {"login": login, "id": user_id(login), "type": "User"}}
                  for team, logins in sorted(teams.items()) for login in logins]
    day, week_plan = start, _week_plan(rng, teams, adopter, start >= adoption)
    while day < end:
        if day.weekday() == 0:
            week_plan = _week_plan(rng, teams, adopter, day >= adoption)
        users = [user_day(rng, org_id, login, day, team == adopter and day >= adoption)
                 for team, logins in sorted(teams.items()) for login in logins
                 if day.weekday() < 5 and day.weekday() in week_plan.get(login, ())]
        data.reports["users-1-day"][day.isoformat()] = users
        data.reports["user-teams-1-day"][day.isoformat()] = [  # GitHub leaves out teams under 5 seats
            {"user_id": user_id(login), "user_login": login, "day": day.isoformat(), "organization_id": org_id,
             "team_id": 100 + index, "slug": team}
            for index, (team, logins) in enumerate(sorted(teams.items())) if len(logins) >= 5 for login in logins]
        data.reports["organization-1-day"][day.isoformat()] = [_org_day(org_id, day, users)]
        day += timedelta(days=1)
    return data


def _week_plan(rng: random.Random, teams: dict[str, list[str]], adopter: str, adopted: bool) -> dict[str, set]:
    plan = {}
    for team, logins in teams.items():
        for login in logins:
            days = rng.randint(3, 5) if team == adopter and adopted else rng.choice((0, 0, 1, 2))
            plan[login] = set(rng.sample(range(5), days))
    return plan


def _org_day(org_id: str, day: date, users: list[Json]) -> Json:
    keys = ("code_generation_activity_count", "code_acceptance_activity_count", "loc_suggested_to_add_sum",
            "loc_added_sum", "user_initiated_interaction_count")
    return {"organization_id": org_id, "day_totals": [{
        "day": day.isoformat(), "daily_active_users": len(users),
        **{key: sum(user[key] for user in users) for key in keys},
        "pull_requests": {"total_created": 0, "total_created_by_copilot": 0, "total_merged": 0,
                          "total_merged_created_by_copilot": 0}}]}


def source_settings(base_url: str, org: str, start: str, end: str) -> dict[str, str]:
    """Environment settings pointing the Copilot source at a replay server's ``/copilot`` prefix."""
    return {"SOURCES__GITHUB_COPILOT__BASE_URL": base_url,
            "SOURCES__GITHUB_COPILOT__ORGANIZATIONS": json.dumps([org]),
            "SOURCES__GITHUB_COPILOT__ACCESS_TOKEN": TOKEN,
            "SOURCES__GITHUB_COPILOT__START_DATE": start, "SOURCES__GITHUB_COPILOT__END_DATE": end}
