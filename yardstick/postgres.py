"""`yardstick publish-postgres`: copy every public mart into PostgreSQL for BI tools that speak its protocol
(Metabase's built-in driver), in one transaction so readers never see a half-copied schema.

The marts are loaded into a scratch schema, then — still in the same transaction — the old `marts` schema
is dropped and the scratch one renamed to `marts`. PostgreSQL's DDL is transactional: until the commit, BI
readers keep seeing the previous copy; after it, the complete new one. A read-only role (default
`yardstick_reader`, `YARDSTICK_POSTGRES_READER`) is granted USAGE and SELECT only, and its sessions default
to read-only transactions. Primary keys come from the dbt project's unique tests, column comments from its
documentation, so BI tools show both.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingestion.errors import YardstickError
from yardstick.dbt import PROJECT_DIR, dbt

SCHEMA = "marts"
INCOMING = "marts_incoming"
BATCH = 10_000

TYPES = {
    "VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint", "TINYINT": "smallint",
    "HUGEINT": "numeric", "UBIGINT": "numeric", "UINTEGER": "bigint", "DOUBLE": "double precision",
    "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "TIME": "time", "INTERVAL": "interval",
    "UUID": "uuid",
}


class PostgresPublishFailed(YardstickError):
    """The PostgreSQL copy could not be made; the previous copy stays in place."""


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    columns: dict[str, str]  # column → description
    primary_key: tuple[str, ...]  # the grain (a unique / unique_combination test)
    not_null: frozenset[str] = frozenset()  # columns with a not_null test or constraint


def _pg_type(duck_type: str) -> tuple[str, bool]:
    """PostgreSQL type for a DuckDB type, and whether the value must be cast to text first."""
    if duck_type in TYPES:
        return TYPES[duck_type], False
    decimal = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duck_type)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})", False
    return "text", True  # lists, structs, maps, json: their text form


def public_marts() -> dict[str, Mart]:
    """Public models in schema `marts`, from the dbt manifest (parsed if there is none yet)."""
    manifest_path = PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target") / "manifest.json"
    if not manifest_path.exists():
        with tempfile.TemporaryDirectory() as scratch:
            dbt(["parse"], Path(scratch) / "parse.duckdb")
    manifest = json.loads(manifest_path.read_text())
    marts: dict[str, Mart] = {}
    keys: dict[str, tuple[str, ...]] = {}
    not_null: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            meta = node.get("test_metadata") or {}
            kwargs = meta.get("kwargs") or {}
            attached = node.get("attached_node")
            if meta.get("name") == "not_null" and kwargs.get("column_name") and attached:
                not_null.setdefault(attached, set()).add(kwargs["column_name"])
            if meta.get("name") == "unique" and kwargs.get("column_name") and attached:
                keys.setdefault(attached, (kwargs["column_name"],))
            elif meta.get("name") == "unique_combination" and attached:
                keys[attached] = tuple(kwargs.get("combination_of_columns") or ())
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] == "model" and node.get("access") == "public" and node["schema"] == SCHEMA:
            columns = {name: col.get("description", "") for name, col in node.get("columns", {}).items()}
            constrained = {name for name, col in node.get("columns", {}).items()  # the contract's not_null
                           if any(c.get("type") == "not_null" for c in col.get("constraints") or [])}
            marts[node["name"]] = Mart(node["name"], node.get("description", ""), columns, keys.get(unique_id, ()),
                                       frozenset(not_null.get(unique_id, set()) | constrained))
    return marts


def reader_role(reader: str | None = None) -> str:
    return reader or os.environ.get("YARDSTICK_POSTGRES_READER") or "yardstick_reader"


def publish_postgres(warehouse: Path, url: str, *, reader: str | None = None) -> list[str]:
    """Copy every public mart of the published `warehouse` into schema `marts` at `url`; returns the tables."""
    import psycopg
    from psycopg import sql

    role = reader_role(reader)
    marts = public_marts()
    if not warehouse.exists():
        raise PostgresPublishFailed(f"no published warehouse at {warehouse}")
    try:
        with duckdb.connect(str(warehouse), read_only=True) as duck, psycopg.connect(url) as pg:
            present = {name for (name,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]).fetchall()}
            copied = sorted(name for name in marts if name in present)
            with pg.transaction():
                pg.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(INCOMING)))
                pg.execute(sql.SQL("create schema {}").format(sql.Identifier(INCOMING)))
                for name in copied:
                    _copy_table(duck, pg, marts[name])
                _ensure_reader(pg, role)
                pg.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(SCHEMA)))
                pg.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(INCOMING),
                                                                           sql.Identifier(SCHEMA)))
                pg.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(SCHEMA),
                                                                            sql.Identifier(role)))
                pg.execute(sql.SQL("grant select on all tables in schema {} to {}").format(
                    sql.Identifier(SCHEMA), sql.Identifier(role)))
    except psycopg.Error as exc:
        message = " ".join(str(exc).split())[:300]
        raise PostgresPublishFailed(f"PostgreSQL publish failed ({_safe(url)}): {message}") from None
    return copied


def _copy_table(duck: duckdb.DuckDBPyConnection, pg: Any, mart: Mart) -> None:
    from psycopg import sql

    described = duck.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [SCHEMA, mart.name]).fetchall()
    target = sql.Identifier(INCOMING, mart.name)
    definitions, selects = [], []
    for column, duck_type in described:
        pg_type, as_text = _pg_type(duck_type)
        definitions.append(sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(pg_type)))
        selects.append(f'cast("{column}" as varchar)' if as_text else f'"{column}"')
    key = [c for c in mart.primary_key if c in dict(described)]
    if key and len(key) == len(mart.primary_key):
        # the grain as primary key when every part is declared not null; else (dim_people's `unassigned` rows
        # have no dates) a unique constraint
        constraint = "primary key ({})" if set(key) <= mart.not_null else "unique ({})"
        definitions.append(sql.SQL(constraint).format(sql.SQL(", ").join(map(sql.Identifier, key))))
    pg.execute(sql.SQL("create table {} ({})").format(target, sql.SQL(", ").join(definitions)))
    names = sql.SQL(", ").join(sql.Identifier(c) for c, _ in described)
    cursor = duck.execute(f'select {", ".join(selects)} from "{SCHEMA}"."{mart.name}"')
    with pg.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(target, names)) as copy:
        while rows := cursor.fetchmany(BATCH):
            for row in rows:
                copy.write_row(row)
    if mart.description:
        pg.execute(sql.SQL("comment on table {} is {}").format(target, sql.Literal(mart.description.strip())))
    for column, _ in described:
        text = mart.columns.get(column)
        if text:
            pg.execute(sql.SQL("comment on column {}.{} is {}").format(
                target, sql.Identifier(column), sql.Literal(text.strip())))


def _ensure_reader(pg: Any, role: str) -> None:
    """Create the read-only role if it does not exist (NOLOGIN: an administrator gives it a password)."""
    from psycopg import sql

    exists = pg.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone()
    if not exists:
        pg.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    pg.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(sql.Identifier(role)))


def _safe(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
