"""`bench/run --scale S`: measure Yardstick on a generated large organisation, in one run, and write
`bench/results/<date>-<scale>.md` (and `.json`).

Steps, each its own process (peak RSS read per process with `os.wait4`):
 1. full sync: a file-backed replay server (`bench.serve`, the replay server's handler code) serves the
    organisation as it was the evening before the last day; the real dlt sources ingest it; the server counts
    the requests;
 2. DuckDB-native: `read_json_objects` of the same payload files into the same raw tables (same columns);
 3. build: `dbt build` on the ingested warehouse; then the same models' compiled SQL, data and unit tests run
    directly in DuckDB on a copy, in dbt's order;
 4. nightly: the server now also serves the last day; the sources sync incrementally (cursors restored from
    the warehouse) into a copy of the built warehouse, and `dbt build` runs again.

`--raw native` (a scale whose sync does not fit in a step's 30 minutes) loads the raw tables with DuckDB's reader
instead; `--sources-part F` then also measures steps 1, 2 and the nightly sync, as above, on a part of the
organisation (its first round(F × teams) teams, bench/part.py), and the results say which figures are the part's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.part import cost_rows, make_part, part_figures, part_note, part_teams, projection_rows, where
from bench.serve import POINTS, SHAPE

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = PROJECT_DIR / "bench" / "results"
GITHUB_LIMIT_PER_HOUR = 5000
TARGETS = {  # name: (limit, how it compares)
    "ingest_ratio": 2.0, "build_ratio": 1.3, "incremental_share": 0.05, "full_minutes": 10.0, "peak_gib": 4.0,
}


class LoadSampler(threading.Thread):
    """The 1-minute load average every few seconds while the benchmark runs."""

    def __init__(self, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.every, self.samples, self._stop = every, [os.getloadavg()[0]], threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self.samples.append(os.getloadavg()[0])
        return {"min": min(self.samples), "mean": sum(self.samples) / len(self.samples), "max": max(self.samples)}


def _python() -> str:
    return sys.executable


def run_step(args: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run one step as a child process; wall seconds and its own peak RSS (MiB)."""
    began = time.perf_counter()
    with open(log, "ab") as out:
        child = subprocess.Popen([_python(), "-m", *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                 cwd=PROJECT_DIR)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    if child.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"bench step {' '.join(args[:2])} failed (exit {child.returncode}); log {log}:\n{tail}")
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}


class Server:
    """`bench.serve` as a child process; `stop()` returns its request counts and peak RSS."""

    def __init__(self, data: Path, work: Path, env: dict[str, str], *, before_cutoff: bool, name: str) -> None:
        self.url_file, self.requests_file = work / f"{name}.url.json", work / f"{name}.requests.json"
        args = [_python(), "-m", "bench.serve", str(data), "--url-file", str(self.url_file),
                "--requests-file", str(self.requests_file)] + (["--before-cutoff"] if before_cutoff else [])
        self.log = open(work / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.child = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=PROJECT_DIR)
        deadline = time.monotonic() + 600
        while not self.url_file.exists():
            if self.child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"replay server did not start; see {work / f'{name}.log'}")
            time.sleep(0.1)
        time.sleep(0.1)
        self.urls = json.loads(self.url_file.read_text())

    def stop(self) -> tuple[dict[str, int], float, float]:
        self.child.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(self.child.pid, 0)
        self.log.close()
        return json.loads(self.requests_file.read_text()), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def source_env(base: dict[str, str], urls: dict[str, str], manifest: dict[str, Any], event_files: list[str]) -> dict:
    from ingestion.demo.jira_api import source_settings as jira_settings

    start = manifest["start"][:10]
    return {
        **base,
        "SOURCES__GITHUB__BASE_URL": urls["github"], "SOURCES__GITHUB__ACCESS_TOKEN": urls["github_token"],
        "SOURCES__GITHUB__REPOSITORIES": json.dumps(manifest["repositories"]),
        "SOURCES__GITHUB__START_DATE": start,
        "SOURCES__GITHUB__API": os.environ.get("BENCH_GITHUB_API", "graphql"),  # `rest` for the older path
        "SOURCES__PAGERDUTY__BASE_URL": urls["pagerduty"], "SOURCES__PAGERDUTY__API_TOKEN": urls["pagerduty_token"],
        "SOURCES__PAGERDUTY__START_DATE": start,
        **jira_settings(urls["url"] + "/jira", manifest["jira_projects"], start),
        "SOURCES__EVENTS__PATHS": json.dumps(event_files),
    }


