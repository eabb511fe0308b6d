"""The API cost of some sources alone, counted as `bench/run` counts it (a `bench.serve` child process over the
generated files, its per-endpoint request and GraphQL point counts), without the builds: a first full sync
(the organisation as of the evening before the last day), then the one-day nightly into the same warehouse.

    python -m bench.count DATA WORK SOURCE...    e.g. `python -m bench.count bench/data/0.1 /tmp/w github_actions`

Writes WORK/counts.json: per sync, the wall seconds, the rows loaded and the server's counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.run import PROJECT_DIR, Server, _python, source_env


def count(data: Path, work: Path, sources: list[str]) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((data / "manifest.json").read_text())
    base = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "RUNTIME__DLTHUB_TELEMETRY": "false", "DO_NOT_TRACK": "1"}
    base.pop("YARDSTICK_WAREHOUSE", None)
    warehouse = work / "count.duckdb"
    code = ("import json, sys; from ingestion.pipeline import ingest_source; "
            "print(json.dumps({s: ingest_source(s, sys.argv[1]) for s in sys.argv[2:]}))")
    out: dict[str, Any] = {}
    for sync, before_cutoff in (("full", True), ("nightly", False)):
        server = Server(data, work, base, before_cutoff=before_cutoff, name=f"server-{sync}")
        began = time.perf_counter()
        done = subprocess.run([_python(), "-c", code, str(warehouse), *sources], cwd=PROJECT_DIR, text=True,
                              env=source_env(base, server.urls, manifest, []), capture_output=True, check=False)
        seconds = time.perf_counter() - began
        counts, _rss, server_cpu = server.stop()
        if done.returncode:
            raise SystemExit(f"{sync} sync failed:\n{done.stderr[-3000:]}")
        out[sync] = {"seconds": round(seconds, 1), "rows": json.loads(done.stdout.splitlines()[-1]),
                     "server_cpu_seconds": round(server_cpu, 1), "counts": counts}
    (work / "counts.json").write_text(json.dumps(out, indent=1))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(count(Path(args[0]), Path(args[1]), args[2:]), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
