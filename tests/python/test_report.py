"""The HTML report, opened in a real headless Chromium: no console errors, every section with data has a drawn
chart, sections without data say why, and no person appears."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from yardstick.report import render

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
        page.screenshot(path=str(facts["screenshot"]), full_page=True)
        browser.close()
    return facts


def test_no_console_errors_and_no_network(page_facts: dict) -> None:
    assert page_facts["errors"] == []
    assert [url for url in page_facts["requests"] if not url.startswith("file://")] == []


def test_sections_with_data_draw_their_charts(page_facts: dict) -> None:
    sections = page_facts["sections"]
    assert list(sections) == ["dora", "stages", "hygiene", "planning", "quality", "product", "ai", "goals",
                             "team-metrics"]
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
