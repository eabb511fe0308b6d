"""Readers see only what they should: no login, name or e-mail of the raw data is in any text column of the
published file or of the PostgreSQL copy of the demo organisation (the demo the suite shares, conftest.py), unless
`expose_individuals` is set; the person key is in no compiled SQL, log or file."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pytest
from conftest import DEMO, TEST_PERSON_KEY
from dbt_unit_tests import data_tests_off
from postgres_server import Postgres

from ingestion.demo.events import generate_events
from ingestion.demo.generator import generate_org
from yardstick.dbt import PROJECT_DIR
from yardstick.demo import demo_vars
from yardstick.person_key import pads
from yardstick.postgres import publish_postgres
from yardstick.publish import private_path
from yardstick.refresh import Progress, refresh

TODAY = DEMO["today"]


@dataclass
class Demo:
    warehouse: Path
    story: object


@pytest.fixture(scope="module")
def demo(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The suite's shared demo (conftest.py: 2 teams, 8 weeks, seed 3, as of 2026-12-02) and its story."""
    org = generate_org(teams=DEMO["teams"], weeks=DEMO["weeks"], seed=DEMO["seed"], end=TODAY)
    story = generate_events(org, tmp_path_factory.mktemp("story") / "events", seed=DEMO["seed"])
    return Demo(demo_warehouse, story)


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


# every person-identifying string the raw layer holds: logins, usernames, account ids, names, e-mails
IDENTIFYING = {
    "raw_github.pull_requests": ["user_login", "merged_by_login"],
    "raw_github.pull_request_reviews": ["user_login"],
    "raw_github.pull_request_commits": ["author_login", "author_name", "author_email", "committer_email"],
    "raw_github.commits": ["author_login", "author_name", "author_email", "committer_email"],
    "raw_github.issues": ["user_login", "assignee_login"],
    "raw_jira.issues": ["assignee_account_id", "assignee_email", "assignee_name", "reporter_account_id"],
    "raw_gitlab.merge_requests": ["author_username", "merged_by_username"],
    "raw_gitlab.merge_request_notes": ["author_username"],
    "raw_gitlab.commits": ["author_name", "author_email", "committer_email"],
    "raw_git.commits": ["author_name", "author_email", "committer_name", "committer_email"],
}


def identifying_values(warehouse: Path) -> set[str]:
    """Every login, account id, name and e-mail in the raw data (in the private file)."""
    found: set[str] = set()
    for table, columns in IDENTIFYING.items():
        for column in columns:
            found |= {value for (value,) in query(private_path(warehouse), f"select distinct {column} from {table}")
                      if value}
    return found


def duckdb_hits(warehouse: Path, identifying: set[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) of every identifying value in any text column of any table of the file: the value
    itself, or quoted inside a longer text (JSON, a list); DuckDB does the matching."""
    people = "|".join(re.escape(person) for person in sorted(identifying))
    quoted = f"\"({people})\"|'({people})'"
    hits = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table, column in con.execute("""
                select table_schema, table_name, column_name from information_schema.columns
                where data_type in ('VARCHAR', 'JSON') or data_type like '%[]' or data_type like 'STRUCT%'""").fetchall():
            hits += [(f"{schema}.{table}", column, value) for (value,) in con.execute(f"""
                select distinct value from (select cast("{column}" as varchar) as value from "{schema}"."{table}")
                where list_contains($people, value) or regexp_matches(value, $quoted)""",
                {"people": sorted(identifying), "quoted": quoted}).fetchall()]
    return hits


def postgres_hits(url: str, identifying: set[str]) -> list[tuple[str, str, str]]:
    """The same scan over every text column of every user schema of the PostgreSQL copy."""
    hits = []
    with psycopg.connect(url) as con:
        columns = con.execute("""
            select table_schema, table_name, column_name from information_schema.columns
            where table_schema not in ('pg_catalog', 'information_schema')
                and data_type in ('text', 'character varying', 'json', 'jsonb')""").fetchall()
        assert columns
        for schema, table, column in columns:
            values = {value for (value,) in con.execute(
                f'select distinct cast("{column}" as text) from "{schema}"."{table}"').fetchall() if value}
            hits += [(f"{schema}.{table}", column, value) for value in values if value in identifying]
    return hits


def test_readers_see_no_login_name_or_email_unless_a_team_opts_in(
    demo: Demo, postgres: Postgres, tmp_path: Path,
) -> None:
    identifying = identifying_values(demo.warehouse)
    assert len(identifying) > 20  # the demo has people in every tool, so the scans below mean something
    schemas = {s for (s,) in query(demo.warehouse, "select distinct table_schema from information_schema.tables")}
    assert schemas == {"marts", "seeds"}  # a demo has no ops schema: no nightly ran
    assert duckdb_hits(demo.warehouse, identifying) == []
    assert duckdb_hits(private_path(demo.warehouse), identifying)  # the private file has them all
    publish_postgres(demo.warehouse, postgres.url())
    assert postgres_hits(postgres.url(), identifying) == []

    # a team that opts in (`expose_individuals: true`) sees them: the same scans find them, so they can
    exposed = tmp_path / "warehouse.duckdb"
    shutil.copyfile(private_path(demo.warehouse), private_path(exposed))
    with data_tests_off():  # the scans are the check here; the shared demo's build ran the data tests
        refresh(exposed, ingest=False, progress=Progress(quiet=True),
                vars={**demo_vars(demo.story, TODAY), "expose_individuals": True})
    assert {hit[0] for hit in duckdb_hits(exposed, identifying)} >= {"marts.fct_changes", "marts.dim_people"}
    publish_postgres(exposed, postgres.url())
    assert {hit[0] for hit in postgres_hits(postgres.url(), identifying)} >= {"marts.fct_changes"}


def test_the_person_key_is_in_no_compiled_sql_log_or_file(demo: Demo) -> None:
    secrets = [TEST_PERSON_KEY.encode(), *(pad.hex().encode() for pad in pads(TEST_PERSON_KEY))]
    # dbt's target and log directories of every worker (the shared demo may have been built by another one)
    folders = [PROJECT_DIR / "target", PROJECT_DIR / "logs", demo.warehouse.parent]
    files = [path for folder in folders for path in folder.rglob("*") if path.is_file()]
    assert any(path.name == "fct_changes.sql" for path in files)  # dbt's compiled SQL is among them
    assert [path for path in files if _holds_any(_bytes(path), secrets)] == []


def _holds_any(content: bytes, secrets: list[bytes]) -> bool:
    return any(secret in content for secret in secrets)


def _bytes(path: Path) -> bytes:
    """A file's bytes, or none if it is gone: the other workers' dbt runs go on while the folders are read, and
    one replaces its `partial_parse.msgpack` (a fresh clone's `make test` once listed it, then found it removed)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
