"""What dbt checks in the suite's many builds.

- dbt's unit tests check the models' logic on fixed inputs, not the data, so the suite runs them once
  (test_dbt_unit_tests.py, and on PostgreSQL in test_postgres_portability.py) instead of in each build:
  conftest.py sets dbt's own `DBT_EXCLUDE_RESOURCE_TYPES` for the run, and `with_unit_tests()` lifts it.
- dbt's data tests (some 520 nodes, more than half of a build's time) run in every build of the warehouses the
  suite shares (the March 2026 scenario, the demo organisation), in the gate, quarantine, publish and tool
  modules, and wherever a module does not say otherwise. A module whose builds repeat data already checked there
  and whose own assertions compare marts (with hand-computed figures, or with another build) sets
  `DBT_DATA_TESTS = False`: its builds run the models only (conftest.py, `data_tests_off`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

UNIT_TESTS_OFF = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
DATA_TESTS_OFF = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test test"}


@contextmanager
def _excluding(settings: dict[str, str] | None) -> Iterator[None]:
    saved = {key: os.environ.pop(key, None) for key in UNIT_TESTS_OFF}
    os.environ.update(settings or {})
    try:
        yield
    finally:
        for key in UNIT_TESTS_OFF:
            os.environ.pop(key, None)
        os.environ.update({key: value for key, value in saved.items() if value is not None})


def with_unit_tests() -> AbstractContextManager[None]:
    """dbt runs its unit tests (and data tests) inside this block."""
    return _excluding(None)


def with_data_tests() -> AbstractContextManager[None]:
    """dbt runs its data tests (not its unit tests) inside this block."""
    return _excluding(UNIT_TESTS_OFF)


def data_tests_off() -> AbstractContextManager[None]:
    """dbt runs models (and seeds, snapshots) only inside this block."""
    return _excluding(DATA_TESTS_OFF)
