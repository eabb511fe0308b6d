"""Runs the dlt sources into a DuckDB file: one pipeline and one `raw_<source>` dataset per source.

Pipeline state (the incremental cursors) lives in the warehouse itself: every run uses a fresh working
directory, so dlt restores state from the DuckDB file it loads into. A run that fails before publish
leaves no trace, because the orchestrator throws the work copy away and with it the advanced cursors.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb

from ingestion.environment import environment
from ingestion.errors import SourceError, YardstickError, find_domain_error
from ingestion.sources import events, git, github, github_copilot, gitlab, jenkins, jira, pagerduty
from ingestion.sources.projection import (
    REJECTED_COLUMNS,
    REJECTED_TABLE,
    Field,
    Quarantine,
    TableSpec,
    quarantining,
)

DEFAULT_MAX_REJECTED_SHARE = 0.01
REJECTED_HINTS = {column: {"data_type": "timestamp" if column == "first_seen_at" else "text", "nullable": True}
                  for column in REJECTED_COLUMNS}
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
    "github_copilot": SourceSpec(github_copilot.github_copilot_source, "github_copilot", "raw_github_copilot",
                                 github_copilot.TABLES["raw_github_copilot"], ("organizations", "access_token")),
}


EMPTY = (None, "", "[]", "{}", [], {})  # an empty setting means "not set" (CI passes an undefined secret as "")


def _is_set(path: str) -> bool:
    return any(provider.get(path) not in EMPTY for provider in (dlt.config, dlt.secrets))


def missing_settings(name: str) -> list[str]:
    """The required config keys of a source that are unset or empty: none when it is configured, all of them
    when it is not configured at all (the source is skipped). A source with some of them set and others not is
    a mistake worth stopping for: a SourceError names the missing keys."""
    spec = SOURCES[name]
    keys = {key: f"SOURCES__{spec.section.upper()}__{key.upper()}" for key in spec.required}
    missing = [env for key, env in keys.items() if not _is_set(f"sources.{spec.section}.{key}")]
    if missing and len(missing) < len(keys):
        present = [env for env in keys.values() if env not in missing]
        raise SourceError(f"{name}: partly configured: {', '.join(present)} set but {', '.join(missing)} "
                          "empty or unset")
    return missing


@contextmanager
def _empty_settings_unset(section: str) -> Iterator[None]:
    """While dlt resolves a source's settings, hide its environment variables that are empty strings, so an
    optional setting left empty (`SOURCES__JIRA__API_VERSION=""`) takes its default instead of failing to
    coerce. The environment is dlt's configuration channel; nothing else is changed, and it is restored."""
    prefix = f"SOURCES__{section.upper()}__"
    hidden = {key: value for key, value in os.environ.items() if key.startswith(prefix) and value.strip() == ""}
    for key in hidden:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(hidden)


@contextmanager
def arrow_load_columns() -> Iterator[None]:
    """The API sources yield Arrow tables, which dlt loads without its row normaliser; ask it to add the
    `_dlt_load_id` and `_dlt_id` columns every raw table carries (dlt's `normalize.parquet_normalizer` settings,
    read from the environment while the pipeline runs, then restored)."""
    with environment({"NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
                      "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID": "true"}):
        yield


def ingest_source(name: str, warehouse: Path | None, *, full_refresh: bool = False,
                  destination: Any = None) -> dict[str, int]:
    """Load one source into the DuckDB file `warehouse`, or into another dlt `destination` (e.g.
    `dlt.destinations.postgres(url)`: the raw layout is the same); returns rows loaded per table, and
    `<dataset>._rejected` with the records quarantined by this run (docs/architecture.md §4, "Bad input").
    Raises a YardstickError, also when a table's rejected share is above `max_rejected_share`."""
    spec = SOURCES[name]
    with tempfile.TemporaryDirectory(prefix="yardstick-dlt-") as pipelines_dir, _opened(warehouse, destination) as con:
        pipeline = dlt.pipeline(
            pipeline_name=f"yardstick_{name}",
            destination=destination or dlt.destinations.duckdb(con),
            dataset_name=spec.dataset,
            pipelines_dir=pipelines_dir,
        )
        known = _quarantined(pipeline)
        quarantine = Quarantine(name, known)
        try:
            with _empty_settings_unset(spec.section):
                source = spec.factory(full_refresh=full_refresh)
            with quarantining(quarantine), arrow_load_columns():
                info = pipeline.run(source, loader_file_format="parquet" if destination is None else None)
        except Exception as exc:  # dlt wraps everything in PipelineStepFailed
            domain = find_domain_error(exc)
            if domain is not None:
                raise domain from None
            raise SourceError(f"{name}: ingest failed: {_short(exc)}") from exc
        counts = dict(pipeline.last_trace.last_normalize_info.row_counts) if pipeline.last_trace else {}
        _store_quarantine(pipeline, quarantine, known, info.loads_ids[-1] if info.loads_ids else None)
    loaded = {f"{spec.dataset}.{table}": rows for table, rows in counts.items() if not table.startswith("_dlt")}
    if quarantine.rejected:
        loaded[f"{spec.dataset}.{REJECTED_TABLE}"] = len(quarantine.rejected)
    _check_rejected_share(name, spec, quarantine, counts)
    return loaded


