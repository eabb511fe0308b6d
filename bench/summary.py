"""`python -m bench.summary`: the newest result of every scale in `bench/results/`, side by side, with the
growth from one scale to the next and the ratios against the targets; printed and written to
`bench/results/SUMMARY.md`."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

from bench.run import RESULTS_DIR, TARGETS


def api(data: dict[str, Any]) -> str:
    """How the run collected GitHub (results before GraphQL: REST)."""
    return str(data.get("measured", {}).get("github_api", "rest"))


def latest(results: Path) -> dict[tuple[float, str], dict[str, Any]]:
    """The newest result of every (scale, GitHub API): REST and GraphQL side by side."""
    by_key: dict[tuple[float, str], tuple[str, dict[str, Any]]] = {}
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text())
        key = (data.get("scale"), api(data))
        if "figures" in data and (key not in by_key or path.name > by_key[key][0]):
            by_key[key] = (path.name, {**data, "file": path.name})
    return {key: data for key, (_, data) in sorted(by_key.items(), key=lambda item: (item[0][0], item[0][1] != "rest"))}


def _cost(d: dict[str, Any]) -> dict[str, Any] | None:
    """GitHub's cost per sync: counted, or for a `--sources-part` run the whole's estimate from the part."""
    part = d["figures"].get("part")
    return part["github_cost_estimate"] if part else d["figures"].get("github_cost")


def _github(d: dict[str, Any], phase: str) -> int:
    """GitHub's budget a sync spent: REST requests plus GraphQL points (older results: REST requests only)."""
    cost = _cost(d)
    return cost[phase]["total"] if cost else d["figures"]["requests"][phase]["github"]


def _approx(d: dict[str, Any]) -> str:
    """"~" before a figure estimated from a part of the organisation."""
    return "~" if d["figures"].get("part") else ""


def _part(d: dict[str, Any], phase: str, what: str) -> str:
    cost = _cost(d)
    return _approx(d) + (f"{cost[phase][what]:,}" if cost else (f"{d['figures']['requests'][phase]['github']:,}"
                                                                if what == "rest" else "0"))


def _projected(d: dict[str, Any]) -> str:
    """A `--sources-part` run's nightly ÷ full with the sources' syncs (bench/part.py), else nothing to show."""
    part = d["figures"].get("part")
    if not part:
        return ""
    scaled = 100 * part["projected"]["incremental_share"]
    if "line" not in part:
        return f"{scaled:.1f} % (projected)"
    return f"{scaled:.1f} % × N/K, {100 * part['line']['incremental_share']:.1f} % from two parts (projected)"


def _on_part(d: dict[str, Any]) -> str:
    """Where a `--sources-part` run measured its ingest: said beside every such figure."""
    part = d["figures"].get("part")
    return f" (part: {part['teams']} of {part['of_teams']} teams)" if part else ""


