"""What a nightly build must do: only what the new data and the calendar reach.

After every successful build the work copy keeps, in `intermediate.build_state`, a fingerprint of the project
(every file dbt reads, the vars passed, a keyed hash of the person key) and, per raw table, its row count, newest
`_dlt_load_id` and a digest of its content (dlt's load and row ids left out: a source's look-back re-reads a
window of records every night and reloads them with a new load id, unchanged). The next build compares:

- no state yet, or the fingerprint changed (a model, seed, test or var changed): `dbt build` of everything, unit
  tests included (incremental models see the change through their own fingerprint and recompute every entity);
- a macro changed or the person key rotated (which the incremental models cannot see), or `--full-refresh`:
  `dbt build --full-refresh`;
- otherwise: `dbt build --select source:<changed raw table>+ …` — the models downstream of a raw table whose
  content changed (rows gained, lost or changed; not rows reloaded as they were), with their data tests — plus,
  when the day changed and var `as_of_date` is blank, the models that read today's date (`tag:as_of_date`, set
  by the `as_of_date` macro) and theirs. Unit tests are left out: they check code against fixed rows, and the
  code is the one they passed on. A raw table whose rows were only reloaded as they were selects its staging
  model alone (`source:<table>+1`): a staging table keeps each record's load id (`loaded_by`), which the reload
  moved, and nothing after it reads anything the reload changed;
- nothing changed or reloaded: no dbt at all.

Models that are not selected keep last night's tables, which are what a build would give again: their inputs
did not change. Incremental models go on recomputing only the entities their raw rows reach (macros/incremental.sql).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

STATE = "intermediate.build_state"
PROJECT_PARTS = ("models", "macros", "seeds", "tests", "snapshots", "dbt_project.yml", "profiles.yml")


@dataclass(frozen=True)
class Plan:
    """What to build: `select` is None for everything, an empty list for nothing."""

    select: list[str] | None
    unit_tests: bool
    reason: str
    full_refresh: bool = False
    marks: dict[str, dict] | None = field(default=None, repr=False, compare=False)  # the raw tables' marks now

    def summary(self) -> str:
        what = "everything" if self.select is None else "what changed" if self.select else "nothing"
        return f"dbt built {what} ({self.reason})"

    def args(self, command: str = "build") -> list[str]:
        """dbt's arguments for `build` (or `run`: the same models, no tests)."""
        args = [command]
        if self.select:
            args += ["--select", *self.select]
        if command == "build" and not self.unit_tests:
            args += ["--exclude-resource-type", "unit_test"]
        return args + (["--full-refresh"] if self.full_refresh else [])


def _files_digest(digest: Any, project: Path, parts: tuple[str, ...]) -> None:
    for part in parts:
        root = project / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")


def deep_fingerprint(project: Path, key: str) -> str:
    """What the incremental models' own fingerprint (macros/incremental.sql: models, seeds, vars) cannot see: the
    macros and the person key (an HMAC of it, never the key). A change means `--full-refresh`."""
    digest = hashlib.sha256()
    _files_digest(digest, project, ("macros",))
    digest.update(hmac.new(key.encode(), b"yardstick build fingerprint", hashlib.sha256).digest())
    return digest.hexdigest()


def fingerprint(project: Path, vars: Mapping[str, Any] | None, key: str) -> str:
    """sha256 over every file dbt reads in `project`, the vars passed and the deep fingerprint: any change means
    a build of everything."""
    digest = hashlib.sha256()
    _files_digest(digest, project, PROJECT_PARTS)
    plain = {k: v for k, v in dict(vars or {}).items() if k != "yardstick_warehouse"}
    digest.update(json.dumps(plain, sort_keys=True, default=str).encode())
    digest.update(deep_fingerprint(project, key).encode())
    return digest.hexdigest()


def source_definitions(project: Path) -> list[dict[str, Any]]:
    """Every dbt source the project's YAML declares. Only files with a top-level `sources:` are parsed, with
    libyaml's parser where PyYAML has it: every build plans from these, and the pure-Python parser reading all
    of the models' YAML took half a second each time."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    texts = (path.read_text() for path in sorted((project / "models").rglob("*.yml")))
    return [source for text in texts if re.search(r"(?m)^sources:", text)
            for source in (yaml.load(text, Loader=loader) or {}).get("sources", []) or []]


def source_selectors(project: Path) -> dict[str, str]:
    """`raw_schema.table` → dbt selector `source:name.table`, from the staging folders' source YAML."""
    found: dict[str, str] = {}
    for source in source_definitions(project):
        schema = source.get("schema", source["name"])
        for table in source.get("tables", []) or []:
            identifier = table.get("identifier", table["name"])
            found[f"{schema}.{identifier}"] = f"source:{source['name']}.{table['name']}"
    return found


# dlt's bookkeeping columns, new on every load of a row: not content
DLT_COLUMNS = ("_dlt_load_id", "_dlt_id")


def _content_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """`schema.table` → its content columns (every column but dlt's bookkeeping), for each table dlt wrote."""
    found: dict[str, list[str]] = {}
    for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() and (table_schema, table_name) in (select table_schema, "
            "table_name from information_schema.columns where column_name = '_dlt_load_id' "
            "and table_catalog = current_database()) order by table_schema, table_name, ordinal_position").fetchall():
        columns = found.setdefault(f"{schema}.{table}", [])
        if column not in DLT_COLUMNS:
            columns.append(column)
    return found


def _row_hash(columns: list[str]) -> str:
    return "hash(" + ", ".join(f'"{c}"' for c in columns) + ")" if columns else "0"


