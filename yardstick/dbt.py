"""Runs the dbt project (at the repository root) against a warehouse file through dbt's Python API."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from yardstick.env import environment
from yardstick.errors import BuildFailed

PROJECT_DIR = Path(__file__).resolve().parent.parent

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

# dbt event callbacks for every invocation (the nightly's test checkpoints listen for finished nodes)
CALLBACKS: list[Callable[[Any], None]] = []


def dbt(args: list[str], warehouse: Path, *, vars: Mapping[str, Any] | None = None) -> Any:
    """Invoke dbt with the project and profile of this repository on `warehouse`; raise BuildFailed
    naming every failing model or test."""
    from dbt.cli.main import dbtRunner  # heavy import, only when building

    # the file log at info, not dbt's default debug: one line per node, and a third off the build time (bench/)
    command = [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet",
               "--log-level-file", "info"]
    if vars:
        command += ["--vars", json.dumps(dict(vars))]
    with environment({"YARDSTICK_WAREHOUSE": str(warehouse)}):  # profiles.yml reads it; nothing leaks
        result = dbtRunner(callbacks=list(CALLBACKS)).invoke(command)
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


def build(warehouse: Path, *, vars: Mapping[str, Any] | None = None, full_refresh: bool = False) -> None:
    """Seeds, models, snapshots and every test (data tests, unit tests, contracts), in DAG order. Incremental
    models recompute what was loaded since their last build; `full_refresh` rebuilds every table from scratch."""
    dbt(["build", "--full-refresh"] if full_refresh else ["build"], warehouse, vars=vars)
