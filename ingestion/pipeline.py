"""Runs the dlt sources into a DuckDB file: one pipeline and one `raw_<source>` dataset per source.

Pipeline state (the incremental cursors) lives in the warehouse itself: every run uses a fresh working
directory, so dlt restores state from the DuckDB file it loads into. A run that fails before publish
leaves no trace, because the orchestrator throws the work copy away and with it the advanced cursors.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import duckdb

from ingestion.errors import SourceError, YardstickError, find_domain_error
from ingestion.sources import events, git, github, gitlab, jenkins, jira, pagerduty
from ingestion.sources.projection import Field, TableSpec

DUCKDB_TYPES = {"text": "varchar", "bigint": "bigint", "bool": "boolean", "timestamp": "timestamp with time zone"}


@dataclass(frozen=True)
class SourceSpec:
    """A dlt source as the runner sees it: how to build it, where it lands, and when it counts as configured."""

    factory: Callable[..., Any]
    section: str
    dataset: str
    tables: Mapping[str, TableSpec]
    required: Sequence[str]  # config keys (under sources.<section>) without which the source is skipped


SOURCES: dict[str, SourceSpec] = {
    "github": SourceSpec(github.github_source, "github", "raw_github", github.TABLES["raw_github"],
                         ("repositories", "access_token")),
    "github_actions": SourceSpec(github.github_actions_source, "github", "raw_github_actions",
                                 github.TABLES["raw_github_actions"], ("repositories", "access_token")),
    "pagerduty": SourceSpec(pagerduty.pagerduty_source, "pagerduty", "raw_pagerduty",
                            pagerduty.TABLES["raw_pagerduty"], ("api_token",)),
    "events": SourceSpec(events.events_source, "events", "raw_events", events.TABLES["raw_events"], ("paths",)),
    "jira": SourceSpec(jira.jira_source, "jira", "raw_jira", jira.TABLES["raw_jira"],
                       ("base_url", "projects", "api_token")),
    "gitlab": SourceSpec(gitlab.gitlab_source, "gitlab", "raw_gitlab", gitlab.TABLES["raw_gitlab"],
                         ("projects", "private_token")),
    "jenkins": SourceSpec(jenkins.jenkins_source, "jenkins", "raw_jenkins", jenkins.TABLES["raw_jenkins"],
                          ("base_url", "jobs", "username", "api_token")),
    "git": SourceSpec(git.git_source, "git", "raw_git", git.TABLES["raw_git"], ("repositories",)),
}


def missing_settings(name: str) -> list[str]:
    """The config keys a source still needs (empty when it is configured)."""
    spec = SOURCES[name]
    missing = []
    for key in spec.required:
        path = f"sources.{spec.section}.{key}"
        if dlt.config.get(path) is None and dlt.secrets.get(path) is None:
            missing.append(f"SOURCES__{spec.section.upper()}__{key.upper()}")
    return missing


def ingest_source(name: str, warehouse: Path | None, *, full_refresh: bool = False,
                  destination: Any = None) -> dict[str, int]:
    """Load one source into the DuckDB file `warehouse`, or into another dlt `destination` (e.g.
    `dlt.destinations.postgres(url)`: the raw layout is the same); returns rows loaded per table.
    Raises a YardstickError."""
    spec = SOURCES[name]
    with tempfile.TemporaryDirectory(prefix="yardstick-dlt-") as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name=f"yardstick_{name}",
            destination=destination or dlt.destinations.duckdb(str(warehouse)),
            dataset_name=spec.dataset,
            pipelines_dir=pipelines_dir,
        )
        try:
            pipeline.run(spec.factory(full_refresh=full_refresh),
                         loader_file_format="parquet" if destination is None else None)
        except Exception as exc:  # dlt wraps everything in PipelineStepFailed
            domain = find_domain_error(exc)
            if domain is not None:
                raise domain from None
            raise SourceError(f"{name}: ingest failed: {_short(exc)}") from exc
        counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    return {f"{spec.dataset}.{table}": rows for table, rows in counts.items() if not table.startswith("_dlt")}


def ensure_raw_tables(warehouse: Path | None, *, connection: Any = None) -> None:
    """Create every raw table a source can write, empty, if no load has created it yet, and add any column a
    table lacks — so models can always read every source, configured or not, in a warehouse of any age.
    `connection`: an open connection with `execute` (an autocommit psycopg one for PostgreSQL; the DDL is
    portable) used instead of the DuckDB file `warehouse`."""
    with nullcontext(connection) if connection is not None else duckdb.connect(str(warehouse)) as con:
        for spec in SOURCES.values():
            con.execute(f"drop schema if exists {spec.dataset}_staging cascade")  # dlt's merge scratch space
            con.execute(f"create schema if not exists {spec.dataset}")
            for table, (columns, _) in spec.tables.items():
                con.execute(f"create table if not exists {spec.dataset}.{table} ({_ddl(columns)})")
                for f in columns:  # a column a newer source version reads (warehouses outlive releases)
                    con.execute(f"alter table {spec.dataset}.{table} add column if not exists {f.name} "
                                f"{DUCKDB_TYPES[f.type]}")


def _ddl(columns: Sequence[Field]) -> str:
    cols = [f"{f.name} {DUCKDB_TYPES[f.type]}" for f in columns]
    return ", ".join(cols + ["_dlt_load_id varchar", "_dlt_id varchar"])


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300]


__all__ = ["SOURCES", "YardstickError", "ensure_raw_tables", "ingest_source", "missing_settings"]
