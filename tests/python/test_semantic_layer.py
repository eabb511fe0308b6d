"""The semantic layer (docs/architecture.md §9a): MetricFlow validates the project (`mf validate-configs`' semantic
checks), every catalogue row is a metric carrying its metadata, a bad team metric file fails naming the file and
the reason, the marts agree with MetricFlow on the demo warehouse, and `yardstick metrics query` reads the
published file read-only."""

from __future__ import annotations

import csv
import hashlib
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingestion.errors import YardstickError
from yardstick.metrics import (
    check_team_metric_files,
    list_metrics,
    load_semantic_manifest,
    parse_project,
    query,
    validate,
)

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

PROJECT = Path(__file__).resolve().parents[2]

# catalogue metric → (mart, its column, the mart's period column, MetricFlow's time grain)
MART_COLUMNS = {
    "deployment_frequency": ("dora_team_weekly", "deployments", "week_start", "week"),
    "lead_time": ("dora_team_weekly", "lead_time_median_hours", "week_start", "week"),
    "change_failure_rate": ("dora_team_weekly", "change_failure_rate", "week_start", "week"),
    "recovery_time": ("dora_team_weekly", "recovery_median_hours", "week_start", "week"),
    "rework_rate": ("dora_team_monthly", "rework_rate", "month_start", "month"),
    "coding_time": ("flow_stage_breakdown_weekly", "coding_median_hours", "week_start", "week"),
    "pickup_time": ("flow_stage_breakdown_weekly", "pickup_median_hours", "week_start", "week"),
    "review_time": ("flow_stage_breakdown_weekly", "review_median_hours", "week_start", "week"),
    "deploy_time": ("flow_stage_breakdown_weekly", "deploy_median_hours", "week_start", "week"),
    "pr_size_lines": ("flow_pr_hygiene_weekly", "size_lines_median", "week_start", "week"),
    "share_unreviewed": ("flow_pr_hygiene_weekly", "share_unreviewed", "week_start", "week"),
    "share_merged_without_approval": ("flow_pr_hygiene_weekly", "share_merged_without_approval", "week_start",
                                      "week"),
    "share_self_merged": ("flow_pr_hygiene_weekly", "share_self_merged", "week_start", "week"),
    "waiting_prs": ("flow_review_load", "waiting_prs_at_week_end", "week_start", "week"),
    "incidents": ("quality_team_monthly", "incidents", "month", "month"),
    "production_bugs": ("quality_team_monthly", "production_bugs", "month", "month"),
    "bug_reopen_rate": ("quality_team_monthly", "bug_reopen_rate", "month", "month"),
    "build_success_rate": ("quality_team_monthly", "build_success_rate", "month", "month"),
    "build_duration_p50": ("quality_team_monthly", "build_duration_p50_minutes", "month", "month"),
    "build_duration_p90": ("quality_team_monthly", "build_duration_p90_minutes", "month", "month"),
    "flaky_reruns": ("quality_team_monthly", "flaky_reruns", "month", "month"),
    "pr_issue_link_share": ("quality_link_coverage", "pr_issue_link_share", "month", "month"),
    "pr_deployment_link_share": ("quality_link_coverage", "pr_deployment_link_share", "month", "month"),
    "deployment_change_share": ("quality_link_coverage", "deployment_change_share", "month", "month"),
    "incident_attribution_share": ("quality_link_coverage", "incident_attribution_share", "month", "month"),
}


@pytest.fixture(scope="module")
def parsed() -> Path:
    return parse_project()


def test_metricflow_validates_the_semantic_layer(parsed: Path) -> None:
    """What `mf validate-configs --skip-dw` runs: MetricFlow's semantic validations of the parsed project."""
    manifest = load_semantic_manifest(parsed)
    assert validate(manifest) == []
    assert {model.name for model in manifest.semantic_models} >= {"changes", "deployments", "incidents", "builds"}
    assert manifest.project_configuration.time_spines[0].node_relation.alias == "metrics_time_spine_daily"


def test_every_catalogue_row_is_a_metric_with_its_metadata(parsed: Path) -> None:
    metrics = {info.name: info for info in list_metrics(parsed)}
    rows = list(csv.DictReader((PROJECT / "seeds" / "metric_catalogue.csv").open(encoding="utf-8")))
    assert len(rows) == 40
    for row in rows:
        info = metrics[row["metric"]]
        assert (info.better, info.unit, info.category, info.description) == \
            (row["better"], row["unit"], row["category"], row["description"]), row["metric"]
        assert info.defined_in == "models/marts/metrics/_metrics__models.yml"
    team_metric = metrics["payments_api_prs_merged_without_review"]
    assert (team_metric.team, team_metric.defined_in, team_metric.better) == ("payments", "metrics/payments.yml", "lower")


def test_a_team_metric_file_must_hold_metrics_only(tmp_path: Path) -> None:
    (tmp_path / "search.yml").write_text("semantic_models:\n  - name: mine\n")
    with pytest.raises(YardstickError, match=r"search\.yml: a team metric file holds only `metrics:`"):
        check_team_metric_files(tmp_path)
    (tmp_path / "search.yml").unlink()
    (tmp_path / "search.sql").write_text("select 1")
    with pytest.raises(YardstickError, match=r"search\.sql: a team metric file is MetricFlow YAML"):
        check_team_metric_files(tmp_path)