def render(runs: dict[tuple[float, str], dict[str, Any]]) -> str:
    scales = list(runs)
    head = "| figure | " + " | ".join(f"scale {s:g}, {a}" for s, a in scales) + " | target |"
    rule = "|---" * (len(scales) + 2) + "|"

    def row(label: str, fmt: Any, target: str = "") -> str:
        return f"| {label} | " + " | ".join(fmt(runs[s]) for s in scales) + f" | {target} |"

    def fig(d: dict[str, Any], key: str) -> float:
        return d["figures"][key]

    def mark(d: dict[str, Any], key: str, text: str) -> str:
        return text + (" ✓" if fig(d, key) <= TARGETS[key] else " ✗")

    def native(d: dict[str, Any]) -> bool:  # raw tables loaded by DuckDB and no part synced: no ingest ratio
        return d["measured"].get("raw") == "native" and not d["figures"].get("part")

    def step(d: dict[str, Any], name: str) -> dict[str, Any]:
        return d["measured"]["steps"][name]

    lines = [
        "# Benchmark summary (newest result per scale and GitHub API)", "",
        "Figures measured under load on a shared machine; see each results file for its load average.", "",
        head, rule,
        row("results file", lambda d: f"`{d['file']}`"),
        row("engineers", lambda d: f"{d['measured']['manifest']['engineers']:,}"),
        row("records generated", lambda d: f"{sum(d['measured']['manifest']['records'].values()):,}"),
        row("page events", lambda d: f"{d['measured']['manifest']['records'].get('events', 0):,}"),
        row("raw tables loaded by", lambda d: "DuckDB (`--raw native`)" + (
            "; ingest measured on a part through the dlt sources" if _on_part(d) else "")
            if d["measured"].get("raw") == "native" else "the dlt sources"),
        # a `--raw native` run loads its raw tables with DuckDB itself: its ingest ratios are 1× by construction,
        # unless it measured them on a part of the organisation (`--sources-part`)
        row("ingest: DuckDB-native ÷ dlt records/s",
            lambda d: "— (native)" if native(d)
            else mark(d, "ingest_ratio", f"{fig(d, 'ingest_ratio'):.1f}×") + _on_part(d), "≤ 2×"),
        row("ingest CPU: dlt ÷ DuckDB-native per record",
            lambda d: "— (native)" if native(d)
            else f"{d['figures'].get('ingest_cpu_ratio', float('nan')):.1f}×" + _on_part(d), "≤ 2×"),
        row("build: dbt build ÷ raw SQL", lambda d: mark(d, "build_ratio", f"{fig(d, 'build_ratio'):.2f}×"), "≤ 1.3×"),
        row("nightly ÷ full", lambda d: mark(d, "incremental_share", f"{100 * fig(d, 'incremental_share'):.1f} %"),
            "≤ 5 %"),
        row("nightly ÷ full, projection: the part's syncs through the sources in place of DuckDB's loads (× N/K; "
            "and the nightly sync's line through two parts)",
            _projected, "≤ 5 %"),
        row("full ingest + build", lambda d: mark(d, "full_minutes", f"{fig(d, 'full_minutes'):.1f} min"),
            "< 10 min at 1.0"),
        row("peak RSS", lambda d: mark(d, "peak_gib", f"{fig(d, 'peak_gib'):.2f} GiB"), "< 4 GiB"),
        row("dlt ingest records/s", lambda d: f"{fig(d, 'ingest_rate'):,.0f}" + _on_part(d)),
        row("DuckDB-native records/s", lambda d: f"{fig(d, 'native_rate'):,.0f}" + _on_part(d)),
        row("full sync s", lambda d: f"{step(d, 'ingest_full')['seconds']:.0f}"),
        row("dbt build s", lambda d: f"{step(d, 'build_full')['seconds']:.0f}"),
        row("raw SQL s", lambda d: f"{step(d, 'rawsql')['seconds']:.1f}"),
        row("nightly ingest + build s", lambda d: f"{fig(d, 'nightly_seconds'):.0f}"),
        row("GitHub points + requests, full sync (~: the part's count × N/K teams, an estimate)",
            lambda d: f"{_approx(d)}{_github(d, 'full'):,}"),
        row("… of which GraphQL points", lambda d: _part(d, "full", "points")),
        row("… of which REST requests (Actions runs and jobs under GraphQL)", lambda d: _part(d, "full", "rest")),
        row("… hours at 5,000/h", lambda d: f"{_approx(d)}{_github(d, 'full') / 5000:.1f}"),
        row("GitHub points + requests, one-day sync", lambda d: f"{_approx(d)}{_github(d, 'nightly'):,}"),
        row("… of which GraphQL points", lambda d: _part(d, "nightly", "points")),
        row("… of which REST requests", lambda d: _part(d, "nightly", "rest")),
        row("load average (mean, 1 min)", lambda d: f"{d['load']['mean']:.1f}"),
    ]
    if len(scales) > 1:
        lines += ["", "From one column to the next (× per 10× more organisation, or REST → GraphQL):", "",
                  "| step | " + " | ".join(f"{a[0]:g} {a[1]} → {b[0]:g} {b[1]}"
                                           for a, b in itertools.pairwise(scales)) + " |",
                  "|---" * len(scales) + "|"]
        for name in ("ingest_full", "build_full", "rawsql", "ingest_nightly", "build_nightly"):
            cells = []
            for a, b in itertools.pairwise(scales):
                sa, sb = step(runs[a], name), step(runs[b], name)
                cells.append(f"time {sb['seconds'] / sa['seconds']:.1f}×, RSS {sb['peak_rss_mib'] / sa['peak_rss_mib']:.1f}×")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    runs = latest(RESULTS_DIR)
    if not runs:
        print(f"no results in {RESULTS_DIR}")
        return 1
    text = render(runs)
    (RESULTS_DIR / "SUMMARY.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