def machine() -> dict[str, Any]:
    import dbt.version
    import dlt
    import duckdb

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    try:
        import dbt.adapters.duckdb.__version__ as dd

        dbt_duckdb = dd.version
    except ImportError:
        dbt_duckdb = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(mem_kib / 2**20, 1),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "duckdb": duckdb.__version__, "dlt": dlt.__version__, "dbt_core": dbt.version.__version__,
            "dbt_duckdb": dbt_duckdb}


def base_env(work: Path) -> dict[str, str]:
    """The steps' environment: dbt's target and logs in the work directory, no telemetry."""
    base = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"), "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
            "DBT_WRITE_JSON": "true"}  # the steps read run_results.json and manifest.json
    base.pop("YARDSTICK_WAREHOUSE", None)
    return base


def event_files(data: Path, manifest: dict[str, Any], phase: str) -> list[str]:
    """The page-event files a sync reads: the full sync every day's but the last, the nightly all of them (the
    events source loads by file and offset, so only the new day is read)."""
    files = sorted(str(p) for p in (data / "events").glob("*.ndjson"))
    last = f"events-{manifest['cutoff'][:10]}.ndjson"
    return files if phase == "nightly" else [f for f in files if not f.endswith(last)]


def sync(data: Path, work: Path, base: dict[str, str], warehouse: Path, phase: str) -> tuple[dict[str, Any],
                                                                                              dict[str, int]]:
    """A sync through the real dlt sources (`bench.steps ingest`, its own process) against `bench.serve` over
    `data`, the server's CPU and peak RSS beside it, and its request counts. `phase` "full": the organisation as of
    the evening before the last day; "nightly": the last day too, into the same warehouse (cursors restored
    from it). One piece of code for a `--raw sources` run and for a `--sources-part` part."""
    manifest = json.loads((data / "manifest.json").read_text())
    server = Server(data, work, base, before_cutoff=phase == "full", name=f"server-{phase}")
    try:
        step = run_step(["bench.steps", "ingest", str(warehouse), str(work / f"ingest_{phase}.json")],
                        source_env(base, server.urls, manifest, event_files(data, manifest, phase)),
                        work / "steps.log")
    finally:  # a failed sync does not leave its server running
        requests, server_rss, server_cpu = server.stop()
    step.update(json.loads((work / f"ingest_{phase}.json").read_text()), server_peak_rss_mib=server_rss,
                server_cpu_seconds=server_cpu)
    return step, requests


def native_step(data: Path, warehouse: Path, work: Path, base: dict[str, str]) -> dict[str, Any]:
    """DuckDB's own JSON reader on the payload files (`bench.steps native`): the ingest ratios' other side."""
    step = run_step(["bench.steps", "native", str(data), str(warehouse), str(work / "native.json")], base,
                    work / "steps.log")
    step.update(json.loads((work / "native.json").read_text()))
    return step


def measure_part(data: Path, work: Path, fraction: float, base: dict[str, str], name: str = "part") -> dict[str, Any]:
    """`--sources-part`: write the part (bench/part.py, untimed) and measure on it what a `--raw sources` run
    measures for ingest: the first full sync through the sources, DuckDB's reader, then the one-day nightly sync
    (in `work`/`name`)."""
    work = work / name
    work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    manifest = make_part(data, work / "data", fraction)
    made = time.perf_counter() - began
    steps: dict[str, Any] = {}
    # the server holds the whole part read (bench/serve.py), as it does a 0.1 organisation: ~85 MiB a repository
    base = {**base, "BENCH_SERVE_CACHE_REPOS": str(max(len(manifest["repositories"]), 64))}
    steps["ingest_full"], full = sync(work / "data", work, base, work / "full.duckdb", "full")
    steps["native"] = native_step(work / "data", work / "native.duckdb", work, base)
    steps["ingest_nightly"], nightly = sync(work / "data", work, base, work / "full.duckdb", "nightly")
    return {"manifest": manifest, "make_seconds": made, "steps": steps, "requests": {"full": full, "nightly": nightly}}


