"""dbt always sees one warehouse path (yardstick/dbt.py stable_path): a link in its target directory, moved only
between invocations, so dbt's partial parsing holds across warehouses and never sees a link move under a build."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import duckdb
import pytest

from yardstick.dbt import dbt, stable_path


@pytest.fixture()
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    return tmp_path / "target"


def test_every_warehouse_reaches_dbt_by_the_same_link(target: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    first, second = tmp_path / "a" / "warehouse.duckdb", tmp_path / "warehouse.duckdb.building"
    with stable_path(first) as link_a:
        assert link_a == target / "warehouse.duckdb" and link_a.resolve() == first
    with stable_path(second) as link_b:
        assert link_b == link_a and link_b.resolve() == second
    with stable_path(tmp_path / "metrics.duckdb") as link_c:  # DuckDB names the database `metrics`: so does dbt
        assert link_c == target / "metrics.duckdb"


def test_a_wal_left_by_a_crashed_build_never_reaches_another_file(target: Path, tmp_path: Path) -> None:
    with stable_path(tmp_path / "warehouse.duckdb.building") as link:
        wal = link.with_name(link.name + ".wal")
    wal.write_bytes(b"the crashed build's log")
    with stable_path(tmp_path / "warehouse.duckdb"):
        assert not wal.exists()


def test_the_link_is_held_for_the_whole_invocation(target: Path, tmp_path: Path) -> None:
    with stable_path(tmp_path / "a.duckdb") as link, (target / "a.duckdb.lock").open("w") as other:
        with pytest.raises(BlockingIOError):  # another invocation would wait here
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert link.resolve() == tmp_path / "a.duckdb"
    with (target / "a.duckdb.lock").open("w") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released afterwards


def test_dbt_writes_into_the_file_itself(target: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"  # the link is target/w.duckdb: dbt's database and DuckDB's are both `w`
    dbt(["seed", "--select", "teams"], warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:  # by its own path, not the link
        assert con.execute("select count(*) from seeds.teams").fetchone()[0] > 0
    assert not (target / "w.duckdb.wal").exists()


def test_runs_that_take_turns_with_different_vars_each_parse_only_once(target: Path, tmp_path: Path) -> None:
    """dbt keeps one parse state and parses everything again when the vars change; yardstick keeps one per set
    of vars (parse_state_for), so coming back to earlier vars parses nothing again."""
    warehouse = tmp_path / "w.duckdb"

    def full_parses(vars: dict[str, object]) -> int:
        events: list[str] = []
        dbt(["parse"], warehouse, vars=vars, callbacks=[lambda event: events.append(event.info.name)])
        return events.count("UnableToPartialParse") + events.count("PartialParsingNotEnabled")

    a, b = {"as_of_date": "2026-03-01"}, {"as_of_date": "2026-03-02"}
    full_parses(a)
    assert full_parses(b) >= 1  # dbt's own state was a's: new vars, a whole parse
    assert full_parses(a) == 0  # a's state comes back
    assert full_parses(b) == 0
    assert len(list((target / "parse-states").glob("*.msgpack"))) == 2


def test_a_state_made_for_another_copy_of_the_project_is_never_used(target: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt checks a parse state's files by their paths inside the project, but the state holds absolute paths
    (a seed's CSV): a copy of the project elsewhere, with the same vars and target, gets a state of its own."""
    from yardstick import dbt as dbt_module

    warehouse, project = tmp_path / "w.duckdb", dbt_module.PROJECT_DIR
    for name in ("first", "second"):
        copy = tmp_path / name
        for part in ("models", "macros", "seeds", "tests"):
            shutil.copytree(project / part, copy / part, ignore=shutil.ignore_patterns("python"))
        for part in ("dbt_project.yml", "profiles.yml"):
            shutil.copy(project / part, copy / part)
        monkeypatch.setattr(dbt_module, "PROJECT_DIR", copy)
        dbt(["seed", "--select", "teams"], warehouse)  # the second loads its own CSV, not the removed first's
        shutil.rmtree(copy)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from seeds.teams").fetchone()[0] > 0
