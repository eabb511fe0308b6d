"""The measured steps of `bench/run`, each run in its own process so its peak RSS is its own:

    python -m bench.steps ingest WAREHOUSE OUT.json    the real dlt sources (settings from the environment)
    python -m bench.steps native DATA WAREHOUSE OUT.json   DuckDB's read_json of the same payload files
    python -m bench.steps build WAREHOUSE OUT.json     `dbt build` through yardstick's runner
    python -m bench.steps build-nightly WAREHOUSE OUT.json   the same, the last build taken as yesterday's
    python -m bench.steps native-raw DATA WAREHOUSE full|day OUT.json   the raw tables loaded by DuckDB itself
                                                       (scale 1.0: `bench/run --raw native`)
    python -m bench.steps rawsql WAREHOUSE OUT.json    the same models' compiled SQL (and data tests) run
                                                       directly in DuckDB, in the order dbt ran them

Each writes a JSON summary (seconds, rows, notes) to OUT.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from ingestion.sources import events, github, jira, pagerduty
from ingestion.sources.projection import Field

INGEST_SOURCES = ("github", "github_actions", "pagerduty", "jira", "events")
SQL_TYPES = {"text": "varchar", "bigint": "bigint", "bool": "boolean", "timestamp": "timestamptz"}


def ingest(warehouse: Path) -> dict[str, Any]:
    from ingestion.pipeline import ensure_raw_tables, ingest_source

    per_source = {}
    for name in INGEST_SOURCES:
        began = time.perf_counter()
        rows = ingest_source(name, warehouse)
        per_source[name] = {"seconds": time.perf_counter() - began, "rows": sum(rows.values()), "tables": rows}
    ensure_raw_tables(warehouse)
    return {"sources": per_source, "rows": sum(s["rows"] for s in per_source.values())}


# ---------------------------------------------------------------------------------------------- native


def _project(inner: str, spec: Sequence[Field], *, keep: str = "", listed: frozenset[str] = frozenset()) -> str:
    """`select` the spec's columns from the JSON column `j` of `inner`, each record parsed once (one multi-path
    `json_extract_string`); a list becomes space-separated text (commit parents, labels) as the sources store it.
    `keep` names columns of `inner` to put first."""
    paths = ", ".join(_quote("$." + f.path) for f in spec)
    cols = []
    for i, f in enumerate(spec, start=1):
        if f.path in listed:
            leaf = ".sha" if f.path == "parents" else ""
            value = f"array_to_string(json_extract_string(j, '$.{f.path}[*]{leaf}'), ' ')"
        else:
            value = f"v[{i}]"
        cols.append(f"cast({value} as {SQL_TYPES[f.type]}) as {f.name}")
    return f"select {keep + ', ' if keep else ''}{', '.join(cols)} " \
           f"from (select *, json_extract_string(j, [{paths}]) as v from ({inner}))"


def native_statements(data: Path) -> dict[str, str]:
    """One `create table … as select` per raw table the sources write, reading the payload files with
    DuckDB's JSON reader (`read_json_objects`) and projecting the same columns the sources keep."""
    gh = str(data / "github" / "*")
    repo = "replace(regexp_extract(filename, 'github/([^/]+)/', 1), '__', '/') as repository"
    pd_dir, jira_dir, ev_dir = data / "pagerduty", data / "jira", data / "events"

    def files(path: str) -> str:
        return f"read_json_objects('{path}', format='newline_delimited', filename=true)"

    def children(name: str, parent: str, spec: Sequence[Field], key: str, listed: frozenset[str] = frozenset()) -> str:
        inner = (f"select {repo}, cast(json_extract(json, '$.{parent}') as bigint) as {key}, "
                 f"unnest(json_extract(json, '$.items[*]')) as j from {files(f'{gh}/{name}.ndjson')}")
        return _project(inner, spec, keep=f"repository, {key}", listed=listed)

    def top(name: str, spec: Sequence[Field], listed: frozenset[str] = frozenset()) -> str:
        inner = f"select {repo}, json as j from {files(f'{gh}/{name}.ndjson')}"
        return _project(inner, spec, keep="repository", listed=listed)

    parents = frozenset({"parents"})
    segment_fields = [f for f in events.SEGMENT if f.name in events.SEGMENT_PATHS]
    segment_paths = [(f, p) for f in segment_fields for p in events.SEGMENT_PATHS[f.name]]
    flat = ", ".join(_quote("$." + p) for _, p in segment_paths)
    segment_cols = ", ".join(
        f"cast(coalesce({', '.join(f'v[{i}]' for i, (g, _) in enumerate(segment_paths, 1) if g is f)}) "
        f"as {SQL_TYPES[f.type]}) as {f.name}" for f in segment_fields)
    changelog_keys = (("field", "field"), ("fieldId", "field_id"), ("from", "from_value"),
                      ("fromString", "from_string"), ("to", "to_value"), ("toString", "to_string"))
    return {
        "raw_github.pull_requests": top("pulls", github.PULL_REQUEST),
        "raw_github.pull_request_commits": children("pull_commits", "number", github.COMMIT,
                                                    "pull_request_number", parents),
        "raw_github.pull_request_reviews": children("pull_reviews", "number", github.REVIEW, "pull_request_number"),
        "raw_github.commits": top("commits", github.COMMIT, parents),
        "raw_github.deployments": top("deployments", github.DEPLOYMENT),
        "raw_github.deployment_statuses": children("deployment_statuses", "deployment_id", github.DEPLOYMENT_STATUS,
                                                   "deployment_id"),
        "raw_github_actions.workflow_runs": top("workflow_runs", github.WORKFLOW_RUN),
        "raw_pagerduty.incidents": _project(f"select json as j from {files(f'{pd_dir}/incidents.ndjson')}",
                                            pagerduty.INCIDENT),
        "raw_pagerduty.log_entries": _project(f"select json as j from {files(f'{pd_dir}/log_entries.ndjson')}",
                                              pagerduty.LOG_ENTRY),
        "raw_jira.issues": _project(
            "select json as j, array_to_string(json_extract_string(json, '$.fields.customfield_10020[*].id'), ' ') "
            f"as sprint_ids from {files(f'{jira_dir}/issues.ndjson')}", jira.ISSUE, keep="sprint_ids",
            listed=frozenset({"fields.labels"})),
        "raw_jira.issue_changelog_items": (
            "select issue_id, history_id, cast(idx - 1 as bigint) as item_index, "
            + ", ".join(f"json_extract_string(item, '$.{k}') as {n}" for k, n in changelog_keys)
            + ", author_account_id, created_at from (select json_extract_string(issue, '$.id') as issue_id, "
            "json_extract_string(h, '$.id') as history_id, json_extract_string(h, '$.author.accountId') "
            "as author_account_id, cast(json_extract_string(h, '$.created') as timestamptz) as created_at, "
            "unnest(json_extract(h, '$.items[*]')) as item, generate_subscripts(json_extract(h, '$.items[*]'), 1) "
            "as idx from (select json as issue, unnest(json_extract(json, '$.changelog.histories[*]')) as h "
            f"from {files(f'{jira_dir}/issues.ndjson')}))"),
        "raw_jira.statuses": _project(f"select json as j from read_json_objects('{jira_dir}/statuses.json', "
                                      "format='array')", jira.STATUS),
        "raw_events.segment_events": f"select {segment_cols}, filename as source_file from (select *, "
                                     f"json_extract_string(j, [{flat}]) as v from (select filename, json as j "
                                     f"from {files(f'{ev_dir}/*.ndjson')}))",
    }


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def native(data: Path, warehouse: Path) -> dict[str, Any]:
    tables = {}
    began = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        for table, select in native_statements(data).items():
            con.execute(f"create schema if not exists {table.split('.')[0]}")
            con.execute(f"create or replace table {table} as {select}")
            tables[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
    return {"seconds": time.perf_counter() - began, "rows": sum(tables.values()), "tables": tables}


# The raw tables loaded by DuckDB itself, where the dlt sources would take hours (scale 1.0): each record's own
# time decides whether it was there the evening before the last day ("full") or arrived with it ("day"); children
# follow their parent. Every row gets a dlt-shaped load id, so the incremental models see the day as a new load.
CUTOFF_COLUMNS = {
    "raw_github.pull_requests": "created_at", "raw_github.commits": "committed_at",
    "raw_github.deployments": "created_at", "raw_github_actions.workflow_runs": "created_at",
    "raw_pagerduty.incidents": "created_at", "raw_pagerduty.log_entries": "created_at",
    "raw_jira.issues": "created_at", "raw_jira.issue_changelog_items": "created_at",
}
CHILDREN = {  # child table: (parent table, child's parent key columns, parent's columns)
    "raw_github.pull_request_commits": ("raw_github.pull_requests", "repository, pull_request_number",
                                        "repository, number"),
    "raw_github.pull_request_reviews": ("raw_github.pull_requests", "repository, pull_request_number",
                                        "repository, number"),
    "raw_github.deployment_statuses": ("raw_github.deployments", "repository, deployment_id", "repository, id"),
}


def native_raw(data: Path, warehouse: Path, part: str) -> dict[str, Any]:
    """Load the raw tables natively: `part` "full" = what existed before the cutoff (tables created), "day" = the
    last day (appended, with a newer load id). The raw tables dlt would write, with `_dlt_load_id` / `_dlt_id`."""
    from ingestion.pipeline import ensure_raw_tables

    manifest = json.loads((data / "manifest.json").read_text())
    cutoff, last_day = manifest["cutoff"], manifest["cutoff"][:10]
    load_id = f"{time.time():.6f}"
    began, untimed = time.perf_counter(), 0.0
    tables: dict[str, dict[str, Any]] = {}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set TimeZone = 'UTC'")
        for table, select in native_statements(data).items():
            started = time.perf_counter()
            schema = table.split(".")[0]
            con.execute(f"create schema if not exists {schema}")
            stage = f"{schema}.bench_stage"
            if table == "raw_events.segment_events":
                day_file = str(data / "events" / f"events-{last_day}.ndjson")
                select = select.replace(str(data / "events" / "*.ndjson"), day_file) if part == "day" else \
                    f"select * from ({select}) where source_file <> '{day_file}'"
            picking = time.perf_counter()
            con.execute(f"create or replace table {stage} as {select}")
            if part == "day" and table != "raw_events.segment_events":
                # picking the day's records out of the year's files is not a nightly's work (the API hands it only
                # the day's records): not timed
                untimed += time.perf_counter() - picking
            if table in CUTOFF_COLUMNS:
                compare = ">=" if part == "day" else "<"
                where = f"{CUTOFF_COLUMNS[table]} {compare} '{cutoff}'::timestamptz"
            elif table in CHILDREN:
                parent, keys, parent_keys = CHILDREN[table]
                where = f"({keys}) in (select {parent_keys} from {parent} where _dlt_load_id = '{load_id}')"
            else:
                where = "true" if part == "full" or table == "raw_events.segment_events" else "false"
            rows = f"select *, '{load_id}' as _dlt_load_id, md5(random()::varchar) as _dlt_id from {stage} where {where}"
            if part == "full":
                con.execute(f"create or replace table {table} as {rows}")
            else:
                con.execute(f"insert into {table} by name {rows}")
            con.execute(f"drop table {stage}")
            count = con.execute(f"select count(*) from {table} where _dlt_load_id = '{load_id}'").fetchone()[0]
            tables[table] = {"seconds": time.perf_counter() - started, "rows": count}
    ensure_raw_tables(warehouse)
    return {"seconds": time.perf_counter() - began - untimed, "rows": sum(t["rows"] for t in tables.values()),
            "sources": tables, "untimed_seconds": untimed}


# ---------------------------------------------------------------------------------------------- build


def build(warehouse: Path, *, nightly: bool = False) -> dict[str, Any]:
    """`dbt build` through yardstick's runner (yardstick/build_state.py decides what it builds). `nightly`: the
    last build is taken to be yesterday's, as a nightly's is, so the models that read today's date are built too."""
    from yardstick import dbt
    from yardstick.errors import BuildFailed

    if nightly:
        with duckdb.connect(str(warehouse)) as con:
            con.execute("update intermediate.build_state set as_of_day = cast(cast(as_of_day as date) - 1 as varchar)")
    began = time.perf_counter()
    note, reason, selected = "", "", None
    try:
        plan = dbt.build(warehouse)
        reason, selected = plan.reason, plan.select
    except BuildFailed as exc:  # still a full build's work; say which tests the synthetic data trips
        note = str(exc)[:600]
    return {"seconds": time.perf_counter() - began, "note": note, "plan": reason, "select": selected,
            "nodes": _node_times()}


def _node_times() -> dict[str, Any]:
    """From dbt's run_results.json: nodes and execution seconds per resource type, and the ten slowest nodes."""
    from yardstick.dbt import PROJECT_DIR

    target = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_DIR / "target")
    try:
        results = json.loads((target / "run_results.json").read_text())
    except FileNotFoundError:
        return {}
    kinds: dict[str, list[float]] = {}
    for r in results["results"]:
        kinds.setdefault(r["unique_id"].split(".")[0], []).append(r["execution_time"])
    slowest = sorted(results["results"], key=lambda r: -r["execution_time"])[:10]
    return {"elapsed": results.get("elapsed_time"),
            "by_type": {k: {"nodes": len(v), "seconds": round(sum(v), 1)} for k, v in kinds.items()},
            "slowest": [[r["unique_id"], round(r["execution_time"], 2)] for r in slowest]}


