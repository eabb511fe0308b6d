"""dbt's unit tests check the models' logic on fixed inputs, not the data, so the suite runs them once
(test_dbt_unit_tests.py, and on PostgreSQL in test_postgres_portability.py) instead of in each of its many
builds: conftest.py sets dbt's own `DBT_EXCLUDE_RESOURCE_TYPES` for the run, and `with_unit_tests()` lifts it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

UNIT_TESTS_OFF = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}


@contextmanager
def with_unit_tests() -> Iterator[None]:
    """dbt runs its unit tests inside this block."""
    saved = {key: os.environ.pop(key, None) for key in UNIT_TESTS_OFF}
    try:
        yield
    finally:
        os.environ.update({key: value for key, value in saved.items() if value is not None})
