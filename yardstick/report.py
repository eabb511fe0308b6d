"""`yardstick report`: one self-contained HTML page (plotly.js embedded, no network needed to view it) with a
section per question leaders ask — DORA per team with tiers and trends, where changes wait, PR hygiene, planning,
quality and link coverage, the product's users, AI-assisted development, and goals with their actions. Numbers are
team-level; no chart ranks people."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from yardstick import clock
from yardstick.report_ladder import Tracking, ladder_html, tracker_script
from yardstick.report_metrics import team_metrics_section

TIER_COLOURS = {"elite": "#1a9850", "high": "#91cf60", "medium": "#fee08b", "low": "#fc8d59"}
STATUS_COLOURS = {"met": "#1a9850", "on_track": "#91cf60", "off_track": "#fc8d59", "missed": "#d73027",
                  "no_data": "#bbbbbb"}
DORA_KEYS = [
    ("deployments_per_week", "Deployments per week", "deployment_frequency_tier"),
    ("lead_time_median_hours", "Lead time, median hours", "lead_time_tier"),
    ("change_failure_rate", "Change failure rate", "change_failure_rate_tier"),
    ("recovery_median_hours", "Recovery time, median hours", "recovery_time_tier"),
]


@dataclass
class Section:
    """A heading, a sentence on what it answers, and a chart (or why there is none yet)."""

    anchor: str
    title: str
    question: str
    figure: go.Figure | None = None
    table: str = ""
    empty_reason: str = ""


class Marts:
    """Read-only access to the published marts; a missing mart reads as an empty frame."""

    def __init__(self, warehouse: Path) -> None:
        self.con = duckdb.connect(str(warehouse), read_only=True)
        self.tables = {f"{schema}.{name}" for schema, name in self.con.sql(
            "select table_schema, table_name from information_schema.tables").fetchall()}

    def has(self, table: str) -> bool:
        return table in self.tables

    def frame(self, sql: str, *tables: str) -> pd.DataFrame:
        if not all(self.has(t) for t in tables):
            return pd.DataFrame()
        return self.con.sql(sql).df()


PALETTE = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880"]


def team_colour(team: str, teams: list[str]) -> str:
    """The same colour for a team in every chart."""
    return PALETTE[sorted(teams).index(team) % len(PALETTE)] if team in teams else "#888"


def _annotate(figure: go.Figure, annotations: pd.DataFrame, dates: pd.Series, rows: int = 1) -> None:
    """Draw each annotation (seeds/annotations.csv) that falls within the charted dates as a dotted vertical
    line with its note."""
    if annotations.empty or dates.empty:
        return
    start, end = pd.Timestamp(dates.min()), pd.Timestamp(dates.max())
    for note in annotations.itertuples():
        if not start <= pd.Timestamp(note.annotation_date) <= end:
            continue
        for row in range(1, rows + 1):
            figure.add_vline(x=pd.Timestamp(note.annotation_date).timestamp() * 1000, line_dash="dot",
                             line_color="#888", row=row if rows > 1 else None, col=1 if rows > 1 else None)
        figure.add_annotation(x=pd.Timestamp(note.annotation_date), y=1, yref="paper", showarrow=False,
                              text=html.escape(f"{note.team}: {note.note}"), font={"size": 10}, xanchor="left")


def _label(value: object) -> str:
    """A text cell: '–' for a missing value (None or NaN)."""
    return "–" if value is None or pd.isna(value) else str(value)


def dora_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    section = Section("dora", "DORA by team", "How fast and how safely does each team deliver, and is it improving?")
    monthly = marts.frame("""select * from marts.dora_team_monthly
                             where month_start >= date_trunc('month', current_date) - interval 6 month
                                or month_start >= (select max(month_start) - interval 6 month
                                                   from marts.dora_team_monthly)
                             order by team, month_start""", "marts.dora_team_monthly")
    if monthly.empty:
        section.empty_reason = "No deployments or changes yet: configure GitHub (see the README) and run a nightly."
        return section
    figure = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                           subplot_titles=[label for _, label, _ in DORA_KEYS])
    teams = sorted(monthly["team"].unique())
    for row, (column, _, _) in enumerate(DORA_KEYS, start=1):
        for team, series in monthly.groupby("team"):
            figure.add_trace(go.Scatter(x=series["month_start"], y=series[column], mode="lines+markers",
                                        name=team, legendgroup=team, showlegend=row == 1,
                                        line={"color": team_colour(team, teams)}), row=row, col=1)
    _annotate(figure, annotations, monthly["month_start"], rows=4)
    figure.update_xaxes(tickformat="%b %Y", dtick="M1")
    figure.update_layout(height=900, margin={"t": 40})
    section.figure = figure
    latest = monthly[monthly["month_start"] == monthly["month_start"].max()]
    cells = "".join(
        f"<tr><td>{html.escape(str(r.team))}</td>" + "".join(
            f'<td style="background:{TIER_COLOURS.get(_label(getattr(r, tier)), "#eee")}">'
            f"{html.escape(_label(getattr(r, tier)))}</td>" for _, _, tier in DORA_KEYS) + "</tr>"
        for r in latest.itertuples())
    section.table = (f"<table><caption>Tiers for {latest['month_start'].max():%B %Y} "
                     f"({int(latest['report_year'].max())} report)</caption><tr><th>team</th>"
                     "<th>frequency</th><th>lead time</th><th>change failure</th><th>recovery</th></tr>"
                     f"{cells}</table>")
    return section


def stages_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    section = Section("stages", "Where changes wait", "Which stage of the way to production takes the time?")
    stages = marts.frame("""
        select team,
               median(coding_hours) as coding, median(pickup_hours) as pickup,
               median(review_hours) as review, median(deploy_hours) as deploy
        from marts.fct_changes
        where merged_at >= (select max(merged_at) - interval 90 day from marts.fct_changes)
        group by team order by team""", "marts.fct_changes")
    if stages.empty:
        section.empty_reason = "No merged changes yet."
        return section
    figure = go.Figure([go.Bar(name=stage, x=stages["team"], y=stages[stage])
                        for stage in ("coding", "pickup", "review", "deploy")])
    figure.update_layout(barmode="stack", yaxis_title="median hours (last 90 days)", height=380)
    section.figure = figure
    return section


def hygiene_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    section = Section("hygiene", "PR hygiene", "Are changes small and reviewed before they merge?")
    changes = marts.frame("""
        select team, size_lines, first_review_at is null as is_unreviewed
        from marts.fct_changes
        where merged_at >= (select max(merged_at) - interval 90 day from marts.fct_changes)""",
                          "marts.fct_changes")
    if changes.empty:
        section.empty_reason = "No merged changes yet."
        return section
    figure = make_subplots(rows=1, cols=2, subplot_titles=["PR size (lines changed)", "Merged without review"])
    teams = sorted(changes["team"].unique())
    for team, group in changes.groupby("team"):
        colour = team_colour(team, teams)
        figure.add_trace(go.Box(y=group["size_lines"], name=team, showlegend=False, marker_color=colour),
                         row=1, col=1)
        figure.add_trace(go.Bar(x=[team], y=[float(group["is_unreviewed"].astype(float).mean())], name=team,
                                showlegend=False, marker_color=colour), row=1, col=2)
    figure.update_yaxes(type="log", row=1, col=1)
    figure.update_yaxes(tickformat=".0%", range=[0, 1], row=1, col=2)
    figure.update_layout(height=380)
    section.figure = figure
    return section


def planning_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    section = Section("planning", "Planning outcomes", "Do sprints deliver what they commit?")
    sprints = marts.frame("""select * from marts.planning_sprint_outcomes order by sprint_start_at""",
                          "marts.planning_sprint_outcomes")
    if sprints.empty:
        section.empty_reason = "No sprints yet: connect Jira (see the README) to see commitments against delivery."
        return section
    figure = go.Figure()
    for team, group in sprints.groupby("team"):
        figure.add_trace(go.Scatter(x=group["sprint_start_at"], y=group["planning_accuracy"], name=team,
                                    mode="lines+markers"))
    figure.update_layout(yaxis_title="delivered ÷ committed", yaxis_tickformat=".0%", height=380)
    section.figure = figure
    return section


def quality_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    section = Section("quality", "Quality and trust",
                      "Do builds pass, and how far can each number be trusted (how much is linked)?")
    monthly = marts.frame("""select team, month, incidents, builds, build_success_rate
                             from marts.quality_team_monthly order by team, month""", "marts.quality_team_monthly")
    if monthly.empty:
        section.empty_reason = "No incidents, bugs or builds yet: connect PagerDuty, an issue tracker or CI."
        return section
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                           subplot_titles=["Incidents per month", "Build success rate"])
    teams = sorted(monthly["team"].unique())
    for team, group in monthly.groupby("team"):
        colour = team_colour(team, teams)
        figure.add_trace(go.Bar(x=group["month"], y=group["incidents"], name=team, legendgroup=team,
                                marker_color=colour), row=1, col=1)
        built = group[group["builds"] > 0]
        if not built.empty:
            figure.add_trace(go.Scatter(x=built["month"], y=built["build_success_rate"], name=team,
                                        legendgroup=team, showlegend=False, mode="lines+markers",
                                        line={"color": colour}), row=2, col=1)
    _annotate(figure, annotations, monthly["month"], rows=2)
    figure.update_xaxes(tickformat="%b %Y", dtick="M1")
    figure.update_yaxes(tickformat=".0%", range=[0, 1.05], row=2, col=1)
    figure.update_layout(height=520, barmode="group")
    section.figure = figure
    coverage = marts.frame("""select * from marts.quality_link_coverage
                              where month = (select max(month) from marts.quality_link_coverage)
                              order by team""", "marts.quality_link_coverage")
    shares = ("pr_issue_link_share", "pr_deployment_link_share", "deployment_change_share",
              "incident_attribution_share")
    rows = "".join(f"<tr><td>{html.escape(str(c.team))}</td>" + "".join(
        f"<td>{'–' if pd.isna(getattr(c, share)) else format(getattr(c, share), '.0%')}</td>" for share in shares)
        + "</tr>" for c in coverage.itertuples())
    section.table = (f"<table><caption>Link coverage, {coverage['month'].max():%B %Y}</caption><tr><th>team</th>"
                     "<th>PRs linked to an issue</th><th>PRs linked to a deployment</th>"
                     "<th>deployments with changes</th><th>incidents attributed</th></tr>"
                     f"{rows}</table>") if rows else ""
    return section


def product_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    section = Section("product", "The product's users",
                      "Do users get through the product's flows, and does what we ship help them?")
    funnel = marts.frame("""select cohort_date, funnel, overall_conversion
                            from marts.product_funnel_daily
                            qualify step = max(step) over (partition by funnel)
                            order by funnel, cohort_date""", "marts.product_funnel_daily")
    if funnel.empty:
        section.empty_reason = "No product events yet: instrument your pages (see the README)."
        return section
    trend = marts.frame("""select metric_date, value, rolling_7d_value from marts.product_metric_daily
                           where metric = 'errors_per_user' order by metric_date""", "marts.product_metric_daily")
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12, subplot_titles=[
        "Funnel conversion (entered → last step) by cohort day", "Errors per user per day (7-day rolling)"])
    for name, group in funnel.groupby("funnel"):
        figure.add_trace(go.Scatter(x=group["cohort_date"], y=group["overall_conversion"], name=name,
                                    mode="lines"), row=1, col=1)
    if not trend.empty:
        figure.add_trace(go.Scatter(x=trend["metric_date"], y=trend["rolling_7d_value"], name="errors per user",
                                    mode="lines"), row=2, col=1)
    _annotate(figure, annotations, funnel["cohort_date"], rows=2)
    figure.update_yaxes(tickformat=".0%", row=1, col=1)
    figure.update_layout(height=600)
    section.figure = figure
    worst = marts.frame("""select dimension, segment, avg(value) as value, avg(share_of_users) as share_of_users,
                                  sum(impact) as impact
                           from marts.product_metric_segments_daily
                           where metric = 'errors_per_user'
                           group by dimension, segment order by impact desc nulls last limit 5""",
                        "marts.product_metric_segments_daily")
    rows = "".join(f"<tr><td>{html.escape(str(w.dimension))}</td><td>{html.escape(str(w.segment))}</td>"
                   f"<td>{w.value:.3f}</td><td>{w.share_of_users:.0%}</td></tr>"
                   for w in worst.itertuples() if pd.notna(w.value) and pd.notna(w.share_of_users))
    section.table = ("<table><caption>Segments with the most errors (by impact over the period)</caption><tr>"
                     f"<th>dimension</th><th>segment</th><th>errors per user</th><th>share of users</th></tr>{rows}"
                     "</table>") if rows else ""
    return section


def goals_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    section = Section("goals", "Goals and actions", "Are teams reaching the targets they set, and acting on them?")
    goals = marts.frame("select * from marts.goals_status order by due_date, goal_id", "marts.goals_status")
    if goals.empty:
        section.empty_reason = "No goals yet: add a row to seeds/metric_targets.csv (see the README)."
        return section
    labels = goals["team"] + " · " + goals["metric"] + " (" + goals["status"].str.replace("_", " ") + ")"
    figure = go.Figure(go.Bar(
        x=goals["progress"].fillna(0).clip(-0.5, 1.5), y=labels, orientation="h",
        marker_color=[STATUS_COLOURS.get(s, "#bbb") for s in goals["status"]],
        text=goals["status"], textposition="auto"))
    figure.add_vline(x=1, line_dash="dot")
    figure.update_layout(xaxis_title="progress from baseline to target", xaxis_tickformat=".0%",
                         height=120 + 40 * len(goals))
    section.figure = figure
    actions = marts.frame("select * from marts.goals_actions order by due_date", "marts.goals_actions")
    rows = "".join(f"<tr><td>{html.escape(_label(a.goal_id))}</td>"
                   f"<td>{html.escape(_label(a.resolution if pd.notna(a.resolution) else a.opportunity))}</td>"
                   f"<td>{html.escape(_label(a.owner_role))}</td><td>{html.escape(_label(a.source))}</td>"
                   f"<td>{'–' if pd.isna(a.due_date) else f'{a.due_date:%Y-%m-%d}'}</td>"
                   f"<td>{html.escape(str(a.status))}</td></tr>"
                   for a in actions.itertuples())
    section.table = ("<table><caption>Improvement actions</caption><tr><th>goal</th><th>action</th><th>owner</th>"
                     f"<th>recorded in</th><th>due</th><th>status</th></tr>{rows}</table>") if rows else ""
    return section


def ai_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    """Copilot adoption per week and the two cohorts' lead time and CFR per month, for the organisation, with the
    group sizes; a cell from fewer than min_group_size people is suppressed in the marts and shows as a gap."""
    section = Section("ai", "AI-assisted development",
                      "Do teams use the coding assistant, and do AI-active authors' changes ship faster or break "
                      "more often? (Correlation, not causation.)")
    adoption = marts.frame("""select team, week_start, team_engineers, is_suppressed, active_share, ai_active_share
                              from marts.ai_adoption_team_weekly order by team, week_start""",
                           "marts.ai_adoption_team_weekly")
    impact = marts.frame("""select month_start, cohort, group_size, is_suppressed, merged_changes,
                                   lead_time_median_hours, change_failure_rate
                            from marts.ai_impact_team_monthly where team = 'org' order by month_start, cohort""",
                         "marts.ai_impact_team_monthly")
    if adoption.empty:
        section.empty_reason = ("No Copilot usage reports yet: set SOURCES__GITHUB_COPILOT__ORGANIZATIONS and a "
                                "token that may read them (see the README).")
        return section
    figure = make_subplots(rows=3, cols=1, vertical_spacing=0.12, subplot_titles=[
        "Share of engineers AI-active (≥ ai_active_days_per_week days), by week",
        "Lead time, median hours, by cohort (organisation)", "Change failure rate, by cohort (organisation)"])
    teams = sorted(adoption["team"].unique())
    for team, series in adoption[~adoption["is_suppressed"]].groupby("team"):
        figure.add_trace(go.Scatter(x=series["week_start"], y=series["ai_active_share"], mode="lines+markers",
                                    name=f"{team} AI-active", line={"color": team_colour(team, teams)}), row=1, col=1)
    colours = {"ai_active": "#636efa", "other": "#bbbbbb"}
    for cohort, series in impact.groupby("cohort"):
        sizes = [f"n={size}" for size in series["group_size"]]
        for row, column in ((2, "lead_time_median_hours"), (3, "change_failure_rate")):
            figure.add_trace(go.Bar(x=series["month_start"], y=series[column], name=cohort, legendgroup=cohort,
                                    showlegend=row == 2, text=sizes, marker_color=colours.get(cohort)),
                             row=row, col=1)
    figure.update_layout(barmode="group", height=850, margin={"t": 40})
    section.figure = figure
    rows = "".join(
        f"<tr><td>{r.month_start:%b %Y}</td><td>{html.escape(str(r.cohort))}</td><td>{int(r.group_size)}</td>"
        + ("<td colspan=3>suppressed (fewer people than min_group_size)</td>" if r.is_suppressed else
           f"<td>{_label(r.merged_changes)}</td><td>{_label(_round(r.lead_time_median_hours))}</td>"
           f"<td>{_label(_round(r.change_failure_rate))}</td>") + "</tr>"
        for r in impact.itertuples())
    section.table = ("<table><caption>Organisation, by the cohort of each change's author in the week it was opened"
                     "</caption><tr><th>month</th><th>cohort</th><th>people</th><th>merged changes</th>"
                     f"<th>lead time (h, median)</th><th>change failure rate</th></tr>{rows}</table>") if rows else ""
    return section


def ladder_section(marts: Marts, annotations: pd.DataFrame) -> Section:
    """Each team's rung of the seven-rung maturity ladder, the evidence behind it and the next step, in words; the
    team blocks are what `--track` reports views of."""
    section = Section("ladder", "Metrics maturity by team",
                      "Do teams look at their metrics and act on them? Each team's rung, its evidence and the one "
                      "next step that would lift it.")
    maturity = marts.frame("select * from marts.goals_team_maturity order by maturity_rung desc, team",
                           "marts.goals_team_maturity")
    if maturity.empty:
        section.empty_reason = "No teams yet: build the warehouse (see the README)."
        return section
    active = (maturity["measured_weeks"] > 0) | (maturity["targets"] > 0)
    idle = sorted(maturity.loc[~active, "team"])
    section.table = ladder_html(maturity[active]) + (
        f'<p class="question">No delivery data and no goal yet: {html.escape(", ".join(idle))}.</p>' if idle else "")
    return section


def _round(value: object) -> object:
    return round(float(value), 2) if value is not None and not pd.isna(value) else value


SECTIONS: list[Callable[[Marts, pd.DataFrame], Section]] = [
    dora_section, stages_section, hygiene_section, planning_section, quality_section, product_section, ai_section,
    goals_section, team_metrics_section, ladder_section]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Yardstick report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }}
nav a {{ margin-right: 1rem; }} section {{ margin: 2.5rem 0; }} .question {{ color: #555; }}
table {{ border-collapse: collapse; margin: 1rem 0; }} td, th {{ border: 1px solid #ddd; padding: 4px 8px; }}
caption {{ text-align: left; font-weight: 600; }} .empty {{ color: #777; font-style: italic; }}
article.team {{ border-top: 1px solid #ddd; padding: 0.5rem 0 1rem; }} .next-step {{ font-weight: 600; }}
li.lacks {{ color: #777; }}
</style>
<script>{plotly_js}</script></head>
<body><h1>Yardstick report</h1><p>Built {built} from {warehouse}. Team-level numbers; nobody is ranked.</p>
<nav>{nav}</nav>{sections}{tracker}</body></html>"""


def render(warehouse: Path, output: Path, tracking: Tracking | None = None) -> Path:
    """Write the report to `output` (a directory; the page is index.html) and return the page's path. With
    `tracking`, the page sends a view of each team's block to that collector (`yardstick report --track`)."""
    from plotly.offline import get_plotlyjs

    marts = Marts(warehouse)
    try:
        annotations = marts.frame("select * from seeds.annotations", "seeds.annotations")
        sections = [build(marts, annotations) for build in SECTIONS]
    finally:
        marts.con.close()
    parts = []
    for section in sections:
        body = (pio.to_html(section.figure, full_html=False, include_plotlyjs=False,
                            config={"displaylogo": False, "responsive": True})
                if section.figure is not None else f'<p class="empty">{html.escape(section.empty_reason)}</p>'
                if section.empty_reason else "")
        parts.append(f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>'
                     f'<p class="question">{html.escape(section.question)}</p>{section.table}{body}</section>')
    page = PAGE.format(plotly_js=get_plotlyjs(), built=clock.today().isoformat(), warehouse=html.escape(warehouse.name),
                       nav="".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections),
                       sections="".join(parts), tracker=tracker_script(tracking) if tracking else "")
    output.mkdir(parents=True, exist_ok=True)
    target = output / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
