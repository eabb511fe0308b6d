"""The HTML report, opened in a real headless Chromium: no console errors, every section with data has a drawn
chart, sections without data say why, the maturity ladder is drawn with each team's next step, and no person
appears. With `--track`, reading the report sends a view per team section to a collector on 127.0.0.1, and those
views flow through the `events` source into `usage_team_weekly` and rung 4 of `goals_team_maturity`."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ingestion.pipeline import ingest_source
from yardstick.collect import Collector, EventLog
from yardstick.dbt import dbt
from yardstick.publish import private_path
from yardstick.report import render
from yardstick.report_ladder import Tracking

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def page_facts(scenario_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from playwright.sync_api import sync_playwright

    out = tmp_path_factory.mktemp("report")
    index = render(scenario_warehouse, out)
    facts: dict = {"errors": [], "requests": [], "html": index.read_text(), "screenshot": out / "report.png"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda message: facts["errors"].append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: facts["errors"].append(str(error)))
        page.on("request", lambda request: facts["requests"].append(request.url))
        page.goto(index.as_uri())
        page.wait_for_load_state("networkidle")
        facts["sections"] = {
            section.get_attribute("id"): {
                "charts": [box for svg in section.locator("svg.main-svg").all() if (box := svg.bounding_box())],
                "traces": section.locator("g.trace, g.barlayer path, g.boxlayer path").count(),
                "empty": section.locator("p.empty").all_inner_texts(),
            }
            for section in page.locator("section").all()
        }
        facts["teams"] = {
            block.get_attribute("data-team"): {
                "rungs": block.locator("svg.ladder rect.rung").count(),
                "reached": block.locator("svg.ladder rect.reached").count(),
                "next_step": block.locator("p.next-step").inner_text(),
                "box": block.locator("svg.ladder").bounding_box(),
            }
            for block in page.locator("#ladder article.team").all()
        }
        page.screenshot(path=str(facts["screenshot"]), full_page=True)
        browser.close()
    return facts


def test_no_console_errors_and_no_network(page_facts: dict) -> None:
    assert page_facts["errors"] == []
    assert [url for url in page_facts["requests"] if not url.startswith("file://")] == []


def test_sections_with_data_draw_their_charts(page_facts: dict) -> None:
    sections = page_facts["sections"]
    assert list(sections) == ["dora", "stages", "hygiene", "planning", "quality", "product", "ai", "goals",
                             "team-metrics", "ladder"]
    for name in ("dora", "stages", "hygiene", "quality", "ai", "goals"):
        assert sections[name]["charts"], f"{name} has no chart"
        assert all(box["width"] > 300 and box["height"] > 100 for box in sections[name]["charts"]), name
        assert sections[name]["traces"] > 0, f"{name} chart has nothing drawn"
    # the March 2026 scenario has no sprints and no product events: those sections say what to connect
    for name, hint in (("planning", "connect Jira"), ("product", "instrument your pages")):
        assert sections[name]["charts"] == []
        assert hint in sections[name]["empty"][0]
    assert page_facts["screenshot"].stat().st_size > 50_000


def test_ai_section_shows_adoption_and_both_cohorts_with_group_sizes(page_facts: dict) -> None:
    text = page_facts["html"]
    section = text[text.index('<section id="ai">'):]
    section = section[:section.index("</section>")]
    assert "org AI-active" in section  # the organisation's five engineers: large enough to show
    # March: ana, bob, dan and eve opened changes in their AI-active week (4 people), cat in a week he was not (1):
    # both cohorts are named with their sizes and suppressed
    assert "<td>ai_active</td><td>4</td><td colspan=3>suppressed" in section
    assert "<td>other</td><td>1</td><td colspan=3>suppressed" in section


def test_report_is_team_level(page_facts: dict) -> None:
    text = page_facts["html"]
    assert "payments" in text and "search" in text
    for login in ("ana", "bob", "cat", "dan", "eve"):
        assert f">{login}<" not in text and f'"{login}"' not in text


def test_the_ladder_shows_each_teams_rung_evidence_and_next_step(page_facts: dict,
                                                                 scenario_warehouse: Path) -> None:
    with duckdb.connect(str(scenario_warehouse), read_only=True) as con:
        maturity = {team: (rung, step) for team, rung, step in con.execute(
            "select team, maturity_rung, next_step from marts.goals_team_maturity "
            "where measured_weeks > 0 or targets > 0").fetchall()}
    teams = page_facts["teams"]
    assert set(teams) == set(maturity) and {"payments", "search"} <= set(teams)
    for team, (rung, step) in maturity.items():
        drawn = teams[team]
        assert drawn["rungs"] == 7 and drawn["reached"] == rung, team  # seven steps, the reached ones filled
        assert drawn["box"] and drawn["box"]["width"] > 200, team
        assert drawn["next_step"] == f"Next step: {step}" and step.startswith(team), team


WRITE_KEY = "wk_report_test"
READ_AT = "2026-03-18T10:00:00Z"  # the browser's clock, pinned: views land in the ISO week of 16 March 2026


@pytest.fixture()
def collector(tmp_path: Path) -> Iterator[Collector]:
    log = EventLog(tmp_path / "events")
    server = Collector(("127.0.0.1", 0), log, [WRITE_KEY])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        log.close()


def received(directory: Path, count: int, timeout: float = 20.0) -> list[dict]:
    """The events the collector wrote, once there are `count` of them (or what there is at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        events = [json.loads(line) for path in sorted(directory.glob("*.ndjson"))
                  for line in path.read_text().splitlines() if line]
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_tracked_report_views_reach_usage_team_weekly(scenario_warehouse: Path, collector: Collector,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import sync_playwright

    index = render(scenario_warehouse, tmp_path / "report", Tracking(collector.url, WRITE_KEY))
    with duckdb.connect(str(scenario_warehouse), read_only=True) as con:
        teams = sorted(team for (team,) in con.execute("select team from marts.goals_team_maturity "
                                                       "where measured_weeks > 0 or targets > 0").fetchall())
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.clock.set_fixed_time(READ_AT)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(index.as_uri())
        page.wait_for_load_state("networkidle")
        assert received(collector.log.directory, 1, timeout=1) == []  # nothing sent before a team is in view
        for team in teams:  # the reader scrolls down through the ladder, one team section after another
            page.locator(f"#team-{team}").scroll_into_view_if_needed()
            page.wait_for_timeout(300)
        page.locator(f"#team-{teams[0]}").scroll_into_view_if_needed()  # seen again: no second view
        page.wait_for_timeout(300)
        browser.close()
    assert errors == []
    events = received(collector.log.directory, len(teams))
    assert sorted(event["properties"]["team"] for event in events) == teams
    assert {(event["type"], event["name"], event["timestamp"][:10]) for event in events} == {
        ("page", "Yardstick report", "2026-03-18")}
    assert {event["properties"]["section"] for event in events} == {f"team-{team}" for team in teams}
    assert len({event["anonymousId"] for event in events}) == 1  # one reader

    # the views go the way product events go: the events source, then dbt
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(private_path(scenario_warehouse), warehouse)
    monkeypatch.setenv("SOURCES__EVENTS__PATHS", str(collector.log.directory))
    assert ingest_source("events", warehouse) == {"raw_events.segment_events": len(teams)}
    # what a nightly builds after new events: everything downstream of their raw table, staging table first
    dbt(["build", "--select", "source:events.segment_events+"], warehouse,
        vars={"as_of_date": "2026-03-19"})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        usage = con.execute("select team, cast(week_start as varchar), views, viewers from marts.usage_team_weekly "
                            "order by team").fetchall()
        looked = dict(con.execute("select team, report_views from marts.goals_team_maturity").fetchall())
        product_views = con.execute("select count(*) from marts.fct_page_views").fetchone()[0]
    assert usage == [(team, "2026-03-16", 1, 1) for team in teams]
    assert all(looked[team] == 1 for team in teams)  # rung 4 counts the week
    assert product_views == 0  # the report's own views are not the product's page views
