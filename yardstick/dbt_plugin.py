"""dbt-duckdb plugin (profiles.yml `plugins`): sets the person key's padded keys as session variables on every
DuckDB connection and cursor dbt opens, so the `person_key` macro can compute HMACs without the key ever
appearing in SQL text, compiled files or logs."""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from yardstick import person_key


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._key = person_key.resolve()

    def configure_connection(self, conn: Any) -> None:
        person_key.set_variables(conn, self._key)

    def configure_cursor(self, cursor: Any) -> None:
        person_key.set_variables(cursor, self._key)
