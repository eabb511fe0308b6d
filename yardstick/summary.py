"""The DORA summary printed after a demo or build: the latest complete month per team."""

from __future__ import annotations

from pathlib import Path

import duckdb
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
        return f"{value:.0%}" if unit == "%" else f"{value:.1f}{unit}"
    return f"{value}{unit}"


def dora_table(warehouse: Path) -> Table:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(QUERY)
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    month = rows[0]["month_start"].strftime("%B %Y") if rows else "no complete month yet"
    table = Table(title=f"DORA by team — {month}")
    for header in ("team", "deploys", "deploy days", "lead time p50 (h)", "lead time p75 (h)",
                   "change failure", "recovery p50 (h)", "rework", "tiers (freq/lead/CFR/recovery)"):
        table.add_column(header, justify="left" if header.startswith(("team", "tiers")) else "right")
    for row in rows:
        tiers = "/".join(str(row.get(t) or "–") for t in (
            "deployment_frequency_tier", "lead_time_tier", "change_failure_rate_tier", "recovery_time_tier"))
        table.add_row(
            row["team"], _fmt(row["deployments"]), _fmt(row["deployment_days"]),
            _fmt(row["lead_time_median_hours"]), _fmt(row["lead_time_p75_hours"]),
            _fmt(row["change_failure_rate"], "%"), _fmt(row["recovery_median_hours"]),
            _fmt(row.get("rework_rate"), "%"), tiers,
        )
    return table


def print_summary(warehouse: Path, console: Console | None = None) -> None:
    console = console or Console()
    console.print(dora_table(warehouse))
    name = warehouse.name if warehouse.parent == Path.cwd() else str(warehouse)
    console.print(f"\nPublished [bold]{warehouse}[/bold]. Query it:")
    console.print(f"  duckdb {name} \"select * from marts.dora_team_monthly\"")
    console.print(f"  python -c \"import duckdb; print(duckdb.connect('{name}', read_only=True)"
                  ".sql('select * from marts.dora_team_monthly'))\"")
