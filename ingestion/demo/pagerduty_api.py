"""The PagerDuty simulator: every REST v2 payload the PagerDuty API would return for the demo
organisation's account (services, incidents, log entries, users). Deterministic ids; URLs point at
https://api.pagerduty.com and the replay server rewrites them. Routes are in `pagerduty_routes`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ingestion.demo.facts import Json, _IncidentSpec, _pd_id, _Person, iso, person_of, sha1

if TYPE_CHECKING:
    from ingestion.demo.org import OrgBuilder

PAGERDUTY_API = "https://api.pagerduty.com"


@dataclass
class PagerDutyData:
    """Every payload the PagerDuty API would return for the account."""

    services: list[Json] = field(default_factory=list)
    incidents: list[Json] = field(default_factory=list)
    log_entries: list[Json] = field(default_factory=list)
    users: list[Json] = field(default_factory=list)


def render_pagerduty(builder: OrgBuilder) -> PagerDutyData:
    return PagerDutyRenderer(builder).render_pagerduty()


class PagerDutyRenderer:
    def __init__(self, b: OrgBuilder) -> None:
        self.b = b
        self.owner = b.owner

    def person(self, login: str) -> _Person:
        return person_of(self.b._people, login)


    def pd_web(self) -> str:
        return f"https://{self.owner}.pagerduty.com"

    def pd_ref(self, kind: str, ident: str, summary: str) -> Json:
        paths = {
            "service": "services",
            "user": "users",
            "escalation_policy": "escalation_policies",
            "incident": "incidents",
            "team": "teams",
        }
        web = {"service": "service-directory"}.get(kind, paths[kind])
        return {
            "id": ident,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{PAGERDUTY_API}/{paths[kind]}/{ident}",
            "html_url": f"{self.pd_web()}/{web}/{ident}",
        }

    def pd_user_id(self, login: str) -> str:
        return _pd_id("P", 6, "pd-user", self.owner, login)

    def pd_user_ref(self, login: str) -> Json:
        return self.pd_ref("user", self.pd_user_id(login), self.person(login).name)

    def render_pagerduty(self) -> PagerDutyData:
        b = self.b
        data = PagerDutyData()
        incidents = sorted(b._incidents, key=lambda i: (i.created_at, i.seq))
        earliest = min([i.created_at for i in incidents], default=datetime(2020, 1, 1, tzinfo=UTC))
        svc_created = (earliest - timedelta(days=90)).replace(hour=12, minute=0, second=0)
        responders: set[str] = set()
        for name, sid in sorted(b._services.items(), key=lambda kv: kv[0]):
            mine = [i for i in incidents if i.service == name]
            policy = _pd_id("P", 6, "policy", self.owner, name)
            data.services.append(
                {
                    "id": sid,
                    "name": name,
                    "description": f"{name} production service",
                    "created_at": iso(svc_created),
                    "updated_at": iso(svc_created),
                    "status": "critical" if any(i.resolved_at is None for i in mine) else "active",
                    "teams": [],
                    "alert_creation": "create_alerts_and_incidents",
                    "addons": [],
                    "scheduled_actions": [],
                    "support_hours": None,
                    "last_incident_timestamp": iso(mine[-1].created_at) if mine else None,
                    "escalation_policy": self.pd_ref("escalation_policy", policy, f"{name}-ep"),
                    "incident_urgency_rule": {"type": "constant", "urgency": "high"},
                    "acknowledgement_timeout": None,
                    "auto_resolve_timeout": None,
                    "integrations": [],
                    "alert_grouping": None,
                    "alert_grouping_timeout": None,
                    "alert_grouping_parameters": {"type": None, "config": None},
                    "response_play": None,
                    "type": "service",
                    "summary": name,
                    "self": f"{PAGERDUTY_API}/services/{sid}",
                    "html_url": f"{self.pd_web()}/service-directory/{sid}",
                }
            )

        for number, inc in enumerate(incidents, start=1):
            sid = b._services[inc.service]
            svc_ref = self.pd_ref("service", sid, inc.service)
            policy = _pd_id("P", 6, "policy", self.owner, inc.service)
            responder = inc.responder or f"{inc.service}-oncall"
            responders.add(responder)
            user_ref = self.pd_user_ref(responder)
            summary = f"[#{number}] {inc.title}"
            inc_ref = self.pd_ref("incident", inc.incident_id, summary)
            inc_ref["type"] = "incident_reference"
            entries: list[Json] = []

            def entry(
                kind: str,
                at: datetime,
                text: str,
                agent: Json,
                channel: Json,
                *extra: object,
                inc: _IncidentSpec = inc,
                svc_ref: Json = svc_ref,
                inc_ref: Json = inc_ref,
            ) -> Json:
                lid = _pd_id("R", 25, "log", inc.incident_id, kind, iso(at), *extra)
                return {
                    "id": lid,
                    "type": kind,
                    "summary": text,
                    "self": f"{PAGERDUTY_API}/log_entries/{lid}",
                    "html_url": (
                        f"{self.pd_web()}/incidents/{inc.incident_id}/log_entries/{lid}"
                        if kind == "trigger_log_entry"
                        else None
                    ),
                    "created_at": iso(at),
                    "agent": agent,
                    "channel": channel,
                    "service": svc_ref,
                    "incident": inc_ref,
                    "teams": [],
                    "contexts": [],
                }

            trigger = entry(
                "trigger_log_entry",
                inc.created_at,
                "Triggered through the API.",
                {**svc_ref},
                {"type": "api", "summary": inc.title, "details": {}},
            )
            trigger["event_details"] = {"description": inc.title}
            entries.append(trigger)
            if inc.acknowledged_at:
                entries.append(
                    entry(
                        "acknowledge_log_entry",
                        inc.acknowledged_at,
                        f"Acknowledged by {user_ref['summary']}.",
                        user_ref,
                        {"type": "website"},
                    )
                )
            for i, (at, text) in enumerate(inc.notes):
                entries.append(
                    entry(
                        "annotate_log_entry",
                        at,
                        f"Note added by {user_ref['summary']}.",
                        user_ref,
                        {"type": "note", "summary": text},
                        i,
                    )
                )
            if inc.resolved_at:
                entries.append(
                    entry(
                        "resolve_log_entry",
                        inc.resolved_at,
                        f"Resolved by {user_ref['summary']}.",
                        user_ref,
                        {"type": "website"},
                    )
                )
            data.log_entries.extend(entries)

            if inc.resolved_at:
                status, last_change, last_by = "resolved", inc.resolved_at, user_ref
            elif inc.acknowledged_at:
                status, last_change, last_by = "acknowledged", inc.acknowledged_at, user_ref
            else:
                status, last_change, last_by = "triggered", inc.created_at, svc_ref
            updated = max(
                [
                    inc.created_at,
                    *(t for t in (inc.acknowledged_at, inc.resolved_at) if t),
                    *(t for t, _ in inc.notes),
                ]
            )
            data.incidents.append(
                {
                    "incident_number": number,
                    "title": inc.title,
                    "description": inc.description,
                    "created_at": iso(inc.created_at),
                    "updated_at": iso(updated),
                    "status": status,
                    "incident_key": sha1("key", inc.incident_id)[:32],
                    "service": svc_ref,
                    "assignments": []
                    if status == "resolved"
                    else [{"at": iso(inc.created_at), "assignee": user_ref}],
                    "assigned_via": "escalation_policy",
                    "last_status_change_at": iso(last_change),
                    "resolved_at": iso(inc.resolved_at),
                    "first_trigger_log_entry": {
                        "id": trigger["id"],
                        "type": "trigger_log_entry_reference",
                        "summary": trigger["summary"],
                        "self": trigger["self"],
                        "html_url": trigger["html_url"],
                    },
                    "alert_counts": {
                        "all": 1,
                        "triggered": 0 if inc.resolved_at else 1,
                        "resolved": 1 if inc.resolved_at else 0,
                    },
                    "is_mergeable": True,
                    "escalation_policy": self.pd_ref("escalation_policy", policy, f"{inc.service}-ep"),
                    "teams": [],
                    "pending_actions": [],
                    "acknowledgements": (
                        [{"at": iso(inc.acknowledged_at), "acknowledger": user_ref}]
                        if status == "acknowledged"
                        else []
                    ),
                    "basic_alert_grouping": None,
                    "alert_grouping": None,
                    "last_status_change_by": last_by,
                    "priority": None,
                    "incidents_responders": [],
                    "responder_requests": [],
                    "subscriber_requests": [],
                    "urgency": inc.urgency,
                    "id": inc.incident_id,
                    "type": "incident",
                    "summary": summary,
                    "self": f"{PAGERDUTY_API}/incidents/{inc.incident_id}",
                    "html_url": f"{self.pd_web()}/incidents/{inc.incident_id}",
                }
            )
        data.log_entries.sort(key=lambda e: (e["created_at"], e["id"]))
        for login in sorted(responders):
            person = self.person(login)
            uid = self.pd_user_id(login)
            data.users.append(
                {
                    "id": uid,
                    "type": "user",
                    "name": person.name,
                    "summary": person.name,
                    "email": person.email if "@" in person.email else f"{login}@{self.owner}.dev",
                    "time_zone": "Etc/UTC",
                    "role": "user",
                    "self": f"{PAGERDUTY_API}/users/{uid}",
                    "html_url": f"{self.pd_web()}/users/{uid}",
                }
            )
        return data
