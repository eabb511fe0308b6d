"""The semantic layer from Python (docs/architecture.md §9a): the team metric files, the MetricFlow semantic
manifest the dbt project parses to, its validation (`mf validate-configs`' semantic checks), the list of metrics,
and metric queries answered from the published warehouse on a read-only DuckDB connection."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingestion.errors import YardstickError
from yardstick.dbt import PROJECT_DIR, WAREHOUSE_VAR
from yardstick.errors import BuildFailed

# where teams keep their metric files; dbt_project.yml reads the same variable (model-paths)
METRICS_DIR_ENV = "YARDSTICK_METRICS_DIR"
TEAM_FILE_KEYS = {"metrics"}


@dataclass(frozen=True)
class MetricInfo:
    name: str
    description: str
    better: str | None
    unit: str | None
    category: str | None
    team: str | None
    defined_in: str


def metrics_dir() -> Path:
    """The team metric files' directory: YARDSTICK_METRICS_DIR (relative to the project, or absolute), else metrics/."""
    return PROJECT_DIR / os.environ.get(METRICS_DIR_ENV, "metrics")


def check_team_metric_files(directory: Path | None = None) -> list[Path]:
    """Every file of the team metrics directory is YAML holding only `metrics:` entries (MetricFlow metrics over
    the project's semantic models: no SQL, no models, no semantic models). Returns the files; raises a
    YardstickError naming the file and the reason otherwise. MetricFlow's own checks (the measure exists, the
    filter names known dimensions, ...) run when dbt parses the project at the build (`yardstick.dbt`)."""
    directory = directory or metrics_dir()
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith(".")) \
        if directory.is_dir() else []
    for path in files:
        if path.suffix not in (".yml", ".yaml") and path.name != "README.md":
            raise YardstickError(f"{path}: a team metric file is MetricFlow YAML (.yml) with `metrics:` only, "
                                 "not SQL or other files")
        if path.suffix not in (".yml", ".yaml"):
            continue
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise YardstickError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
        if not isinstance(document, dict) or not set(document) <= TEAM_FILE_KEYS:
            found = ", ".join(sorted(document)) if isinstance(document, dict) else type(document).__name__
            raise YardstickError(f"{path}: a team metric file holds only `metrics:` (found: {found}); semantic "
                                 "models and models belong to the project")
        for metric in document.get("metrics") or []:
            if not isinstance(metric, dict) or not metric.get("name") or not metric.get("type"):
                raise YardstickError(f"{path}: every metric needs a `name` and a `type` (got {metric!r:.80})")
    return files


def _target_dir() -> Path:
    return Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_DIR / "target") / "semantic"


def _project_files() -> list[Path]:
    roots = [PROJECT_DIR / "models", metrics_dir()]
    files = [PROJECT_DIR / "dbt_project.yml"]
    for root in roots:
        if root.is_dir():
            files += [p for p in root.rglob("*") if p.suffix in (".yml", ".yaml", ".sql")]
    return files


def parse_project(*, force: bool = False) -> Path:
    """`dbt parse` into <target>/semantic and return the directory holding semantic_manifest.json and
    manifest.json; reused while no project file is newer. Parsing never opens a warehouse, and it goes around
    `yardstick.dbt.dbt` on purpose: that one re-points the shared warehouse link in dbt's target directory, which
    a nightly building at the same time is using."""
    from dbt.cli.main import dbtRunner

    target = _target_dir()
    manifest = target / "semantic_manifest.json"
    if not force and manifest.exists():
        built = manifest.stat().st_mtime
        if all(p.stat().st_mtime < built for p in _project_files()):
            return target
    check_team_metric_files()
    with tempfile.TemporaryDirectory() as scratch:
        # the path only names the database in the manifest (load_semantic_manifest renames it at query time)
        command = ["parse", "--target-path", str(target), "--project-dir", str(PROJECT_DIR), "--profiles-dir",
                   str(PROJECT_DIR), "--quiet", "--write-json", "--log-path", str(Path(scratch) / "logs"),
                   "--vars", json.dumps({WAREHOUSE_VAR: str(Path(scratch) / "warehouse.duckdb")})]
        result = dbtRunner().invoke(command)
    if result.exception is not None or not result.success:
        reason = " ".join(str(result.exception or "see dbt's output").split())
        raise BuildFailed(f"dbt parse failed: {reason}")
    return target


