"""`bench/run --raw native --sources-part F`: the part of a generated organisation whose sync through the dlt
sources fits in the time one step may take, so a scale whose whole sync does not (1.0) still has its ingest ratios
and API cost measured — on that part, and said so.

The part is the first round(F × teams) teams (bench/generate's `Plan`: team t owns repositories 2t and 2t + 1,
Jira project P<t + 1> with board 100 + t, and one PagerDuty service per repository), written as a data directory
of its own that `bench.serve`, `source_env` and `bench.steps native` read as they read the whole:

    github/<owner>__<repo>/   symlinks to the whole organisation's repository directories (not copied: tens of MB each)
    jira/                     the part's projects' issues, boards and sprints; every status (they are global)
    pagerduty/                the part's repositories' services, their incidents and log entries; every user
    events/                   the first K/N of each day's lines: page events are not the teams', and the same
                              share keeps the part's mix of records the whole organisation's (whole, they would be
                              a larger share of the part's records, and cheap for both sides)
    manifest.json             the whole's, with the part's teams, repositories, projects and record counts, and
                              `part` saying what it is a part of
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

Json = dict[str, Any]
COUNTED_LINES = ("pulls", "commits", "deployments", "workflow_runs")  # one record a line
COUNTED_ITEMS = ("pull_commits", "pull_reviews", "deployment_statuses")  # {"<parent>", "items": [records]} lines


def part_teams(teams: int, fraction: float) -> int:
    """How many teams the part holds: round(F × teams), at least one and fewer than all (else it is no part)."""
    if not 0 < fraction < 1:
        raise SystemExit(f"--sources-part is a fraction between 0 and 1, not {fraction}")
    count = max(1, round(fraction * teams))
    if count >= teams:
        raise SystemExit(f"a part of {fraction:g} of {teams} teams is the whole organisation: use --raw sources")
    return count


def _lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        yield from handle


def _filter_lines(source: Path, target: Path, keep: Callable[[Json], bool]) -> int:
    """Copy the lines of `source` whose record `keep` accepts, byte for byte; how many were kept."""
    kept = 0
    with open(target, "wb") as out:
        for line in _lines(source):
            if keep(orjson.loads(line)):
                out.write(line)
                kept += 1
    return kept


def _github(data: Path, out: Path, repositories: list[str]) -> dict[str, int]:
    """Link the part's repository directories and count their records (children: the items of each line)."""
    counts = dict.fromkeys((*COUNTED_LINES, *COUNTED_ITEMS), 0)
    (out / "github").mkdir(parents=True)
    for name in repositories:
        directory = name.replace("/", "__")
        source = (data / "github" / directory).resolve()
        (out / "github" / directory).symlink_to(source, target_is_directory=True)
        for kind in COUNTED_LINES:
            counts[kind] += sum(1 for _ in _lines(source / f"{kind}.ndjson"))
        for kind in COUNTED_ITEMS:
            counts[kind] += sum(len(orjson.loads(line)["items"]) for line in _lines(source / f"{kind}.ndjson"))
    return counts


def _jira(data: Path, out: Path, projects: list[str]) -> dict[str, int]:
    """The part's projects' issues, boards and their sprints; every status (statuses are the site's, not a
    project's)."""
    source, target = data / "jira", out / "jira"
    target.mkdir(parents=True)
    wanted = set(projects)
    changes = 0

    def keep(issue: Json) -> bool:
        nonlocal changes
        if issue["fields"]["project"]["key"] not in wanted:
            return False
        changes += sum(len(history["items"]) for history in issue["changelog"]["histories"])
        return True

    issues = _filter_lines(source / "issues.ndjson", target / "issues.ndjson", keep)
    boards = [b for b in json.loads((source / "boards.json").read_text()) if b["location"]["projectKey"] in wanted]
    ids = {str(b["id"]) for b in boards}
    sprints = {k: v for k, v in json.loads((source / "sprints.json").read_text()).items() if k in ids}
    (target / "boards.json").write_text(json.dumps(boards))
    (target / "sprints.json").write_text(json.dumps(sprints))
    shutil.copyfile(source / "statuses.json", target / "statuses.json")
    return {"issues": issues, "issue_changelog_items": changes, "sprints": sum(map(len, sprints.values()))}


def _pagerduty(data: Path, out: Path, repositories: list[str], everything: list[str]) -> tuple[dict[str, int], str]:
    """The services of the part's repositories (a service is named after its repository) with their incidents
    and log entries; every user. If some service names no repository, PagerDuty is kept whole (and said so)."""
    source, target = data / "pagerduty", out / "pagerduty"
    target.mkdir(parents=True)
    services = json.loads((source / "services.json").read_text())
    names, every_name = ({name.split("/", 1)[1] for name in repos} for repos in (repositories, everything))
    whole = any(s["name"] not in every_name for s in services)
    kept = services if whole else [s for s in services if s["name"] in names]
    ids = {s["id"] for s in kept}

    def keep(record: Json) -> bool:
        return record["service"]["id"] in ids

    (target / "services.json").write_text(json.dumps(kept))
    shutil.copyfile(source / "users.json", target / "users.json")
    counts = {kind: _filter_lines(source / f"{kind}.ndjson", target / f"{kind}.ndjson", keep)
              for kind in ("incidents", "log_entries")}
    how = ("whole: some service names no repository" if whole
           else f"the part's {len(kept)} services (one per repository) with their incidents and log entries")
    return counts, how


