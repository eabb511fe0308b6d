"""The DORA summary printed after a demo or build: the latest complete month per team."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich import box
from rich.console import Console
from rich.table import Table

QUERY = """
with latest as (
    select max(month_start) as month_start
    from marts.dora_team_monthly
    where month_start < date_trunc('month', current_date)
)
select dora.*
from marts.dora_team_monthly as dora
inner join latest on dora.month_start = latest.month_start
order by dora.team
"""


def _fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if unit == "%":
            return f"{value:.0%}"
        return f"{value:.1f}" if abs(value) < 10 else f"{value:.0f}"
    return f"{value}{unit}"


TIERS = ("deployment_frequency_tier", "lead_time_tier", "change_failure_rate_tier", "recovery_time_tier")


def dora_table(warehouse: Path) -> Table:
    """One row per team: the four keys and rework for the latest complete month, each with its tier."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(QUERY)
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    month = rows[0]["month_start"].strftime("%B %Y") if rows else "no complete month yet"
    year = rows[0]["report_year"] if rows else ""
    table = Table(title=f"DORA by team, {month} (tiers: {year} report)", box=box.SIMPLE_HEAD)
    for header in ("team", "deploys", "days", "lead h p50", "p75", "CFR", "recovery h", "rework"):
        table.add_column(header, justify="left" if header == "team" else "right")
    for row in rows:
        tier = dict(zip(("deploys", "lead", "cfr", "recovery"), (row[t] for t in TIERS), strict=True))
        table.add_row(
            row["team"],
            f"{row['deployments']} {_tier(tier['deploys'])}",
            _fmt(row["deployment_days"]),
            f"{_fmt(row['lead_time_median_hours'])} {_tier(tier['lead'])}",
            _fmt(row["lead_time_p75_hours"]),
            f"{_fmt(row['change_failure_rate'], '%')} {_tier(tier['cfr'])}",
            f"{_fmt(row['recovery_median_hours'])} {_tier(tier['recovery'])}",
            _fmt(row["rework_rate"], "%"),
        )
    return table


def _tier(tier: str | None) -> str:
    """A tier as a short coloured tag: E(lite), H(igh), M(edium), L(ow)."""
    colours = {"elite": "green", "high": "cyan", "medium": "yellow", "low": "red"}
    return f"[{colours.get(tier or '', 'dim')}]{(tier or '–')[0].upper()}[/]"


def print_summary(warehouse: Path, console: Console | None = None) -> None:
    console = console or Console(soft_wrap=True)
    console.print(dora_table(warehouse))
    console.print("[dim]tiers: E elite, H high, M medium, L low (seeds/dora_benchmarks.csv)[/dim]")
    name = warehouse.name if warehouse.parent == Path.cwd() else str(warehouse)
    console.print(f"\nPublished [bold]{warehouse}[/bold]. Query it:")
    console.print(f"  duckdb {name} \"select * from marts.dora_team_monthly\"")
    console.print(f"  python -c \"import duckdb; print(duckdb.connect('{name}', read_only=True)"
                  ".sql('select * from marts.dora_team_monthly'))\"")
