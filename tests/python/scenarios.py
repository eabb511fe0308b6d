"""Hand-written delivery histories whose DORA figures are computed by hand in the tests that use them.

March 2026 (Monday 2 March starts ISO week 10). All times UTC. Deployments are given a single `success`
status at the deployment time so deployed_at is exactly that time.

Team payments (repo acme/payments-api, PagerDuty service payments-api):
  PR1 ana: commit 2 Mar 09:00, opened 10:00, bob approves 12:00, merged 13:00
  PR2 bob: commits 3 Mar 08:00 & 11:00, opened 12:00, ana approves 16:00, merged 17:00
  PR3 ana: commit 4 Mar 09:00, opened 09:30, ana comments on her own PR 09:45, bob approves 14:00, merged 15:00
  PR4 cat: commit 9 Mar 10:00, opened 11:00, ana approves 13:00, merged 14:00
  D1 prod 2 Mar 16:00 ok (ships PR1)  D2 prod 4 Mar 18:00 ok (PR2, PR3)  D3 prod 5 Mar 10:00 failure
  staging 9 Mar 15:00 ok (not production)  D4 prod 10 Mar 09:00 ok (PR4)
  I1 4 Mar 20:00 → resolved 21:30, no reference          → D2 by service window (2 h after)
  I2 10 Mar 09:30 → resolved 12:30, names D2's short SHA  → D2 explicitly (though D4 is 30 min before)
  I3 20 Mar 10:00 → resolved 10:30, nothing deployed in the previous 24 h → unattributed

Team search (repo acme/search-api):
  PR5 dan: commit 2 Mar 09:00, opened 09:00, eve approves 10:00, merged 11:00;  S1 prod 2 Mar 12:00 ok
  PR6 eve: commit 3 Mar 09:00, opened 10:00, dan approves 11:00, merged 12:00;  S2 prod 3 Mar 13:00 ok
  S3 prod 3 Mar 14:00 ok: redeploys S1's SHA ("Rollback to …") → S2 rolled back; S3 is rework
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ingestion.demo import copilot_api
from ingestion.demo.copilot_api import CopilotData
from ingestion.demo.org import Org, OrgBuilder

PAYMENTS, SEARCH = "acme/payments-api", "acme/search-api"


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Scenario:
    org: Org
    builder: OrgBuilder
    shas: dict[str, str]
    incidents: dict[str, str]


def march_2026() -> Scenario:
    b = OrgBuilder("acme")
    def ok(when: datetime) -> list[tuple[str, datetime]]:
        return [("success", when)]

    b.pull_request(PAYMENTS, author="ana", title="Add card vault", opened_at=at(2, 10), commit_times=[at(2, 9)],
                   reviews=[("bob", "APPROVED", at(2, 12))], merged_at=at(2, 13))
    b.pull_request(PAYMENTS, author="bob", title="Retry declined payments", opened_at=at(3, 12),
                   commit_times=[at(3, 8), at(3, 11)], reviews=[("ana", "APPROVED", at(3, 16))], merged_at=at(3, 17))
    b.pull_request(PAYMENTS, author="ana", title="Refund webhook", opened_at=at(4, 9, 30), commit_times=[at(4, 9)],
                   reviews=[("ana", "COMMENTED", at(4, 9, 45)), ("bob", "APPROVED", at(4, 14))],
                   merged_at=at(4, 15))
    b.pull_request(PAYMENTS, author="cat", title="Currency rounding", opened_at=at(9, 11), commit_times=[at(9, 10)],
                   reviews=[("ana", "APPROVED", at(9, 13))], merged_at=at(9, 14))
    b.pull_request(SEARCH, author="dan", title="Synonyms", opened_at=at(2, 9), commit_times=[at(2, 9)],
                   reviews=[("eve", "APPROVED", at(2, 10))], merged_at=at(2, 11))
    b.pull_request(SEARCH, author="eve", title="Faster ranking", opened_at=at(3, 10), commit_times=[at(3, 9)],
                   reviews=[("dan", "APPROVED", at(3, 11))], merged_at=at(3, 12))

    shas = {
        "D1": b.head_at(PAYMENTS, at(2, 16)), "D2": b.head_at(PAYMENTS, at(4, 18)),
        "D4": b.head_at(PAYMENTS, at(10, 9)), "S1": b.head_at(SEARCH, at(2, 12)), "S2": b.head_at(SEARCH, at(3, 13)),
    }
    b.deployment(PAYMENTS, environment="production", at=at(2, 16), statuses=ok(at(2, 16)))
    b.deployment(PAYMENTS, environment="production", at=at(4, 18), statuses=ok(at(4, 18)))
    b.deployment(PAYMENTS, environment="production", at=at(5, 10),
                 statuses=[("in_progress", at(5, 10)), ("failure", at(5, 10, 20))])
    b.deployment(PAYMENTS, environment="staging", at=at(9, 15), statuses=ok(at(9, 15)))
    b.deployment(PAYMENTS, environment="production", at=at(10, 9), statuses=ok(at(10, 9)))
    b.deployment(SEARCH, environment="production", at=at(2, 12), statuses=ok(at(2, 12)))
    b.deployment(SEARCH, environment="production", at=at(3, 13), statuses=ok(at(3, 13)))
    b.deployment(SEARCH, environment="production", at=at(3, 14), sha=shas["S1"], statuses=ok(at(3, 14)),
                 description=f"Rollback to {shas['S1'][:7]}")

    incidents = {
        "I1": b.incident("payments-api", created_at=at(4, 20), title="Checkout errors",
                         acknowledged_at=at(4, 20, 10), resolved_at=at(4, 21, 30)),
        "I2": b.incident("payments-api", created_at=at(10, 9, 30), title="Refunds failing",
                         notes=[(at(10, 10), f"Caused by deploy {shas['D2'][:7]}, rolling forward")],
                         acknowledged_at=at(10, 9, 40), resolved_at=at(10, 12, 30)),
        "I3": b.incident("payments-api", created_at=at(20, 10), title="Card network outage",
                         acknowledged_at=at(20, 10, 5), resolved_at=at(20, 10, 30)),
    }
    org = b.build()
    org.copilot = march_copilot()
    return Scenario(org, b, shas, incidents)


def march_copilot() -> CopilotData:
    """Copilot usage reports for 2–15 March 2026: ana, bob, cat, dan and eve hold seats; all five use the assistant
    on 2, 3 and 4 March (AI-active that week), ana and bob on 10 March only. No team has 5 seats, so GitHub's
    user-teams report is empty: only the organisation row of the adoption mart is large enough to show."""
    data = CopilotData(last_day="2026-03-15")
    people = ["ana", "bob", "cat", "dan", "eve"]
    active = {"2026-03-02": people, "2026-03-03": people, "2026-03-04": people, "2026-03-10": ["ana", "bob"]}
    rng = random.Random(3)
    for number in range(2, 16):
        day = date(2026, 3, number)
        data.reports["users-1-day"][day.isoformat()] = [
            copilot_api.user_day(rng, "4242", login, day, heavy=True) for login in active.get(day.isoformat(), [])]
    data.seats = [{"created_at": "2026-02-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z",
                   "assignee": {"login": login, "id": copilot_api.user_id(login), "type": "User"}} for login in people]
    return data
