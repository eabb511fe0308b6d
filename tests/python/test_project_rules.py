"""The project's rules (dbt-bouncer.yml, docs/architecture.md §10) hold on the dbt artifacts of a built
warehouse, and they are not vacuous: the same rules report a staging model reading a model, an intermediate
model reading a mart, a column its YAML does not list and a model without a primary-key test.

The artifacts come from `dbt docs generate` on a copy of the session's scenario warehouse (conftest.py), which
other modules build anyway: this module adds one docs generation (about 30 s) and a few dbt-bouncer runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from yardstick.dbt import PROJECT_DIR, dbt
from yardstick.publish import private_path

BOUNCER = Path(sys.executable).with_name("dbt-bouncer")
CONFIG = PROJECT_DIR / "dbt-bouncer.yml"


@pytest.fixture(scope="module")
def artifacts(scenario_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """manifest.json and catalog.json of the scenario warehouse (generated on a copy: the shared file is only
    read)."""
    scratch = tmp_path_factory.mktemp("bouncer")
    copy = scratch / "warehouse.duckdb"
    shutil.copyfile(private_path(scenario_warehouse), copy)  # every layer (the published file holds marts only)
    target = scratch / "target"
    dbt(["docs", "generate", "--target-path", str(target)], copy)
    yield target


def bounce(artifacts: Path, workdir: Path) -> tuple[int, list[dict[str, Any]], str]:
    """Run dbt-bouncer with the committed rules on `artifacts`; return its exit code, failures and output."""
    config = yaml.safe_load(CONFIG.read_text())
    config["dbt_artifacts_dir"] = str(artifacts)
    config_file = workdir / "dbt-bouncer.yml"
    config_file.write_text(yaml.safe_dump(config))
    results = workdir / "results.json"
    run = subprocess.run(
        [str(BOUNCER), "run", "--config-file", str(config_file), "--output-file", str(results),
         "--output-format", "json", "--output-only-failures"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300, check=False,
    )
    failures = json.loads(results.read_text()) if results.exists() else []
    return run.returncode, failures, run.stdout + run.stderr


def test_the_project_passes_its_rules(artifacts: Path, tmp_path: Path) -> None:
    code, failures, output = bounce(artifacts, tmp_path)
    errors = [f"{f['check_run_id']}: {f['failure_message']}" for f in failures if f["severity"] == "error"]
    assert errors == [] and code == 0, output[-3000:]
    assert "All checks passed" in output


def test_the_rules_catch_what_they_forbid(artifacts: Path, tmp_path: Path) -> None:
    broken = tmp_path / "target"
    broken.mkdir()
    shutil.copyfile(artifacts / "catalog.json", broken / "catalog.json")
    manifest = json.loads((artifacts / "manifest.json").read_text())
    nodes = manifest["nodes"]
    # a staging model that reads a model, an intermediate model that reads a mart
    nodes["model.yardstick.stg_github__pull_requests"]["depends_on"]["nodes"].append(
        "model.yardstick.int_pull_requests")
    nodes["model.yardstick.int_reviews"]["depends_on"]["nodes"].append("model.yardstick.fct_changes")
    # a built column its YAML does not list
    del nodes["model.yardstick.int_deployments"]["columns"]["ref"]
    # a model whose primary-key tests are gone
    for unique_id in [u for u, n in nodes.items() if n["resource_type"] == "test"
                      and n.get("attached_node") == "model.yardstick.stg_jira__sprints"
                      and n["test_metadata"]["name"] in ("unique", "unique_combination")]:
        del nodes[unique_id]
    (broken / "manifest.json").write_text(json.dumps(manifest))
    workdir = tmp_path / "run"
    workdir.mkdir()

    code, failures, output = bounce(broken, workdir)

    found = {(f["check_run_id"].split(":")[0], f["unique_id"].split(".")[-1]) for f in failures}
    assert code != 0, output[-3000:]
    assert found == {
        ("check_lineage_permitted_upstream_models", "stg_github__pull_requests"),
        ("check_lineage_permitted_upstream_models", "int_reviews"),
        ("check_columns_are_all_documented", "int_deployments"),
        ("check_model_has_unique_test", "stg_jira__sprints"),
    }, output[-3000:]


def test_staging_and_intermediate_columns_are_described(artifacts: Path) -> None:
    """At least 80% of the columns each layer builds have a description (issue 13's floor; today all do)."""
    manifest = json.loads((artifacts / "manifest.json").read_text())
    catalog = json.loads((artifacts / "catalog.json").read_text())
    built: dict[str, int] = {}
    described: dict[str, int] = {}
    for unique_id, node in catalog["nodes"].items():
        if not unique_id.startswith("model."):
            continue
        model = manifest["nodes"][unique_id]
        layer = model["original_file_path"].split("/")[1]
        documented = {name.lower(): column for name, column in model["columns"].items()}
        for column in node["columns"]:
            built[layer] = built.get(layer, 0) + 1
            if (documented.get(column.lower()) or {}).get("description", "").strip():
                described[layer] = described.get(layer, 0) + 1
    shares = {layer: described.get(layer, 0) / built[layer] for layer in ("staging", "intermediate", "marts")}
    assert min(shares.values()) >= 0.8, shares
    assert built["staging"] > 300 and built["intermediate"] > 250, built  # the catalog saw the models
