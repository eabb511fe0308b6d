"""Every dbt unit test of the project (models/**/_*.yml `unit_tests:`), run once per `pytest` run on a copy of the
scenario warehouse (unit tests read their inputs from fixtures, but dbt looks up the inputs' columns in the
warehouse). The suite's other builds leave them out (dbt_unit_tests.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from dbt_unit_tests import with_unit_tests

from yardstick.dbt import dbt
from yardstick.publish import private_path


def test_every_unit_test_runs_and_passes(scenario_warehouse: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(private_path(scenario_warehouse), warehouse)  # every layer: the unit tests' inputs exist
    with with_unit_tests():
        listed = dbt(["ls", "--resource-type", "unit_test", "--output", "name"], warehouse)
        results = dbt(["test", "--select", "test_type:unit"], warehouse).results
    ran = {r.node.unique_id: str(r.status) for r in results if r.node.resource_type == "unit_test"}
    assert len(listed) >= 40 and len(ran) == len(listed), (len(listed), sorted(ran))
    assert {status for status in ran.values()} == {"pass"}, {k: v for k, v in ran.items() if v != "pass"}