def load_semantic_manifest(target: Path, database: str | None = None) -> Any:
    """MetricFlow's semantic manifest from a parse; `database` renames the catalog every relation lives in (a
    DuckDB file's catalog is its file name, which differs between the file parsed for and the one queried)."""
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

    raw = json.loads((target / "semantic_manifest.json").read_text())
    if database:
        relations = [model["node_relation"] for model in raw["semantic_models"]]
        relations += [spine["node_relation"] for spine in raw["project_configuration"].get("time_spines", [])]
        for relation in relations:
            relation["database"] = database
            relation["relation_name"] = f'"{database}"."{relation["schema_name"]}"."{relation["alias"]}"'
    return parse_manifest_from_dbt_generated_manifest(manifest_json_string=json.dumps(raw))


def validate(manifest: Any) -> list[str]:
    """MetricFlow's semantic validations (`mf validate-configs --skip-dw`): the errors, readable."""
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import (
        SemanticManifestValidator,
    )

    result = SemanticManifestValidator().validate_semantic_manifest(manifest)
    return [issue.as_readable_str() for issue in result.errors]


def list_metrics(target: Path | None = None) -> list[MetricInfo]:
    """Every metric of the semantic layer with its direction, unit, category and the file defining it."""
    target = target or parse_project()
    nodes = json.loads((target / "manifest.json").read_text())["metrics"].values()
    infos = []
    for node in nodes:
        meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
        path = node["original_file_path"]
        team = meta.get("team") or (None if path.startswith("models/") else Path(path).stem)
        infos.append(MetricInfo(node["name"], " ".join((node.get("description") or "").split()),
                                meta.get("better"), meta.get("unit"), meta.get("category"), team, path))
    return sorted(infos, key=lambda info: (info.team is not None, info.name))


class _ReadOnlyDuckDb:
    """MetricFlow's SqlClient over a read-only DuckDB connection: MetricFlow plans and renders the SQL for DuckDB,
    this runs it. Nothing is ever written (the connection refuses writes)."""

    def __init__(self, connection: Any) -> None:
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self._connection = connection
        self.sql_engine_type = SqlEngine.DUCKDB
        self.sql_plan_renderer = DuckDbSqlPlanRenderer()

    def query(self, stmt: str, sql_bind_parameter_set: Any = None) -> Any:
        from metricflow.data_table.mf_table import MetricFlowDataTable

        cursor = self._connection.execute(stmt)
        return MetricFlowDataTable.create_from_rows(
            column_names=[column[0] for column in cursor.description], rows=cursor.fetchall())

    def execute(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
        raise YardstickError("the metrics layer reads the published warehouse read-only")

    dry_run = execute

    def close(self) -> None:
        self._connection.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def query(warehouse: Path, metrics: Sequence[str], group_by: Sequence[str] = (), where: Sequence[str] = (),
          limit: int | None = None, order: Sequence[str] = ()) -> Any:
    """A MetricFlow query answered from the published `warehouse`, opened read-only (a nightly's atomic rename
    goes on; this connection keeps reading the file it opened). Returns (sql, pandas DataFrame)."""
    import duckdb
    from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    if not warehouse.exists():
        raise YardstickError(f"no warehouse at {warehouse}: run `yardstick demo` or `yardstick build` first")
    target = parse_project()
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        database = connection.execute("select current_database()").fetchone()[0]
        manifest = load_semantic_manifest(target, database)
        client = _ReadOnlyDuckDb(connection)
        engine = MetricFlowEngine(SemanticManifestLookup(manifest), client)  # type: ignore[arg-type]
        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics), group_by_names=list(group_by) or None,
            where_constraints=list(where) or None, limit=limit, order_by_names=list(order) or None)
        try:
            sql = engine.explain(request).sql_statement.sql
        except Exception as exc:  # MetricFlow's query errors (unknown metric, dimension) read as one line
            raise YardstickError(f"MetricFlow cannot answer that query: {' '.join(str(exc).split())[:600]}") \
                from None
        return sql, connection.execute(sql).df()
    finally:
        connection.close()
