"""`yardstick status`: the last nightly runs (from the run log) and data freshness per source table.

Freshness follows the dbt source definitions (`loaded_at_field` and `warn_after`/`error_after` in
`models/staging/*/_*__sources.yml`) but is computed here with a read-only connection: `dbt source
freshness` opens the warehouse for writing, which DuckDB refuses while analysts or BI tools have it open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from rich import box
from rich.console import Console
from rich.table import Table

from yardstick.build_state import source_definitions
from yardstick.dbt import PROJECT_DIR
from yardstick.publish import private_path
from yardstick.runlog import RunLog, ops_path

PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class Freshness:
    source: str
    table: str
    rows: int | None  # None: the table does not exist (source never loaded)
    newest: datetime | None  # max(loaded_at_field)
    last_loaded: datetime | None  # last successful dlt load into the dataset
    warn_after: timedelta | None
    error_after: timedelta | None
    rejected: int = 0  # records of this table in quarantine (`<schema>._rejected`)

    def state(self, now: datetime) -> str:
        if self.rows is None:
            return "never loaded"
        if self.newest is None:
            return "empty"
        age = now - self.newest
        if self.error_after and age > self.error_after:
            return "error"
        if self.warn_after and age > self.warn_after:
            return "warn"
        return "pass"


def _threshold(config: dict[str, Any], key: str) -> timedelta | None:
    rule = (config.get("freshness") or {}).get(key)
    if not rule:
        return None
    return int(rule["count"]) * PERIODS[rule["period"]]


def source_tables() -> list[tuple[str, str, str, str | None, dict[str, Any]]]:
    """(source, schema, table, loaded_at_field, freshness config) for every dbt source table."""
    found = []
    for source in source_definitions(PROJECT_DIR):
        base = {**source.get("config", {}), **({"freshness": source["freshness"]} if "freshness" in source
                                               else {})}
        for table in source.get("tables", []):
            config = {**base, **table.get("config", {})}
            field = table.get("loaded_at_field") or config.get("loaded_at_field")
            found.append((source["name"], source.get("schema", source["name"]), table["name"], field, config))
    return found


def freshness(warehouse: Path) -> list[Freshness]:
    """Freshness of every dbt source table, read (read-only) from the private working file beside the published
    warehouse: the raw layer lives only there."""
    results = []
    with duckdb.connect(str(private_path(warehouse)), read_only=True) as con:
        existing = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
        for source, schema, table, field, config in source_tables():
            rows = newest = last_loaded = None
            rejected = 0
            if (schema, "_rejected") in existing:
                rejected = con.execute(f'select count(*) from "{schema}"."_rejected" where table_name = ?',
                                       [table]).fetchone()[0]
            if (schema, table) in existing:
                rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
                if field:
                    # a column name, or an expression (`cast(day as timestamp)`) as dbt's loaded_at_field allows
                    column = f'"{field}"' if field.isidentifier() else field
                    newest = con.execute(f'select max({column}) from "{schema}"."{table}"').fetchone()[0]
                if (schema, "_dlt_loads") in existing:
                    last_loaded = con.execute(
                        f'select max(inserted_at) from "{schema}"."_dlt_loads" where status = 0').fetchone()[0]
            results.append(Freshness(source, table, rows, _aware(newest), _aware(last_loaded),
                                     _threshold(config, "warn_after"), _threshold(config, "error_after"), rejected))
    return results


PROGRESS_DATASETS = ("raw_github", "raw_github_actions")  # the GitHub sources' `sync_progress` tables
COUNTED = {"pull_requests": "", "workflow_runs": " workflow runs"}  # what `n of m` counts, first one pending


def sync_progress(warehouse: Path) -> dict[str, str]:
    """Each GitHub repository's sync: `complete`, or `partial (n of m)` while a first sync cut short by
    SOURCES__GITHUB__MAX_REQUESTS_PER_RUN is still being resumed (n of the repository's m pull requests
    fetched, else of its workflow runs; the commits, deployments, issues or runs still to come are named).
    Both GitHub sources (GraphQL or REST, and Actions) write the same progress rows."""
    rows: list[tuple] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for dataset in PROGRESS_DATASETS:
            exists = con.execute("select count(*) from information_schema.tables where table_schema = ? "
                                 "and table_name = 'sync_progress'", [dataset]).fetchone()[0]
            if exists:
                rows += con.execute(f"select repository, resource, complete, done, total from {dataset}.sync_progress "
                                    "order by repository, resource").fetchall()
    states: dict[str, str] = {}
    for repo in sorted(dict.fromkeys(row[0] for row in rows)):
        mine = {resource: (complete, done, total)
                for name, resource, complete, done, total in rows if name == repo}
        pending = [resource for resource, (complete, _, _) in mine.items() if not complete]
        states[repo] = _partial(mine, pending) if pending else "complete"
    return states


def _partial(mine: dict[str, tuple], pending: list[str]) -> str:
    counted = next((resource for resource in COUNTED if resource in pending), None)
    if counted is not None:
        _, done, total = mine[counted]
        head = f"{done or 0} of {total if total is not None else '?'}{COUNTED[counted]}"
    else:
        head = "pull requests done" if "pull_requests" in mine else "workflow runs done"
    others = [resource for resource in pending if resource != counted]
    return f"partial ({head})" + (f", {', '.join(others)} to come" if others else "")


def _aware(value: Any) -> datetime | None:
    if value is None or not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "–"


def print_status(warehouse: Path, console: Console | None = None, limit: int = 10) -> None:
    console = console or Console(soft_wrap=True)
    runs = RunLog(ops_path(warehouse)).runs(limit)
    table = Table(title=f"Last {limit} nightly runs ({ops_path(warehouse).name})", box=box.SIMPLE_HEAD)
    for header in ("run", "started (UTC)", "finished", "status", "version", "step / reason"):
        table.add_column(header)
    for run in runs:
        detail = f"{run['step']}: {run['error']}" if run["error"] else ""
        table.add_row(run["run_id"], _when(run["started_at"]), _when(run["finished_at"]), run["status"],
                      str(run["published_version"] or "–"), detail[:160])
    console.print(table if runs else "No nightly has run yet.")
    if not warehouse.exists() or not private_path(warehouse).exists():
        console.print(f"No published warehouse at {warehouse} (with its private file beside it).")
        return
    now = datetime.now(UTC)
    fresh = Table(title="Data freshness per source (dbt source definitions)", box=box.SIMPLE_HEAD)
    for header in ("source", "table", "rows", "quarantined", "newest record", "last loaded", "state"):
        fresh.add_column(header)
    for item in freshness(warehouse):
        fresh.add_row(item.source, item.table, "–" if item.rows is None else str(item.rows), str(item.rejected),
                      _when(item.newest), _when(item.last_loaded), item.state(now))
    console.print(fresh)
    progress = sync_progress(warehouse)
    if progress:
        repos = Table(title="GitHub repositories (first sync: complete, or partial and resumed next run)",
                      box=box.SIMPLE_HEAD)
        repos.add_column("repository")
        repos.add_column("sync")
        for repo, state in progress.items():
            repos.add_row(repo, state)
        console.print(repos)