def test_a_bad_team_metric_fails_the_build_naming_the_file_and_reason(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    shutil.copy(PROJECT / "metrics" / "payments.yml", metrics)
    (metrics / "search.yml").write_text(
        "metrics:\n  - name: search_slow_reviews\n    label: Slow reviews\n    description: x\n    type: simple\n"
        "    type_params:\n      measure: review_hours_p99\n")
    monkeypatch.setenv("YARDSTICK_METRICS_DIR", str(metrics))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    with pytest.raises(YardstickError) as failure:
        parse_project(force=True)
    message = str(failure.value)
    assert str(metrics / "search.yml") in message
    assert "search_slow_reviews" in message and "review_hours_p99" in message and "does not exist" in message


def _mart(warehouse: Path, mart: str, column: str, period: str) -> dict[tuple[str, str], float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"select team, cast({period} as date), {column} from marts.{mart}").fetchall()
    return {(team, str(day)): value for team, day, value in rows}


def _metricflow(warehouse: Path, metric: str, grain: str) -> dict[tuple[str, str], float]:
    _, frame = query(warehouse, [metric], ["team", f"metric_time__{grain}"])
    frame = frame.dropna(subset=[f"metric_time__{grain}"])
    return {(row.team, str(pd.Timestamp(getattr(row, f"metric_time__{grain}")).date())): getattr(row, metric)
            for row in frame.itertuples(index=False)}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == 0


def _disagreements(mart: dict, metricflow: dict) -> list[tuple]:
    wrong = []
    for key in sorted(set(mart) | set(metricflow)):
        left, right = mart.get(key), metricflow.get(key)
        if _blank(left) and _blank(right):
            continue
        if _blank(left) != _blank(right) or not math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9):
            wrong.append((key, left, right))
    return wrong


@pytest.mark.parametrize("metric", sorted(MART_COLUMNS))
def test_marts_agree_with_metricflow(demo_warehouse: Path, metric: str) -> None:
    mart, column, period, grain = MART_COLUMNS[metric]
    expected = _mart(demo_warehouse, mart, column, period)
    assert expected, f"{mart} is empty on the demo"
    assert _disagreements(expected, _metricflow(demo_warehouse, metric, grain)) == []


def test_planning_and_product_marts_agree_with_metricflow(demo_warehouse: Path) -> None:
    """Per sprint (the `team_sprint` entity) and, for the organisation-wide product metrics, per day."""
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        sprints = con.execute("select team || '/' || sprint_key, planning_accuracy, scope_creep_issues, "
                              "predictability_stddev from marts.planning_sprint_outcomes").fetchall()
        product = con.execute("select metric, cast(metric_date as varchar), value "
                              "from marts.product_metric_daily").fetchall()
    _, frame = query(demo_warehouse, ["planning_accuracy", "scope_creep", "predictability"], ["team_sprint"])
    answered = {row.team_sprint: row for row in frame.itertuples(index=False)}
    assert len(sprints) >= 3
    for sprint, accuracy, creep, spread in sprints:
        row = answered[sprint]
        assert _disagreements({"a": accuracy, "c": creep, "s": spread},
                              {"a": row.planning_accuracy, "c": row.scope_creep, "s": row.predictability}) == []
    for metric in ("errors_per_user", "page_views_per_user", "p75_page_load_ms"):
        expected = {("org", day): value for name, day, value in product if name == metric}
        _, frame = query(demo_warehouse, [metric], ["metric_time__day"])
        answered_days = {("org", str(pd.Timestamp(row.metric_time__day).date())): getattr(row, metric)
                         for row in frame.itertuples(index=False)}
        assert expected and _disagreements(expected, answered_days) == [], metric


def test_metrics_team_daily_agrees_with_metricflow(demo_warehouse: Path) -> None:
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        daily = con.execute("select metric, team, cast(metric_date as varchar), value "
                            "from marts.metrics_team_daily").fetchall()
    by_metric: dict[str, dict] = {}
    for metric, team, day, value in daily:
        by_metric.setdefault(metric, {})[(team, day)] = value
    assert {"lead_time", "deployment_frequency", "change_failure_rate",
            "payments_api_prs_merged_without_review"} <= set(by_metric)
    for metric, values in sorted(by_metric.items()):
        assert _disagreements(values, _metricflow(demo_warehouse, metric, "day")) == [], metric


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_metrics_query_reads_the_published_file_read_only(demo_warehouse: Path, tmp_path: Path) -> None:
    """The CLI answers from a published file that a reader holds open (a writer would be refused its lock), leaves
    it byte for byte as it was, and the nightly's publish (an atomic rename over it) still goes through after."""
    published = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, published)
    before = _digest(published)
    environment = {**os.environ, "YARDSTICK_WAREHOUSE": str(published)}
    command = [sys.executable, "-m", "yardstick.cli", "metrics", "query", "--metrics", "lead_time,deployment_frequency",
               "--group-by", "team,metric_time__week", "--order", "metric_time__week", "--limit", "50"]
    with duckdb.connect(str(published), read_only=True) as reader:
        answer = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=tmp_path, timeout=600)
        assert reader.execute("select count(*) from marts.fct_changes").fetchone()[0] > 0
    assert answer.returncode == 0, answer.stderr
    assert "metric_time__week" in answer.stdout and "lead_time" in answer.stdout and "payments" in answer.stdout
    assert _digest(published) == before
    replacement = tmp_path / "warehouse.duckdb.building"
    shutil.copy(demo_warehouse, replacement)
    os.replace(replacement, published)  # what publish does; nothing holds the file
    _, frame = query(published, ["deployment_frequency"], ["team"])
    assert set(frame["team"]) >= {"payments"}
