"""Runs the dbt project (at the repository root) against a warehouse file through dbt's Python API."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from yardstick import person_key
from yardstick.env import environment
from yardstick.errors import BuildFailed

PROJECT_DIR = Path(__file__).resolve().parent.parent

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

# profiles.yml reads the warehouse path from this var (dbt renders `var()` there for --vars values only)
WAREHOUSE_VAR = "yardstick_warehouse"


def dbt(args: list[str], warehouse: Path, *, vars: Mapping[str, Any] | None = None,
        callbacks: Sequence[Callable[[Any], None]] = ()) -> Any:
    """Invoke dbt with the project and profile of this repository on `warehouse`; raise BuildFailed
    naming every failing model or test. `callbacks` receive dbt's events (e.g. finished nodes)."""
    from dbt.cli.main import dbtRunner  # heavy import, only when building

    # the file log at info, not dbt's default debug: one line per node, and a third off the build time (bench/)
    command = [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet",
               "--log-level-file", "info"]
    command += ["--vars", json.dumps({**dict(vars or {}), WAREHOUSE_VAR: str(warehouse)})]
    # PostgreSQL and Spark sessions get the person key's padded keys from the environment (DuckDB's come from the
    # dbt-duckdb plugin yardstick.dbt_plugin); never in SQL text or logs, and nothing leaks past the call
    settings: dict[str, str] = {}
    if "postgres" in args:
        settings["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} {person_key.postgres_options(person_key.resolve())}"
    if "spark" in args:
        inner, outer = person_key.pads(person_key.resolve())
        settings |= {"YARDSTICK_PERSON_KEY_IPAD": inner.hex(), "YARDSTICK_PERSON_KEY_OPAD": outer.hex()}
    with environment(settings):
        result = dbtRunner(callbacks=list(callbacks)).invoke(command)
    if result.exception is not None:
        raise BuildFailed(f"dbt {args[0]} failed: {result.exception}")
    if not result.success:
        failing = [
            f"{r.node.resource_type} {r.node.name}: {' '.join(str(r.message).split())[:200]}"
            for r in getattr(result.result, "results", []) or []
            if str(r.status) in ("error", "fail", "runtime error")
        ]
        raise BuildFailed(f"dbt {args[0]} failed: " + ("; ".join(failing) or "see dbt logs"))
    return result.result


def build(warehouse: Path, *, vars: Mapping[str, Any] | None = None,
          callbacks: Sequence[Callable[[Any], None]] = (), full_refresh: bool = False) -> None:
    """Seeds, models, snapshots and every test (data tests, unit tests, contracts), in DAG order. Incremental
    models recompute what was loaded since their last build; `full_refresh` rebuilds every table from scratch.
    The teams' metric files (metrics/*.yml) are checked first; MetricFlow's own checks run as dbt parses."""
    from yardstick.metrics import check_team_metric_files

    check_team_metric_files()
    dbt(["build", "--full-refresh"] if full_refresh else ["build"], warehouse, vars=vars, callbacks=callbacks)
