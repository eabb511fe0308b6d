"""`yardstick docs`: the dbt docs site, generated offline from the warehouse's private working file.

dbt reads the catalog (column types) from the database; it runs on a temporary copy of the private file (it holds
every layer the docs describe, the published file only marts), so nothing is written to either file. `--static` makes one
self-contained `target/static_index.html` that opens from disk without a web server or network.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from yardstick.dbt import PROJECT_DIR, dbt
from yardstick.publish import private_path


def generate_docs(warehouse: Path) -> Path:
    """Write target/index.html, target/static_index.html, manifest.json and catalog.json; return the static page."""
    with tempfile.TemporaryDirectory(prefix="yardstick-docs-") as scratch:
        copy = Path(scratch) / "warehouse.duckdb"
        if private_path(warehouse).exists():
            shutil.copyfile(private_path(warehouse), copy)
        dbt(["docs", "generate", "--static"], copy)
    return PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target") / "static_index.html"
