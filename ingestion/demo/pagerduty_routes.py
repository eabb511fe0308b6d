"""The replay server's PagerDuty REST v2 routes: services, incidents (with their time window and filters),
log entries and users, with offset pagination. Payloads come from `pagerduty_api`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from ingestion.demo.replies import (
    HttpError,
    Reply,
    first,
    int_param,
    parse_time,
    ts,
)

if TYPE_CHECKING:
    from ingestion.demo.org import Org


def pd_not_found() -> Reply:
    return Reply(404, {"error": {"message": "Not Found", "code": 2100}})


class PagerDutyApi:
    def __init__(self, org: Org, base: str, path: str, query: dict[str, list[str]]) -> None:
        self.org = org
        self.base = base
        self.path = path.rstrip("/") or "/"
        self.query = query

    def handle(self) -> Reply:
        pd = self.org.pagerduty
        if self.path == "/incidents":
            return self.offset_page("incidents", self.filter_incidents(pd.incidents))
        if self.path == "/log_entries":
            return self.offset_page("log_entries", self.log_entries(pd.log_entries))
        if self.path == "/services":
            return self.offset_page("services", pd.services)
        if self.path == "/users":
            return self.offset_page("users", pd.users)
        m = re.fullmatch(r"/(incidents|services|log_entries|users)/([A-Z0-9]+)", self.path)
        if m:
            table = {
                "incidents": pd.incidents,
                "services": pd.services,
                "log_entries": pd.log_entries,
                "users": pd.users,
            }[m.group(1)]
            singular = m.group(1).rstrip("s") if m.group(1) != "log_entries" else "log_entry"
            for item in table:
                if item["id"] == m.group(2):
                    return Reply(200, {singular: item})
            return pd_not_found()
        m = re.fullmatch(r"/incidents/([A-Z0-9]+)/log_entries", self.path)
        if m:
            entries = [e for e in pd.log_entries if e["incident"]["id"] == m.group(1)]
            return self.offset_page("log_entries", self.log_entries(entries))
        return pd_not_found()

    def time_window(self) -> tuple[datetime | None, datetime | None]:
        try:
            return ts(first(self.query, "since")), ts(first(self.query, "until"))
        except ValueError as err:
            raise HttpError(
                Reply(
                    400,
                    {
                        "error": {
                            "message": "Invalid Input Provided",
                            "code": 2001,
                            "errors": ["Since is not a valid date."],
                        }
                    },
                )
            ) from err

    def filter_incidents(self, incidents: list[dict]) -> list[dict]:
        since, until = self.time_window()
        statuses = self.query.get("statuses[]") or []
        services = self.query.get("service_ids[]") or []
        urgencies = self.query.get("urgencies[]") or []
        out = []
        for inc in incidents:
            at = parse_time(inc["created_at"])
            if (since and at < since) or (until and at >= until):
                continue
            if statuses and inc["status"] not in statuses:
                continue
            if services and inc["service"]["id"] not in services:
                continue
            if urgencies and inc["urgency"] not in urgencies:
                continue
            out.append(inc)
        return sorted(out, key=lambda i: (i["created_at"], i["incident_number"]))

    def log_entries(self, entries: list[dict]) -> list[dict]:
        since, until = self.time_window()
        includes = set(self.query.get("include[]") or [])
        by_id = {i["id"]: i for i in self.org.pagerduty.incidents}
        out = []
        for entry in entries:
            try:
                at = parse_time(entry["created_at"])
            except (AttributeError, TypeError, ValueError):  # tests break payloads on purpose: serve it as sent
                at = None
            if at is not None and ((since and at < since) or (until and at >= until)):
                continue
            if "incidents" in includes and entry["incident"]["id"] in by_id:
                entry = {**entry, "incident": by_id[entry["incident"]["id"]]}
            out.append(entry)
        return sorted(out, key=lambda e: (str(e["created_at"]), e["id"]))

    def offset_page(self, key: str, items: list[dict]) -> Reply:
        limit = min(max(int_param(self.query, "limit", 25), 1), 100)
        offset = max(int_param(self.query, "offset", 0), 0)
        chunk = items[offset : offset + limit]
        want_total = (first(self.query, "total") or "").lower() == "true"
        return Reply(
            200,
            {
                key: chunk,
                "limit": limit,
                "offset": offset,
                "total": len(items) if want_total else None,
                "more": offset + len(chunk) < len(items),
            },
        )