def rawsql(warehouse: Path) -> dict[str, Any]:
    """dbt's compiled SQL of every model (as `create or replace table|view`), data test and unit test, in run order:
    the SQL `dbt build` ran. A unit test's is the query of the model over its fixtures (run_results.json keeps it);
    dbt's comparison with the expected rows, a few rows, is left out."""
    from yardstick.dbt import PROJECT_DIR

    target = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_DIR / "target")
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = manifest["nodes"]
    statements: list[tuple[str, str]] = []
    for result in results:
        uid = result["unique_id"]
        if uid.startswith("unit_test.") and result.get("compiled_code"):
            statements.append((uid, f"select count(*) from ({result['compiled_code']}) as dbt_unit_test"))
            continue
        node = nodes.get(uid)
        if node is None or not node.get("compiled_code"):
            continue
        code = node["compiled_code"]
        kind = node["resource_type"]
        materialized = node["config"].get("materialized")
        if kind == "model" and materialized != "ephemeral":
            verb = "view" if materialized == "view" else "table"
            statements.append((uid, f"create or replace {verb} {node['relation_name']} as {code}"))
        elif kind == "test":
            statements.append((uid, f"select count(*) from ({code}) as dbt_test"))
    catalog = next(n["database"] for n in nodes.values() if n["resource_type"] == "model")
    began = time.perf_counter()
    with duckdb.connect() as con:  # attached under dbt's catalog name, which the compiled SQL names
        con.execute(f"attach '{warehouse}' as \"{catalog}\"")
        con.execute(f'use "{catalog}"')
        con.execute("set TimeZone = 'UTC'")
        for _uid, sql in statements:
            con.execute(sql).fetchall()
    return {"seconds": time.perf_counter() - began, "statements": len(statements),
            "models": sum(1 for u, _ in statements if u.startswith("model.")),
            "tests": sum(1 for u, _ in statements if u.startswith("test.")),
            "unit_tests": sum(1 for u, _ in statements if u.startswith("unit_test."))}


def main(argv: list[str]) -> int:
    step, *paths = argv
    out = Path(paths[-1])
    if step == "ingest":
        result = ingest(Path(paths[0]))
    elif step == "native":
        result = native(Path(paths[0]), Path(paths[1]))
    elif step == "native-raw":
        result = native_raw(Path(paths[0]), Path(paths[1]), paths[2])
    elif step in ("build", "build-nightly"):
        result = build(Path(paths[0]), nightly=step == "build-nightly")
    elif step == "rawsql":
        result = rawsql(Path(paths[0]))
    else:
        raise SystemExit(f"unknown step {step}")
    out.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