def measure(data: Path, work: Path, raw: str = "sources", api_count: list[str] | None = None,
            sources_part: list[float] | None = None) -> dict[str, Any]:
    manifest = json.loads((data / "manifest.json").read_text())
    if sources_part and len({part_teams(manifest["teams"], f) for f in sources_part}) < len(sources_part):
        raise SystemExit(f"--sources-part {sources_part}: two fractions give the same teams")  # before any step
    log = work / "steps.log"
    base = base_env(work)
    full_wh, native_wh, raw_wh = (work / f"{n}.duckdb" for n in ("full", "native", "rawsql"))
    # the nightly goes on in the built warehouse itself, at the same path, as production's work copy does: dbt's
    # partial parse then holds (a changed warehouse path is a changed profile, which makes dbt parse everything)
    inc_wh = full_wh
    steps: dict[str, Any] = {}

    if raw == "native":  # the dlt sources would take hours: DuckDB loads the raw tables (results say so)
        steps["ingest_full"] = run_step(["bench.steps", "native-raw", str(data), str(full_wh), "full",
                                         str(work / "ingest_full.json")], base, log)
        steps["ingest_full"].update(json.loads((work / "ingest_full.json").read_text()))
        steps["native"] = dict(steps["ingest_full"])
        full_requests: dict[str, int] = {}
    else:
        # 1. first full sync through the real sources; 2. DuckDB's own JSON reader on the same files
        steps["ingest_full"], full_requests = sync(data, work, base, full_wh, "full")
        steps["native"] = native_step(data, native_wh, work, base)

    # 3. dbt build vs the compiled SQL run directly
    steps["build_full"] = run_step(["bench.steps", "build", str(full_wh), str(work / "build_full.json")], base, log)
    steps["build_full"].update(json.loads((work / "build_full.json").read_text()))
    shutil.copyfile(full_wh, raw_wh)
    warehouse_mib = full_wh.stat().st_size / 2**20
    steps["rawsql"] = run_step(["bench.steps", "rawsql", str(raw_wh), str(work / "rawsql.json")], base, log)
    steps["rawsql"].update(json.loads((work / "rawsql.json").read_text()))

    # 4. the nightly: one new day, incremental ingest, build
    if raw == "native":
        steps["ingest_nightly"] = run_step(["bench.steps", "native-raw", str(data), str(inc_wh), "day",
                                            str(work / "ingest_nightly.json")], base, log)
        steps["ingest_nightly"].update(json.loads((work / "ingest_nightly.json").read_text()))
        nightly_requests: dict[str, int] = {}
    else:
        steps["ingest_nightly"], nightly_requests = sync(data, work, base, inc_wh, "nightly")
    steps["build_nightly"] = run_step(["bench.steps", "build-nightly", str(inc_wh), str(work / "build_nightly.json")],
                                      base, log)
    steps["build_nightly"].update(json.loads((work / "build_nightly.json").read_text()))
    requests = {"full": full_requests, "nightly": nightly_requests}
    counted = None
    if api_count and raw == "native":  # the API cost of these sources alone, through the replay server
        from bench.count import count

        counted = count(data, work / "count", api_count)
        requests = {phase: counted[phase]["counts"] for phase in ("full", "nightly")}
    part, smaller = None, []
    if sources_part and raw == "native":  # the ingest ratios and API cost on the part that fits (results say so)
        # a smaller part first (`F1,F2`): its nightly sync and the larger part's tell the sync's fixed cost apart
        smaller = [measure_part(data, work, fraction, base, f"part-{fraction:g}") for fraction in sources_part[:-1]]
        part = measure_part(data, work, sources_part[-1], base)
        requests = part["requests"]
    return {"manifest": manifest, "steps": steps, "requests": requests,
            "github_api": os.environ.get("BENCH_GITHUB_API", "graphql"), "raw": raw,
            "warehouse_mib": warehouse_mib, "part": part, "smaller_parts": smaller,
            "api_count": None if counted is None else {
                "sources": api_count, **{phase: {k: v for k, v in counted[phase].items() if k != "counts"}
                                         for phase in ("full", "nightly")}}}