def _events(data: Path, out: Path, share: float) -> int:
    """The first round(share × lines) lines of every day's file."""
    (out / "events").mkdir(parents=True)
    written = 0
    for path in sorted((data / "events").glob("*.ndjson")):
        lines = path.read_bytes().splitlines(keepends=True)
        keep = lines[:round(share * len(lines))]
        (out / "events" / path.name).write_bytes(b"".join(keep))
        written += len(keep)
    return written


def make_part(data: Path, out: Path, fraction: float) -> Json:
    """Write the part of the organisation in `data` holding its first round(fraction × teams) teams to `out`
    (replaced); its manifest."""
    from bench.generate import Plan

    whole = json.loads((data / "manifest.json").read_text())
    plan = Plan(whole["scale"], whole["events_fraction"], whole["seed"])
    if plan.repos != whole["repositories"] or plan.teams != whole["teams"]:
        raise SystemExit(f"{data} was not generated by this bench/generate: its teams cannot be told apart")
    teams = part_teams(plan.teams, fraction)
    repositories = [name for i, name in enumerate(plan.repos) if plan.team_of_repo(i) < teams]
    projects = [plan.project_key(t) for t in range(teams)]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    share = teams / plan.teams
    records = _github(data, out, repositories)
    records.update(_jira(data, out, projects))
    pagerduty, pagerduty_how = _pagerduty(data, out, repositories, plan.repos)
    records.update(pagerduty, events=_events(data, out, share))
    manifest = {
        **whole, "engineers": sum(len(plan.members(t)) for t in range(teams)), "teams": teams,
        "repositories": repositories, "jira_projects": projects, "records": dict(sorted(records.items())),
        "part": {"of": str(data.resolve()), "fraction": fraction, "share": share, "teams": teams,
                 "of_teams": plan.teams, "repositories": len(repositories), "of_repositories": len(plan.repos),
                 "engineers_of": whole["engineers"], "records_of": whole["records"], "pagerduty": pagerduty_how,
                 "events": f"the first {share:.4g} of each day's lines (page events are not the teams')"},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


# ------------------------------------------------------------------------------------------ figures, report


def part_figures(part: Json, steps: Json, github_cost: Json, requests: Json, smaller: Sequence[Json] = ()) -> Json:
    """The part's size, the whole organisation's API cost estimated from it (× N/K) and the nightly ÷ full ratio
    projected with the sources' measured syncs of the part scaled to the whole (× N/K) and the whole's builds.
    With a smaller part measured too (`smaller`, `--sources-part F1,F2`), also `line`: the nightly sync as a fixed
    cost plus a cost per team, through the two parts' nightly syncs (`line_projection`)."""
    about = part["manifest"]["part"]
    up = about["of_teams"] / about["teams"]
    full_sync = part["steps"]["ingest_full"]["seconds"] * up
    projected = _with_builds(full_sync, part["steps"]["ingest_nightly"]["seconds"] * up, steps)
    out = {
        "teams": about["teams"], "of_teams": about["of_teams"], "repositories": about["repositories"],
        "of_repositories": about["of_repositories"], "records": part["steps"]["ingest_full"]["rows"], "scale_up": up,
        "github_cost_estimate": _scaled(github_cost, up), "requests_estimate": _scaled(requests, up),
        "projected": {**projected, "full_minutes": projected["full_seconds"] / 60},
    }
    if smaller:
        out["line"] = line_projection(smaller[0], part, full_sync, steps)
    return out


def line_projection(small: Json, large: Json, full_sync: float, steps: Json) -> Json:
    """The nightly ÷ full ratio with the nightly sync fitted as `fixed + per_team × teams` through two parts'
    nightly syncs (a part of K teams does not pay 1/K of the cost every sync pays whatever the size: the process,
    each source's pipeline), evaluated at the whole's N teams. The full sync is the larger part's × N/K
    (`full_sync`): in the replay server it grows faster than the teams (bench/results/2026-12-04-1.0-two-parts.md:
    Jira's search reads every issue for each page), so × N/K is the lower estimate of it and keeps the ratio on the
    high side."""
    (k1, n1), (k2, n2) = ((p["manifest"]["part"]["teams"], p["steps"]["ingest_nightly"]["seconds"])
                          for p in (small, large))
    if k1 >= k2:
        raise SystemExit(f"the parts hold {k1} and {k2} teams: a line needs the smaller part to have fewer")
    per_team = (n2 - n1) / (k2 - k1)
    fixed = n2 - per_team * k2
    nightly_sync = fixed + per_team * large["manifest"]["part"]["of_teams"]
    return {"teams": [k1, k2], "nightly_sync_part_seconds": [n1, n2], "fixed_seconds": fixed,
            "per_team_seconds": per_team, **_with_builds(full_sync, nightly_sync, steps)}


def _with_builds(full_sync: float, nightly_sync: float, steps: Json) -> Json:
    """A projection's syncs with the whole organisation's measured builds added, and nightly ÷ full."""
    full = full_sync + steps["build_full"]["seconds"]
    nightly = nightly_sync + steps["build_nightly"]["seconds"]
    return {"full_sync_seconds": full_sync, "nightly_sync_seconds": nightly_sync, "full_seconds": full,
            "nightly_seconds": nightly, "incremental_share": nightly / full}


def _scaled(per_phase: Json, up: float) -> Json:
    return {phase: {k: round(v * up) for k, v in counts.items()} for phase, counts in per_phase.items()}


def where(p: Json) -> str:
    """The plain statement every part-measured figure carries."""
    return (f"measured on the part: {p['teams']} of {p['of_teams']} teams, {p['repositories']} of "
            f"{p['of_repositories']} repositories, {p['records']:,} records; the builds, nightly build and RSS are on "
            "the whole organisation")


def part_note(p: Json, part: Json) -> str:
    about = part["manifest"]["part"]
    return (f"**The ingest ratios and the API cost are {where(p)}** (`--sources-part {about['fraction']:g}`). "
            f"The part ({part['make_seconds']:.0f} s to write, untimed) holds the first {p['teams']} teams' "
            f"repositories (linked), Jira projects, boards and sprints, PagerDuty {about['pagerduty']}, and page "
            f"events {about['events']}; on it the dlt sources' first full sync through the replay server, DuckDB's "
            "`read_json_objects` of the same files and the one-day nightly sync ran as a `--raw sources` run runs "
            "them." + (f" A smaller part of {p['line']['teams'][0]} teams was measured the same way first: its nightly "
                       "sync and the part's tell apart what a nightly sync costs whatever the size (the projection "
                       "from two parts)." if "line" in p else ""))


def projection_rows(p: Json, reached: Callable[[str, float], str]) -> list[str]:
    """Ratio-table rows that project the sources' syncs of the part onto the whole organisation."""
    pr = p["projected"]
    how = (f"the sources' measured full and nightly syncs of the part × {p['scale_up']:.3g} (N/K teams) = "
           f"{pr['full_sync_seconds']:,.0f} s and {pr['nightly_sync_seconds']:,.0f} s, + the whole's builds")
    rows = [
        (f"| nightly ÷ full, **projection**: {how} | {100 * pr['incremental_share']:.1f} % | ≤ 5 % | "
         f"{reached('incremental_share', pr['incremental_share'])} (projected) |"),
        (f"| full ingest + build wall time, **projection**: the same full sync | {pr['full_minutes']:.1f} min | "
         f"< 10 min (at scale 1.0) | {reached('full_minutes', pr['full_minutes'])} (projected) |"),
    ]
    if "line" in p:
        line = p["line"]
        (k1, k2), (n1, n2) = line["teams"], line["nightly_sync_part_seconds"]
        how = (f"the nightly sync as {line['fixed_seconds']:.1f} s + {line['per_team_seconds']:.3f} s per team, the "
               f"line through two parts' nightly syncs ({k1} teams: {n1:.1f} s; {k2} teams: {n2:.1f} s) = "
               f"{line['nightly_sync_seconds']:,.0f} s at {p['of_teams']} teams; the full sync × N/K as above; "
               "+ the whole's builds")
        rows.insert(1, f"| nightly ÷ full, **projection from two parts**: {how} | "
                       f"{100 * line['incremental_share']:.1f} % | ≤ 5 % | "
                       f"{reached('incremental_share', line['incremental_share'])} (projected) |")
    return rows


def cost_rows(p: Json, f: Json, limit: int) -> list[str]:
    """API-cost table rows: the part's counts, then the whole organisation's estimate (× N/K), each labelled."""
    rows = []
    for phase, sync in (("full", "first full sync"), ("nightly", "one-day incremental")):
        for label, cost, tools in (
                (f"{sync}, **the part** ({p['teams']} of {p['of_teams']} teams, counted)", f["github_cost"][phase],
                 f["requests"][phase]),
                (f"{sync}, whole organisation — **estimate**: the part × {p['scale_up']:.3g}",
                 p["github_cost_estimate"][phase], p["requests_estimate"][phase])):
            rows.append(f"| {label} | {cost['rest']:,} | {cost['queries']:,} | {cost['points']:,} | {cost['total']:,} "
                        f"| {cost['total'] / limit:.2f} | {tools['pagerduty']:,} | {tools['jira']:,} |")
    return rows
