"""Person keys are HMAC-SHA256 under a secret key: the same as Python's hmac, from a key that comes from the
environment or .dlt/secrets.toml, or is generated once with a one-line notice; the key itself is in no table."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import duckdb
import pytest
from conftest import TEST_PERSON_KEY

from yardstick import person_key
from yardstick.publish import private_path


@pytest.mark.parametrize("key", ["short", "k" * 64, "a key longer than one SHA-256 block " * 3, "clé-ünïcode"])
def test_the_sql_spelling_is_rfc_2104_hmac(key: str) -> None:
    """The DuckDB expression of macro duckdb__hmac_person_key, on the variables the dbt plugin sets."""
    with duckdb.connect() as con:
        person_key.set_variables(con, key)
        for login in ["ana", "Zoë Example", "zoe@example.com", ""]:
            got = con.execute("""
                select sha256(getvariable('yardstick_person_key_opad')
                              || unhex(sha256(getvariable('yardstick_person_key_ipad') || encode(?))))""",
                              [login]).fetchone()[0]
            assert got == hmac.new(key.encode(), login.encode(), hashlib.sha256).hexdigest()
            assert got == person_key.person_key(login, key)


def test_marts_carry_the_hmac_of_the_login(scenario_warehouse: Path) -> None:
    with duckdb.connect(str(private_path(scenario_warehouse)), read_only=True) as con:
        pairs = con.execute("""
            select distinct pull_requests.author_login, changes.author_key
            from marts.fct_changes as changes
            inner join intermediate.int_pull_requests as pull_requests using (pull_request_key)""").fetchall()
    assert len(pairs) >= 3
    assert all(key == person_key.person_key(login, TEST_PERSON_KEY) for login, key in pairs)
    # and no table of either file holds the key or its padded forms
    secrets = [TEST_PERSON_KEY, *(pad.hex() for pad in person_key.pads(TEST_PERSON_KEY))]
    for path in (scenario_warehouse, private_path(scenario_warehouse)):
        assert not any(secret.encode() in path.read_bytes() for secret in secrets), path


def test_a_key_is_generated_once_with_a_notice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(person_key.ENV, "")  # empty means not set
    secrets_file = tmp_path / ".dlt" / "secrets.toml"
    secrets_file.parent.mkdir()
    secrets_file.write_text('[sources.github]\naccess_token = "keep-me"\n')
    key = person_key.resolve()
    err = capsys.readouterr().err
    assert len(key) == 64 and key not in err
    assert err.count("\n") == 1 and "generated a new person key in" in err
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    text = secrets_file.read_text()
    assert 'access_token = "keep-me"' in text and f'person_key = "{key}"' in text
    # the next run reads it (dlt.secrets) and generates nothing
    assert person_key.configured() == key
    assert person_key.resolve() == key and capsys.readouterr().err == ""


def test_the_environment_wins_over_the_secrets_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    person_key.store("from-the-file", tmp_path / ".dlt" / "secrets.toml")
    monkeypatch.setenv(person_key.ENV, "from-the-environment")
    assert person_key.resolve() == "from-the-environment"
    monkeypatch.setenv(person_key.ENV, "  ")
    assert person_key.resolve() == "from-the-file"