def figures(m: dict[str, Any]) -> dict[str, Any]:
    s = m["steps"]
    ingest = m["part"]["steps"] if m.get("part") else s  # `--sources-part`: the ingest ratios are the part's
    ingest_rate = ingest["ingest_full"]["rows"] / ingest["ingest_full"]["seconds"]
    native_rate = ingest["native"]["rows"] / ingest["native"]["seconds"]
    full = s["ingest_full"]["seconds"] + s["build_full"]["seconds"]
    nightly = s["ingest_nightly"]["seconds"] + s["build_nightly"]["seconds"]

    def tool(requests: dict[str, int], prefix: str) -> int:
        return sum(v for k, v in requests.items() if k.startswith(prefix + " "))

    # Yardstick's own steps: not the replay server (in production it is GitHub; reported beside the sync) nor the
    # two baselines (DuckDB's reader, the compiled SQL run without dbt's memory limit)
    peak = max(step["peak_rss_mib"] for name, step in s.items() if name not in ("native", "rawsql"))
    out = {
        "ingest_rate": ingest_rate, "native_rate": native_rate, "ingest_ratio": native_rate / ingest_rate,
        "ingest_cpu_ratio": (ingest["ingest_full"]["cpu_seconds"] / ingest["ingest_full"]["rows"])
        / (ingest["native"]["cpu_seconds"] / ingest["native"]["rows"]),
        "build_ratio": s["build_full"]["seconds"] / s["rawsql"]["seconds"],
        "incremental_share": nightly / full, "full_seconds": full, "nightly_seconds": nightly,
        "full_minutes": full / 60, "peak_gib": peak / 1024,
        "requests": {phase: {t: tool(m["requests"][phase], t) for t in ("github", "pagerduty", "jira")}
                     for phase in ("full", "nightly")},
        # GitHub's budget: REST requests plus GraphQL points (the GraphQL POSTs themselves cost their points)
        "github_cost": {phase: _github_cost(m["requests"][phase]) for phase in ("full", "nightly")},
    }
    if m.get("part"):  # the part's size, the whole's API cost estimated from it, the projected nightly ÷ full
        out["part"] = part_figures(m["part"], s, out["github_cost"], out["requests"], m.get("smaller_parts") or ())
    return out


def _github_cost(requests: dict[str, int]) -> dict[str, int]:
    queries = requests.get("github /graphql", 0)
    rest = sum(v for k, v in requests.items() if k.startswith("github ")) - queries
    points = requests.get(POINTS, 0)
    return {"rest": rest, "queries": queries, "points": points, "total": rest + points}


def _shape_rows(requests: dict[str, dict[str, int]]) -> list[str]:
    shapes = sorted({k[len(SHAPE):].rsplit(" ", 1)[0] for phase in requests.values() for k in phase
                     if k.startswith(SHAPE)})

    def get(phase: str, shape: str, what: str) -> int:
        return requests[phase].get(f"{SHAPE}{shape} {what}", 0)
    return [f"| `{shape}` | {get('full', shape, 'queries'):,} | {get('full', shape, 'points'):,} | "
            f"{get('nightly', shape, 'queries'):,} | {get('nightly', shape, 'points'):,} |" for shape in shapes]


def _api_count_note(counted: dict[str, Any] | None) -> str:
    if counted is None:
        return "There is no API cost: no source synced."
    sources = ", ".join(f"`{name}`" for name in counted["sources"])
    rows = sum(n for tables in counted["full"]["rows"].values() for table, n in tables.items()
               if not table.endswith("_rejected"))
    return (f"The API cost below is that of {sources} alone (`--api-count`), synced in full through the replay server "
            f"into a scratch warehouse (`bench.count`: {counted['full']['seconds']:,.0f} s, replay server "
            f"{counted['full']['server_cpu_seconds']:,.0f} s of CPU), then its one-day nightly "
            f"({counted['nightly']['seconds']:,.0f} s); the full sync loaded {rows:,} rows. The other sources' "
            "columns are 0.")


NATIVE_LABELS = {"ingest_full": "first full load (DuckDB `native-raw`, whole organisation)",
                 "ingest_nightly": "nightly load of the one new day (DuckDB `native-raw`)"}


def _native_note(m: dict[str, Any], f: dict[str, Any]) -> str:
    """What a `--raw native` run measured, and on what: the whole organisation, or for ingest its part."""
    text = ("**Raw tables loaded by DuckDB's own reader** (`--raw native`): the dlt sources' first sync of this "
            "scale does not fit in 30 minutes on this machine (it grows linearly: see the scale 0.1 results for the "
            "sources' records/s). Ingest here is `bench.steps native-raw` for the full load and for the new day; "
            "the build, nightly build, raw-SQL and RSS figures are Yardstick's own, on the whole organisation. ")
    if f.get("part"):
        return text + part_note(f["part"], m["part"])
    return text + "The ingest ratios below are 1× by construction. " + _api_count_note(m.get("api_count"))


