"""The benchmark end to end at a tiny scale: the generator is deterministic, and one `bench/run` writes a
results file with every ratio and the API cost (no timing is asserted: the machine is shared)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from dbt_unit_tests import data_tests_off

PROJECT = Path(__file__).resolve().parents[2]
SCALE = "0.0005"
RATIO_ROWS = (
    "| ingest: DuckDB-native records/s ÷ dlt-sources records/s |",
    "| ingest, CPU only: dlt-sources CPU s per record ÷ DuckDB-native CPU s per record (server excluded) |",
    "| build: `dbt build` ÷ compiled SQL run directly |",
    "| nightly incremental (ingest + build) ÷ full (ingest + build) |",
    "| full ingest + build wall time |",
    "| peak RSS of any step |",
    "| first full sync |",
    "| one-day incremental |",
)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_is_deterministic_and_run_writes_every_ratio(tmp_path: Path) -> None:
    first, second, results = tmp_path / "a", tmp_path / "b", tmp_path / "results"
    for out in (first, second):
        subprocess.run([str(PROJECT / "bench" / "generate"), "--scale", SCALE, "--out", str(out)], check=True)
    generated = _files(first)
    assert generated == _files(second)
    manifest = json.loads(generated["manifest.json"])
    assert manifest["records"]["pulls"] == 400  # 200 pull requests per engineer and year, 2 engineers at least
    assert {"github/acme__svc-0001/pulls.ndjson", "pagerduty/log_entries.ndjson", "jira/issues.ndjson"} <= set(generated)
    # every deployment status its own node id (GraphQL keys a status by the id inside it: one shared id loaded
    # a single status)
    statuses = [status for name, body in generated.items() if name.endswith("deployment_statuses.ndjson")
                for line in body.decode().splitlines() for status in json.loads(line)["items"]]
    assert len({status["node_id"] for status in statuses}) == len(statuses) > 0

    # the run's builds without dbt's data tests, which check data the suite's shared builds check (the steps and
    # their figures are what this test is about; the raw-SQL step then runs the models alone too)
    with data_tests_off():
        subprocess.run([str(PROJECT / "bench" / "run"), "--scale", SCALE, "--data", str(first),
                        "--work", str(tmp_path / "work"), "--results", str(results)], check=True)
    [report] = results.glob(f"*-{SCALE}.md")
    text = report.read_text()
    for row in RATIO_ROWS:
        assert row in text, row
    assert f"bench/run --scale {SCALE}" in text and "load average" in text

    [raw] = results.glob(f"*-{SCALE}.json")
    measured = json.loads(raw.read_text())
    requests = measured["figures"]["requests"]
    # every pull request before the last day is fetched with its commits and reviews: through GraphQL (the
    # default) a page of them per query, far below REST's three requests per pull request; Actions stays REST
    before = sum(1 for line in (first / "github").glob("*/pulls.ndjson")
                 for pull in map(json.loads, line.read_text().splitlines()) if pull["created_at"] < manifest["cutoff"])
    cost = measured["figures"]["github_cost"]
    assert measured["measured"]["github_api"] == "graphql"
    assert cost["full"]["queries"] > 0 and 0 < cost["full"]["points"] < before
    assert cost["full"]["total"] == cost["full"]["rest"] + cost["full"]["points"]
    assert "GitHub GraphQL points" in text
    assert 0 < requests["nightly"]["github"] < requests["full"]["github"]
    steps = measured["measured"]["steps"]
    assert steps["ingest_full"]["rows"] > steps["ingest_nightly"]["rows"] > 0
    statuses = len(json.loads(generated["jira/statuses.json"]))  # native reads every table but sprints
    assert steps["native"]["rows"] == sum(manifest["records"].values()) - manifest["records"]["sprints"] + statuses


# `--sources-part`: the smallest generated organisation with two teams (8 engineers a team), and its first team
PART_SCALE, PART_FRACTION = 0.0045, 0.5


def _ndjson(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def organisation_and_part(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    from bench.generate import generate
    from bench.part import make_part

    root = tmp_path_factory.mktemp("part")
    generate(root / "whole", PART_SCALE)
    return root / "whole", root / "part", make_part(root / "whole", root / "part", PART_FRACTION)


def test_the_part_holds_exactly_its_teams_records(organisation_and_part: tuple[Path, Path, dict]) -> None:
    from bench.part import part_teams
    from bench.run import main

    whole, part, manifest = organisation_and_part
    assert manifest["teams"] == 1 and manifest["part"]["of_teams"] == 2 and manifest["engineers"] == 8
    assert manifest["repositories"] == ["acme/svc-0001", "acme/svc-0002"] and manifest["jira_projects"] == ["P1"]
    assert manifest["part"]["of_repositories"] == 4
    assert manifest == json.loads((part / "manifest.json").read_text())
    links = sorted((part / "github").iterdir())
    assert [p.name for p in links] == ["acme__svc-0001", "acme__svc-0002"]
    assert all(p.is_symlink() and p.resolve() == (whole / "github" / p.name).resolve() for p in links)
    records = manifest["records"]
    repos = [whole / "github" / p.name for p in links]
    assert records["pulls"] == sum(len(_ndjson(r / "pulls.ndjson")) for r in repos)
    assert 0 < records["pulls"] < manifest["part"]["records_of"]["pulls"]
    assert records["pull_commits"] == sum(len(x["items"]) for r in repos for x in _ndjson(r / "pull_commits.ndjson"))
    assert records["pull_reviews"] == sum(len(x["items"]) for r in repos for x in _ndjson(r / "pull_reviews.ndjson"))

    issues = [i for i in _ndjson(whole / "jira" / "issues.ndjson") if i["fields"]["project"]["key"] == "P1"]
    assert _ndjson(part / "jira" / "issues.ndjson") == issues and records["issues"] == len(issues) > 0
    assert records["issue_changelog_items"] == sum(len(h["items"]) for i in issues for h in i["changelog"]["histories"])
    assert [b["id"] for b in json.loads((part / "jira" / "boards.json").read_text())] == [100]
    assert set(json.loads((part / "jira" / "sprints.json").read_text())) == {"100"}

    services = {s["id"] for s in json.loads((part / "pagerduty" / "services.json").read_text())}
    assert services == {"PS00000", "PS00001"}  # one service per repository, named after it
    for kind in ("incidents", "log_entries"):
        kept = [x for x in _ndjson(whole / "pagerduty" / f"{kind}.ndjson") if x["service"]["id"] in services]
        assert _ndjson(part / "pagerduty" / f"{kind}.ndjson") == kept and records[kind] == len(kept)
    assert 0 < records["incidents"] < manifest["part"]["records_of"]["incidents"]

    days = sorted((whole / "events").glob("*.ndjson"))  # the first half of each day's page events
    assert records["events"] == sum(round(len(d.read_text().splitlines()) / 2) for d in days)
    assert all(d.read_text().startswith((part / "events" / d.name).read_text()) for d in days)

    for fraction in (0.0, 0.8, 1.0):  # 0.8 of 2 teams rounds to both: no part
        with pytest.raises(SystemExit):
            part_teams(2, fraction)
    with pytest.raises(SystemExit):  # a part is for --raw native runs only
        main(["--scale", str(PART_SCALE), "--sources-part", "0.5"])


def test_sources_part_measures_ingest_on_the_part(organisation_and_part: tuple[Path, Path, dict],
                                                   tmp_path: Path) -> None:
    from bench.run import base_env, figures, measure, measure_part, render
    from bench.summary import render as render_summary

    whole, part, manifest = organisation_and_part
    with pytest.raises(SystemExit, match="same teams"):  # 0.3 and 0.4 of 2 teams are both 1 team: said at once
        measure(whole, tmp_path / "never", "native", None, [0.3, 0.4])
    assert not (tmp_path / "never").exists()
    measured = measure_part(whole, tmp_path, PART_FRACTION, base_env(tmp_path))
    assert measured["manifest"] == manifest
    steps, cutoff = measured["steps"], manifest["cutoff"]
    # the first full sync went through the sources to the part's records of the evening before the last day
    synced = {t: n for source in steps["ingest_full"]["sources"].values() for t, n in source["tables"].items()}
    pulls = [p for r in manifest["repositories"]
             for p in _ndjson(part / "github" / r.replace("/", "__") / "pulls.ndjson")]
    assert synced["raw_github.pull_requests"] == sum(p["created_at"] < cutoff for p in pulls) > 0
    issues = _ndjson(part / "jira" / "issues.ndjson")
    assert synced["raw_jira.issues"] == sum(i["fields"]["created"][:19] < cutoff[:19] for i in issues) > 0
    events = sum(len(d.read_text().splitlines()) for d in (part / "events").glob("*.ndjson")
                 if not d.name.endswith(f"{cutoff[:10]}.ndjson"))
    assert synced["raw_events.segment_events"] == events
    # DuckDB read every record of the part's files (every table but sprints, and the statuses)
    statuses = len(json.loads((part / "jira" / "statuses.json").read_text()))
    assert steps["native"]["rows"] == sum(manifest["records"].values()) - manifest["records"]["sprints"] + statuses
    assert steps["ingest_nightly"]["rows"] > 0 and steps["ingest_full"]["server_cpu_seconds"] > 0
    assert measured["requests"]["full"]["github /graphql"] > measured["requests"]["nightly"]["github /graphql"] > 0

    # the whole organisation's steps of a `--raw native` run, stubbed: the part's figures are what is tested here
    stub = {"seconds": 10.0, "cpu_seconds": 10.0, "peak_rss_mib": 100.0, "rows": 1, "sources": {}}
    whole_manifest = json.loads((whole / "manifest.json").read_text())
    m = {"manifest": whole_manifest, "raw": "native", "part": measured, "requests": measured["requests"],
         "warehouse_mib": 1.0, "steps": {name: dict(stub, models=1, tests=1) if name == "rawsql" else dict(stub)
                                         for name in ("ingest_full", "native", "build_full", "rawsql",
                                                      "ingest_nightly", "build_nightly")}}
    f = figures(m)
    sources_rate = steps["ingest_full"]["rows"] / steps["ingest_full"]["seconds"]
    assert f["ingest_ratio"] == steps["native"]["rows"] / steps["native"]["seconds"] / sources_rate
    assert f["part"]["github_cost_estimate"]["full"]["total"] == 2 * f["github_cost"]["full"]["total"] > 0
    projected = f["part"]["projected"]
    assert projected["full_seconds"] == 2 * steps["ingest_full"]["seconds"] + 10.0
    text = render(PART_SCALE, m, f, {"cores": 2}, {"min": 0.0, "mean": 0.0, "max": 0.0}, "bench/run", None)
    said = (f"measured on the part: 1 of 2 teams, 2 of 4 repositories, {steps['ingest_full']['rows']:,} records; "
            "the builds, nightly build and RSS are on the whole organisation")
    assert sum(line.startswith("| ingest") and said in line for line in text.splitlines()) == 2
    assert "| first full sync, whole organisation — **estimate**: the part × 2 | " in text
    assert "| nightly ÷ full, **projection**" in text
    summary = render_summary({(PART_SCALE, "graphql"): {"figures": f, "measured": m, "file": "x.json",
                                                         "load": {"mean": 0.0}}})
    [row] = [line for line in summary.splitlines() if line.startswith("| ingest: DuckDB-native ÷ dlt records/s |")]
    assert f" {f['ingest_ratio']:.1f}× " in row and row.endswith(" (part: 1 of 2 teams) | ≤ 2× |")


def test_two_parts_tell_the_nightly_syncs_fixed_cost_apart() -> None:
    from bench.part import part_figures, projection_rows
    from bench.run import main
    from bench.summary import _projected

    def part(teams: int, full: float, nightly: float) -> dict:
        return {"manifest": {"part": {"teams": teams, "of_teams": 10, "repositories": 2 * teams,
                                      "of_repositories": 20}},
                "steps": {"ingest_full": {"seconds": full, "rows": 100 * teams}, "ingest_nightly": {"seconds": nightly}}}

    steps = {"build_full": {"seconds": 50.0}, "build_nightly": {"seconds": 5.0}}
    cost = {"full": {"total": 10}, "nightly": {"total": 1}}
    f = part_figures(part(4, 40.0, 7.0), steps, cost, cost, [part(2, 18.0, 5.0)])
    # by hand: (7 - 5) s / (4 - 2) teams = 1 s a team, 7 - 4 × 1 = 3 s whatever the size, 3 + 10 × 1 = 13 s at 10
    # teams; the full sync is the larger part's × 10/4 = 100 s; builds 50 s and 5 s
    line = f["line"]
    assert (line["per_team_seconds"], line["fixed_seconds"], line["nightly_sync_seconds"]) == (1.0, 3.0, 13.0)
    assert line["full_sync_seconds"] == 100.0 and line["incremental_share"] == (13 + 5) / (100 + 50)
    assert f["projected"]["incremental_share"] == (7 * 2.5 + 5) / (100 + 50)  # both syncs × N/K: 15 %
    rows = projection_rows(f, lambda name, value: "yes")
    assert sum("projection from two parts" in row and "| 12.0 % |" in row for row in rows) == 1
    assert _projected({"figures": {"part": f}}) == "15.0 % × N/K, 12.0 % from two parts (projected)"
    with pytest.raises(SystemExit):  # two parts of as many teams draw no line
        part_figures(part(2, 20.0, 6.0), steps, cost, cost, [part(2, 18.0, 5.0)])
    for fractions in ("0.2,0.2", "0.1,0.2,0.3", "0.1,1.5"):
        with pytest.raises(SystemExit):
            main(["--scale", str(PART_SCALE), "--raw", "native", "--sources-part", fractions])