def _mark(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], before: Mapping[str, Any] | None) -> dict:
    """One raw table's mark: rows, newest load id and a digest of its content (the sum of a hash of every row's
    content columns: order does not matter, a changed, added or removed row changes it; dlt's load id and row id
    are left out, so a row reloaded unchanged — a source's look-back re-reading a window — leaves it as it was).

    Cheap where it can be: the same rows and newest load id as `before` (the last build's mark) keep its digest
    without reading the table; when every row `before` counted is still there (nothing loaded since deleted one: an
    append, a first load), only the rows loaded since are hashed and added to it; otherwise (a merge replaced rows)
    the whole table is hashed."""
    # dlt's load ids are text (Unix time, so they sort as they grow); compared uncast, DuckDB skips the row groups
    # of older loads by their min/max
    rows, newest = con.execute(f"select count(*), max(_dlt_load_id) from {table}").fetchone()
    mark = {"rows": rows, "load_id": newest or "", "columns": hashlib.sha256("\0".join(columns).encode()).hexdigest()}
    usable = isinstance(before, Mapping) and before.get("columns") == mark["columns"] and "digest" in before
    if usable and (rows, mark["load_id"]) == (before["rows"], before["load_id"]):
        return {**mark, "digest": before["digest"]}
    since = before["load_id"] if usable else None
    if since is not None:
        kept = con.execute(f"select count(*) from {table} where _dlt_load_id <= ?", [since]).fetchone()[0]
        if kept == before["rows"]:
            added = con.execute(f"select coalesce(sum({_row_hash(columns)}), 0) from {table} where _dlt_load_id > ?",
                                [since]).fetchone()[0]
            return {**mark, "digest": str(int(before["digest"]) + int(added))}
    digest = con.execute(f"select coalesce(sum({_row_hash(columns)}), 0) from {table}").fetchone()[0]
    return {**mark, "digest": str(digest)}


def raw_marks(con: duckdb.DuckDBPyConnection, tables: list[str],
              before: Mapping[str, Any] | None = None) -> dict[str, dict]:
    """Per raw table that exists: its mark (`_mark`), computed from `before` (the last build's marks) where it
    can."""
    content = _content_columns(con)
    before = before or {}
    return {t: _mark(con, t, content[t], before.get(t)) for t in tables if t in content}


def _reloaded(now: Mapping[str, Any] | None, before: Any) -> bool:
    """A raw table gained a newer load id (rows reloaded, changed or not)."""
    return now is not None and isinstance(before, Mapping) and now["load_id"] != before.get("load_id")


def _changed(now: Mapping[str, Any] | None, before: Any) -> bool:
    """A raw table changed when its content did: rows and digest (a state of an older shape: when anything does)."""
    if now is None or not isinstance(before, Mapping):
        return now != before
    return (now["rows"], now["digest"], now["columns"]) != (before.get("rows"), before.get("digest"),
                                                            before.get("columns"))


def today() -> date:
    return datetime.now(UTC).date()


def _read_state(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'intermediate' "
                         "and table_name = 'build_state'").fetchone()[0]
    if not exists:
        return None
    try:
        row = con.execute(f"select fingerprint, deep_fingerprint, as_of_day, raw_marks from {STATE}").fetchone()
    except duckdb.BinderException:  # a state table of another shape: start over
        return None
    return None if row is None else {"fingerprint": row[0], "deep": row[1], "as_of_day": row[2],
                                     "marks": json.loads(row[3])}


def plan(warehouse: Path, project: Path, vars: Mapping[str, Any] | None, key: str, *,
         full_refresh: bool = False) -> Plan:
    """Decide what this build must run (see the module's docstring)."""
    if full_refresh:
        return Plan(None, True, "full refresh", full_refresh=True)
    selectors = source_selectors(project)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        state = _read_state(con)
        marks = raw_marks(con, sorted(selectors), state["marks"] if state else None)
    if state is None:
        return Plan(None, True, "first build", marks=marks)
    if state["deep"] != deep_fingerprint(project, key):
        return Plan(None, True, "a macro or the person key changed: every table rebuilt", full_refresh=True,
                    marks=marks)
    if state["fingerprint"] != fingerprint(project, vars, key):
        return Plan(None, True, "a model, seed, test or var changed", marks=marks)
    changed = sorted(selectors[t] for t in selectors if _changed(marks.get(t), state["marks"].get(t)))
    reloaded = sorted(selectors[t] for t in selectors
                      if selectors[t] not in changed and _reloaded(marks.get(t), state["marks"].get(t)))
    dated = not (vars or {}).get("as_of_date") and state["as_of_day"] != today().isoformat()
    select = [f"{s}+" for s in changed] + [f"{s}+1" for s in reloaded] + (["tag:as_of_date+"] if dated else [])
    reason = (f"{len(changed)} raw table(s) changed" + (f", {len(reloaded)} reloaded as they were" if reloaded else "")
              + (", a new day" if dated else ""))
    return Plan(select, False, reason, marks=marks)


def record(warehouse: Path, project: Path, vars: Mapping[str, Any] | None, key: str, *,
           marks: Mapping[str, dict] | None = None) -> None:
    """After a successful build: remember what it was built from. `marks`: the raw tables' marks the plan took
    (the build changes no raw table), else they are taken now."""
    with duckdb.connect(str(warehouse)) as con:
        if marks is None:
            state = _read_state(con)
            marks = raw_marks(con, sorted(source_selectors(project)), state["marks"] if state else None)
        con.execute("create schema if not exists intermediate")
        con.execute(f"create or replace table {STATE} (fingerprint varchar, deep_fingerprint varchar, "
                    "as_of_day varchar, raw_marks varchar)")
        con.execute(f"insert into {STATE} values (?, ?, ?, ?)",
                    [fingerprint(project, vars, key), deep_fingerprint(project, key), today().isoformat(),
                     json.dumps(marks, sort_keys=True)])