def _step_row(label: str, step: dict[str, Any]) -> str:
    """One row of the steps table: the whole organisation's steps and a part's are rendered alike."""
    rows = step.get("rows")
    note = ""
    if "server_peak_rss_mib" in step:
        note = (f"replay server (not Yardstick): peak RSS {step['server_peak_rss_mib']:.0f} MiB, "
                f"CPU {step['server_cpu_seconds']:.0f} s")
    if "models" in step:
        note = f"{step['models']} models + {step['tests']} data tests + {step.get('unit_tests', 0)} unit tests"
    if step.get("note"):
        note = "failures on synthetic data: " + step["note"].replace("|", "/")[:300]
    count = "" if rows is None else f"{rows:,}"
    rate = "" if rows is None else f"{rows / step['seconds']:,.0f}"
    return (f"| {label} | {step['seconds']:.1f} | {step['cpu_seconds']:.1f} | {count} | {rate} | "
            f"{step['peak_rss_mib']:.0f} | {note} |")


def _reached(name: str, value: float) -> str:
    return "yes" if value <= TARGETS[name] else "no"


def render(scale: float, m: dict[str, Any], f: dict[str, Any], facts: dict[str, Any], load: dict[str, float],
           command: str, generate_seconds: float | None) -> str:
    s, man, part = m["steps"], m["manifest"], f.get("part")
    on_part = f" — **{where(part)}**" if part else ""
    lines = [
        f"# Yardstick benchmark — scale {scale} ({man['engineers']:,} engineers, one year)",
        "",
        f"Produced by `{command}` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        ("**Figures are under load**: the machine was shared with other busy jobs during the run (load average "
        f"1-min min {load['min']:.2f} / mean {load['mean']:.2f} / max {load['max']:.2f} on {facts['cores']} cores)."),
        "",
        *([_native_note(m, f), ""] if m.get("raw") == "native" else []),
        "## Machine",
        "",
        "| fact | value |", "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts.items()),
        (f"| load average during the run (1 min: min / mean / max) | {load['min']:.2f} / {load['mean']:.2f} / "
        f"{load['max']:.2f} |"),
        "",
        "## Ratios vs the targets",
        "",
        "| ratio | measured | target | reached |", "|---|---|---|---|",
        (f"| ingest: DuckDB-native records/s ÷ dlt-sources records/s{on_part} | {f['ingest_ratio']:.1f}× | ≤ 2× | "
        f"{_reached('ingest_ratio', f['ingest_ratio'])} |"),
        (f"| ingest, CPU only: dlt-sources CPU s per record ÷ DuckDB-native CPU s per record (server excluded)"
         f"{on_part} | {f['ingest_cpu_ratio']:.1f}× | ≤ 2× | {_reached('ingest_ratio', f['ingest_cpu_ratio'])} |"),
        (f"| build: `dbt build` ÷ compiled SQL run directly | {f['build_ratio']:.2f}× | ≤ 1.3× | "
        f"{_reached('build_ratio', f['build_ratio'])} |"),
        (f"| nightly incremental (ingest + build) ÷ full (ingest + build) | {100 * f['incremental_share']:.1f} % | "
        f"≤ 5 % | {_reached('incremental_share', f['incremental_share'])} |"),
        (f"| full ingest + build wall time | {f['full_minutes']:.1f} min | < 10 min (at scale 1.0) | "
        f"{_reached('full_minutes', f['full_minutes'])} |"),
        f"| peak RSS of any step | {f['peak_gib']:.2f} GiB | < 4 GiB | {_reached('peak_gib', f['peak_gib'])} |",
        *(projection_rows(f["part"], _reached) if part else []),
        "",
        "## Steps",
        "",
        "| step | wall s | CPU s | records | records/s | peak RSS MiB | notes |", "|---|---|---|---|---|---|---|",
    ]
    if generate_seconds is not None:
        lines.append(f"| generate payload files | {generate_seconds:.1f} | | {sum(man['records'].values()):,} | | | |")
    for name, label in (("ingest_full", "first full sync (dlt sources via replay server)"),
                        ("native", "DuckDB `read_json_objects` of the same files"),
                        ("build_full", "`dbt build` (full)"), ("rawsql", "compiled SQL run directly"),
                        ("ingest_nightly", "nightly incremental sync (one new day)"),
                        ("build_nightly", "nightly `dbt build`")):
        lines.append(_step_row(NATIVE_LABELS.get(name, label) if m.get("raw") == "native" else label, s[name]))
    if part:
        for measured_part in [*m.get("smaller_parts", []), m["part"]]:
            about = measured_part["manifest"]["part"]
            of = f"**the part** ({about['teams']} of {about['of_teams']} teams)"
            lines += [_step_row(f"{of}: {label}", measured_part["steps"][name]) for name, label in (
                ("ingest_full", "first full sync (dlt sources via replay server)"),
                ("native", "DuckDB `read_json_objects` of the part's files"),
                ("ingest_nightly", "nightly incremental sync (dlt sources, one new day)"))]
    lines += [
        "",
        "## Where the build time goes (dbt's run_results.json: execution seconds per node)",
        "",
        *_node_lines(s),
        "## API cost",
        "",
        f"GitHub collected through `SOURCES__GITHUB__API={m.get('github_api', 'rest')}`."
        + (f" Counted on **the part** ({part['teams']} of {part['of_teams']} teams); the whole organisation's rows "
           f"are an **estimate**, the part's counts × {part['scale_up']:.3g} (N/K teams)." if part else ""),
        "",
        ("| sync | GitHub REST requests | GitHub GraphQL queries | GitHub GraphQL points | GitHub points + requests "
         "| hours at 5,000/h | PagerDuty requests | Jira requests |"),
        "|---|---|---|---|---|---|---|---|",
        *(cost_rows(part, f, GITHUB_LIMIT_PER_HOUR) if part else (
            f"| {label} | {c['rest']:,} | {c['queries']:,} | {c['points']:,} | {c['total']:,} | "
            f"{c['total'] / GITHUB_LIMIT_PER_HOUR:.2f} | {f['requests'][phase]['pagerduty']:,} | "
            f"{f['requests'][phase]['jira']:,} |"
            for phase, label in (("full", "first full sync"), ("nightly", "one-day incremental"))
            for c in [f["github_cost"][phase]])),
        "",
        f"Requests per endpoint{' of the part' if part else ''} (full / nightly):",
        "",
        "| endpoint | full | nightly |", "|---|---|---|",
        *(f"| `{k}` | {m['requests']['full'].get(k, 0):,} | {m['requests']['nightly'].get(k, 0):,} |"
          for k in sorted(set(m["requests"]["full"]) | set(m["requests"]["nightly"])) if not k.startswith(SHAPE)),
        "",
        "Where the GraphQL points go: queries and points per query shape (its outermost connections; full / "
        "nightly):",
        "",
        "| query shape | queries, full | points, full | queries, nightly | points, nightly |", "|---|---|---|---|---|",
        *_shape_rows(m["requests"]),
        "",
        "## Records per raw table (first full sync)",
        "",
        "| source | seconds | rows |", "|---|---|---|",
        *(f"| {k} | {v['seconds']:.1f} | {v['rows']:,} |" for k, v in s["ingest_full"]["sources"].items()),
        "",
        *(["The part's first full sync through the sources, per source:", "", "| source | seconds | rows |",
           "|---|---|---|", *(f"| {k} | {v['seconds']:.1f} | {v['rows']:,} |"
                              for k, v in m["part"]["steps"]["ingest_full"]["sources"].items()),
           "", f"The part's payload: {_records(m['part']['manifest'])}.", ""] if part else []),
        (f"Generated payload: {_records(man)} "
        f"(page events at {man['events_fraction']:g} of the nominal 25,000 per engineer). Warehouse after the full "
        f"build: {m['warehouse_mib']:.0f} MiB."),
        "",
    ]
    return "\n".join(lines)