@contextmanager
def _opened(warehouse: Path | None, destination: Any) -> Iterator[Any]:
    """One connection to the DuckDB file for a whole load, handed to dlt (its duckdb destination takes an open
    connection and never closes it): dlt otherwise opens the file for each step of a load and closes it after,
    and each close checkpoints it (the bad-input tests, small loads, took 11% more CPU so). Nothing for another
    destination."""
    if destination is not None:
        yield None
        return
    with duckdb.connect(str(warehouse)) as con:
        yield con


def quarantined_counts(warehouse: Path) -> dict[str, int]:
    """Records in quarantine per raw table (`raw_github.pull_requests` → n), across every source's dataset."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        existing = {schema for (schema,) in con.execute(
            "select table_schema from information_schema.tables where table_name = ?", [REJECTED_TABLE]).fetchall()}
        for spec in SOURCES.values():
            if spec.dataset in existing:
                for table, count in con.execute(f"select table_name, count(*) from {spec.dataset}.{REJECTED_TABLE} "
                                                "group by table_name order by table_name").fetchall():
                    counts[f"{spec.dataset}.{table}"] = count
    return counts


def _quarantined(pipeline: Any) -> dict[tuple[str, str], Any]:
    """(table, record id) → first_seen_at of the records already in quarantine (none before the first load)."""
    try:
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(REJECTED_TABLE)
            rows = client.execute_sql(f"select table_name, record_id, first_seen_at from {table}")
    except Exception:  # no dataset or no quarantine table yet
        return {}
    return {(table_name, record_id): first_seen for table_name, record_id, first_seen in rows or []}


def _store_quarantine(pipeline: Any, quarantine: Quarantine, known: Mapping[tuple[str, str], Any],
                      load_id: str | None) -> None:
    """Write this run's rejected records into `_rejected` (keeping when each was first seen) and delete the
    quarantine rows of records that have now arrived valid."""
    if quarantine.rejected:
        now = datetime.now(UTC)
        rows = [{**row, "load_id": load_id, "first_seen_at": known.get(key) or now}
                for key, row in quarantine.rejected.items()]
        pipeline.run(dlt.resource(rows, name=REJECTED_TABLE, write_disposition="merge",
                                  primary_key=["table_name", "record_id"], columns=REJECTED_HINTS))
    if quarantine.resolved:
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(REJECTED_TABLE)
            for table_name, record_id in sorted(quarantine.resolved):
                client.execute_sql(f"delete from {table} where table_name = %s and record_id = %s",
                                   table_name, record_id)


def _check_rejected_share(name: str, spec: SourceSpec, quarantine: Quarantine, counts: Mapping[str, int]) -> None:
    """Stop the run when a table's rejected share passes `sources.<section>.max_rejected_share` (default 0.01).
    One odd record is always tolerated, so a small table does not fail on a single bad record."""
    limit = _setting_float(f"sources.{spec.section}.max_rejected_share", DEFAULT_MAX_REJECTED_SHARE)
    for table, rejected in sorted(quarantine.counts().items()):
        total = rejected + counts.get(table, 0)
        if rejected > max(1, int(limit * total)):
            reasons = sorted({row["reason"] for (t, _), row in quarantine.rejected.items() if t == table})
            raise SourceError(f"{name}: {rejected} of {total} records of {spec.dataset}.{table} broke their contract "
                              f"({rejected / total:.1%}, above SOURCES__{spec.section.upper()}__MAX_REJECTED_SHARE="
                              f"{limit:g}); they are in {spec.dataset}.{REJECTED_TABLE}: {'; '.join(reasons[:3])}")


def _setting_float(path: str, default: float) -> float:
    value = dlt.config.get(path)
    if value in EMPTY:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SourceError(f"{path.upper().replace('.', '__')} must be a number, got {value!r}") from None


def ensure_raw_tables(warehouse: Path | None, *, connection: Any = None) -> None:
    """Create every raw table a source can write, empty, if no load has created it yet, and add any column a
    table lacks — so models can always read every source, configured or not, in a warehouse of any age.
    `connection`: an open connection with `execute` (an autocommit psycopg one for PostgreSQL; the DDL is
    portable) used instead of the DuckDB file `warehouse`."""
    with nullcontext(connection) if connection is not None else duckdb.connect(str(warehouse)) as con:
        for spec in SOURCES.values():
            con.execute(f"drop schema if exists {spec.dataset}_staging cascade")  # dlt's merge scratch space
            con.execute(f"create schema if not exists {spec.dataset}")
            rejected = ", ".join(f"{c} {'timestamp with time zone' if c == 'first_seen_at' else 'varchar'}"
                                 for c in REJECTED_COLUMNS)
            con.execute(f"create table if not exists {spec.dataset}.{REJECTED_TABLE} ({rejected}, "
                        "_dlt_load_id varchar, _dlt_id varchar)")
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


__all__ = ["SOURCES", "arrow_load_columns", "YardstickError", "ensure_raw_tables", "ingest_source", "missing_settings"]
