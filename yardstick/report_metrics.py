"""The report's section on the metrics teams defined for themselves (metrics/*.yml): their daily values from
`metrics_team_daily`, one line per metric and team."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go


def team_metrics_section(marts: Any, annotations: Any) -> Any:
    from yardstick.report import PALETTE, Section

    section = Section("team-metrics", "Metrics teams defined",
                      "What are teams measuring for their own problems (metrics/*.yml), day by day?")
    daily = marts.frame("select metric, team, metric_date, value, defined_in from marts.metrics_team_daily "
                        "where is_team_defined order by metric, team, metric_date", "marts.metrics_team_daily")
    if daily.empty:
        section.empty_reason = ("No team-defined metric yet: add a MetricFlow metric in metrics/<team>.yml "
                                "(see the README).")
        return section
    figure = go.Figure()
    for position, ((metric, team), rows) in enumerate(daily.groupby(["metric", "team"], sort=True)):
        figure.add_trace(go.Scatter(x=rows["metric_date"], y=rows["value"], mode="lines+markers",
                                    name=f"{team} · {metric}", line_color=PALETTE[position % len(PALETTE)]))
    figure.update_layout(yaxis_title="value per day", height=360)
    section.figure = figure
    return section