def _records(manifest: dict[str, Any]) -> str:
    """The records a manifest says its payload holds, by kind (the whole organisation's or a part's)."""
    return ", ".join(f"{k} {v:,}" for k, v in sorted(manifest["records"].items()))


def _node_lines(s: dict[str, Any]) -> list[str]:
    lines = []
    for name, label in (("build_full", "full `dbt build`"), ("build_nightly", "nightly `dbt build`")):
        nodes = s[name].get("nodes") or {}
        if not nodes:
            continue
        kinds = ", ".join(f"{k} {v['nodes']} nodes {v['seconds']:.1f} s" for k, v in nodes["by_type"].items())
        slowest = ", ".join(f"`{uid.split('.')[-1]}` {t:.1f} s" for uid, t in nodes["slowest"][:6])
        lines += [f"- {label} ({s[name].get('plan') or 'everything'}; dbt elapsed {nodes['elapsed']:.1f} s): "
                  f"{kinds}. Slowest: {slowest}."]
    return [*lines, ""] if lines else []


def _fractions(text: str) -> list[float]:
    """`--sources-part`'s fractions, smallest first (the largest part is the one the ingest ratios are measured on)."""
    return sorted(float(part) for part in text.split(",") if part.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--data", type=Path, help="payload files from bench/generate (default: generate them "
                                                  "into the work directory)")
    parser.add_argument("--work", type=Path, help="scratch directory (default: a temporary one, removed)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--events-fraction", type=float, default=0.02)
    parser.add_argument("--raw", choices=("sources", "native"), default="sources",
                        help="load the raw tables through the dlt sources (default) or with DuckDB's reader (for "
                             "scales whose sync does not fit: ingest ratios and API cost are then not measured, "
                             "unless on a part: --sources-part)")
    parser.add_argument("--api-count", type=lambda text: [name for name in text.split(",") if name],
                        help="with --raw native: also sync these sources (comma-separated, e.g. "
                             "github,github_actions) through the replay server, full then nightly, and report "
                             "their API cost")
    parser.add_argument("--sources-part", type=_fractions, metavar="F[,F2]",
                        help="with --raw native: also write the part of the organisation holding its first "
                             "round(F × teams) teams and measure the ingest ratios and API cost on it, through the "
                             "dlt sources (0 < F < 1; 0.2 at scale 1.0); with two fractions (0.1,0.2) also a "
                             "smaller part, whose nightly sync tells the sync's fixed cost apart in the projection")
    args = parser.parse_args(argv)
    if args.api_count and args.raw != "native":
        parser.error("--api-count goes with --raw native (the sources' own sync counts every request)")
    if args.sources_part is not None and (args.raw != "native" or args.api_count
                                          or not 1 <= len(args.sources_part) <= 2
                                          or not all(0 < f < 1 for f in args.sources_part)
                                          or len(set(args.sources_part)) != len(args.sources_part)):
        parser.error("--sources-part F[,F2] goes with --raw native, without --api-count (the part's sync counts every "
                     "request), with distinct fractions 0 < F < 1")
    command = "bench/run " + " ".join(argv if argv is not None else sys.argv[1:])
    work = args.work or Path(tempfile.mkdtemp(prefix="yardstick-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    facts = machine()
    sampler = LoadSampler()
    sampler.start()
    generate_seconds = None
    try:
        data = args.data
        if data is None or not (data / "manifest.json").exists():
            from bench.generate import generate

            data = data or work / "data"
            began = time.perf_counter()
            generate(data, args.scale, events_fraction=args.events_fraction)
            generate_seconds = time.perf_counter() - began
        manifest = json.loads((data / "manifest.json").read_text())
        if abs(manifest["scale"] - args.scale) > 1e-12:
            raise SystemExit(f"{data} holds scale {manifest['scale']}, not {args.scale}")
        measured = measure(data, work, args.raw, args.api_count, args.sources_part)
    finally:
        load = sampler.stop()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    f = figures(measured)
    args.results.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.now(UTC).date().isoformat()}-{args.scale}"  # 1.0 stays "1.0", as the earlier files are named
    (args.results / f"{stem}.md").write_text(render(args.scale, measured, f, facts, load, command,
                                                    generate_seconds))
    (args.results / f"{stem}.json").write_text(json.dumps(
        {"scale": args.scale, "command": command, "machine": facts, "load": load, "figures": f,
         "measured": measured}, indent=1, default=str))
    print(f"wrote {args.results / (stem + '.md')}: ingest {f['ingest_ratio']:.1f}× native"
          f"{' (on the part)' if f.get('part') else ''}, build "
          f"{f['build_ratio']:.2f}× raw SQL, nightly {100 * f['incremental_share']:.1f} % of full, full "
          f"{f['full_minutes']:.1f} min, peak {f['peak_gib']:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
