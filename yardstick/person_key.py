"""The secret person key: marts carry HMAC-SHA256(key, login) as a person's key, never the login.

The key comes from `YARDSTICK_PERSON_KEY`, or `person_key` under `[yardstick]` in `.dlt/secrets.toml` (read by
dlt.secrets, like every other secret). When neither is set, the first run generates one, stores it in
`.dlt/secrets.toml` of the working directory (git-ignored, readable by its owner only) and says so in one line.

The key never reaches SQL text (dbt writes compiled SQL to target/ and logs): it enters a DuckDB session as two
variables, the RFC 2104 inner and outer padded keys, set by the dbt-duckdb plugin `yardstick.dbt_plugin` on
every connection and cursor, and a PostgreSQL session as two custom settings passed in PGOPTIONS. The macro
`person_key` computes sha256(opad || sha256(ipad || login)) from them: the same HMAC in both databases.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from pathlib import Path

ENV = "YARDSTICK_PERSON_KEY"
SECRET = "yardstick.person_key"
SECRETS_FILE = Path(".dlt") / "secrets.toml"
IPAD_VARIABLE, OPAD_VARIABLE = "yardstick_person_key_ipad", "yardstick_person_key_opad"
BLOCK = 64  # SHA-256 block size in bytes


def configured() -> str | None:
    """The key from the environment or dlt secrets (an empty value means not set), or None."""
    value = os.environ.get(ENV, "").strip()
    if value:
        return value
    import dlt

    found = str(dlt.secrets.get(SECRET) or "").strip()
    return found or _in_file(SECRETS_FILE)


def _in_file(path: Path) -> str | None:
    """`[yardstick] person_key` of a secrets file read directly (dlt's providers may have been set up for another
    working directory earlier in this process)."""
    import tomlkit

    if not path.exists():
        return None
    value = str(tomlkit.parse(path.read_text()).get("yardstick", {}).get("person_key") or "").strip()
    return value or None


def resolve() -> str:
    """The configured key, or a new one stored in ./.dlt/secrets.toml with a one-line notice on stderr."""
    key = configured()
    if key is not None:
        return key
    key = secrets.token_hex(32)
    store(key, SECRETS_FILE)
    print(f"yardstick: generated a new person key in {SECRETS_FILE.resolve()} ([yardstick] person_key); "
          "keep that file private and backed up: a different key changes every person key", file=sys.stderr)
    return key


def store(key: str, path: Path) -> None:
    """Add `[yardstick] person_key` to a TOML secrets file (made owner-readable only), keeping its contents."""
    import tomlkit

    path.parent.mkdir(parents=True, exist_ok=True)
    document = tomlkit.parse(path.read_text()) if path.exists() else tomlkit.document()
    section = document.get("yardstick")
    if section is None:
        section = tomlkit.table()
        document["yardstick"] = section
    if str(section.get("person_key") or "").strip():
        raise ValueError(f"{path} already has a person key; not replacing it")
    section["person_key"] = key
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing secrets file too: it now holds the person key
    with os.fdopen(descriptor, "w") as handle:
        handle.write(tomlkit.dumps(document))


def pads(key: str) -> tuple[bytes, bytes]:
    """RFC 2104: the key (hashed first when longer than a block) zero-padded to a block, XOR ipad and opad."""
    raw = key.encode()
    if len(raw) > BLOCK:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in raw), bytes(b ^ 0x5C for b in raw)


def person_key(login: str, key: str) -> str:
    """What the `person_key` macro computes, in Python: lower-case hex HMAC-SHA256 of the login."""
    return hmac.new(key.encode(), login.encode(), hashlib.sha256).hexdigest()


def postgres_options(key: str) -> str:
    """PGOPTIONS setting the padded keys as custom settings of every PostgreSQL session dbt opens."""
    inner, outer = pads(key)
    return f"-c yardstick.person_key_ipad={inner.hex()} -c yardstick.person_key_opad={outer.hex()}"


def set_variables(connection: object, key: str) -> None:
    """Set the padded keys as DuckDB session variables of a connection or cursor (parameters, not SQL text)."""
    inner, outer = pads(key)
    connection.execute(f"set variable {IPAD_VARIABLE} = ?", [inner])  # type: ignore[attr-defined]
    connection.execute(f"set variable {OPAD_VARIABLE} = ?", [outer])  # type: ignore[attr-defined]
