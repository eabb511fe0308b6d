"""The report's maturity ladder (goals_team_maturity): one block per team with its rung drawn as seven steps, the
evidence behind each step and the one next step that would lift it — and, with `yardstick report --track`, the
script that tells Yardstick's own collector which team's block a reader looked at (rung 4's evidence)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import pandas as pd

RUNGS = [
    (1, "Ad-hoc queries", "the team's delivery data is in the warehouse"),
    (2, "Clear targets", "goals with a target"),
    (3, "Looped back", "due goals looked back on"),
    (4, "Looked at regularly", "weeks with report views or a recorded review"),
    (5, "Own metrics", "team-defined metrics added or changed"),
    (6, "Course-correcting", "off-track goals with an improvement action"),
    (7, "Data-driven", "goals with a target and a look-back"),
]
REACHED, HOLDS, MISSING = "#1a9850", "#d9ef8b", "#eeeeee"
# the page event the report sends per team block viewed (int_report_section_views reads this name)
EVENT_NAME = "Yardstick report"


@dataclass(frozen=True)
class Tracking:
    """Where `yardstick report --track URL --write-key KEY` sends its views: a `yardstick collect` (or any
    Segment-compatible) endpoint and a write key it accepts. The key is in the page, as every browser
    tracker's is: give the report its own key."""

    url: str
    write_key: str


def _share(value: object) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.0%}"


def _count(value: object) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _n(value: object, noun: str) -> str:
    """`1 goal`, `2 goals`, `0 goals`."""
    count = _count(value)
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def evidence(row: pd.Series) -> dict[int, str]:
    """The evidence behind each rung of one team, in words."""
    return {
        1: f"{_n(row.measured_weeks, 'week')} of delivery data",
        2: f"{_n(row.targets, 'goal')} with a target",
        3: f"{_count(row.looked_back_due_targets)} of {_n(row.due_targets, 'due goal')} looked back on "
           f"({_share(row.looped_back_share)})",
        4: f"looked at in {_n(row.weeks_looked_at, 'recent week')}: {_n(row.report_views, 'report view')}, "
           f"{_n(row.reviews, 'recorded review')}",
        5: f"{_n(row.team_metrics, 'team-defined metric')}, {_count(row.team_metrics_changed)} added or changed "
           "lately",
        6: f"{_count(row.course_corrected_goals)} of {_n(row.off_track_goals, 'off-track goal')} acted on "
           f"({_share(row.course_correction_share)})",
        7: f"{_count(row.looked_back_goals)} of {_n(row.targets, 'goal')} looked back on "
           f"({_share(row.data_driven_share)})",
    }


def _steps(row: pd.Series) -> str:
    """Seven steps of rising height: reached ones dark, ones whose evidence holds above the rung light."""
    bars = []
    for number, name, _ in RUNGS:
        holds = bool(row.get(f"holds_rung_{number}"))
        colour = REACHED if number <= int(row.maturity_rung) else HOLDS if holds else MISSING
        height = 8 + 8 * number
        bars.append(f'<rect class="rung{" reached" if number <= int(row.maturity_rung) else ""}" '
                    f'x="{(number - 1) * 34}" y="{64 - height}" width="30" height="{height}" fill="{colour}">'
                    f"<title>{number}. {html.escape(name)}</title></rect>")
    return (f'<svg class="ladder" width="238" height="66" role="img" aria-label="rung {int(row.maturity_rung)} '
            f'of 7">{"".join(bars)}</svg>')


def team_block(row: pd.Series) -> str:
    team = str(row.team)
    facts = evidence(row)
    items = "".join(
        f'<li class="{"holds" if row.get(f"holds_rung_{number}") else "lacks"}"><b>{number}. {html.escape(name)}'
        f"</b> — {html.escape(facts[number])}</li>" for number, name, _ in RUNGS)
    level = str(row.maturity_level).replace("_", " ")
    return (f'<article class="team" id="team-{html.escape(team)}" data-team="{html.escape(team)}">'
            f"<h3>{html.escape(team)}: rung {int(row.maturity_rung)} of 7 ({html.escape(level)})</h3>"
            f'{_steps(row)}<p class="next-step">Next step: {html.escape(str(row.next_step))}</p>'
            f"<ul>{items}</ul></article>")


def ladder_html(maturity: pd.DataFrame) -> str:
    return "".join(team_block(row) for _, row in maturity.iterrows())


TRACKER = """<script>
(function () {
  var endpoint = %(url)s.replace(/\\/+$/, "") + "/v1/page", key = %(key)s, seen = {};
  var id;
  try { id = localStorage.ysReportId; } catch (e) { id = null; }
  if (!id) {
    id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now();
    try { localStorage.ysReportId = id; } catch (e) { /* a private window: one id per page load */ }
  }
  function viewed(block) {
    var team = block.getAttribute("data-team");
    if (seen[team]) { return; }
    seen[team] = true;
    fetch(endpoint, {method: "POST", keepalive: true, body: JSON.stringify({
      writeKey: key, anonymousId: id, name: %(name)s, timestamp: new Date().toISOString(),
      properties: {team: team, section: block.id, path: location.pathname, url: location.href,
                   title: document.title},
      context: {app: {name: "yardstick-report"}}})}).catch(function () {});
  }
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) { if (entry.isIntersecting) { viewed(entry.target); } });
  }, {threshold: 0.5});
  document.querySelectorAll("[data-team]").forEach(function (block) { observer.observe(block); });
})();
</script>"""


def tracker_script(tracking: Tracking) -> str:
    """The script sending one page view per team block that comes (half) into view, once per page load."""
    def literal(text: str) -> str:  # a JS string that cannot close the script element
        return json.dumps(text).replace("<", "\\u003c")

    return TRACKER % {"url": literal(tracking.url), "key": literal(tracking.write_key), "name": literal(EVENT_NAME)}
