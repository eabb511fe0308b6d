"""Quality gates run from Python with Great Expectations (no GX server): one suite on the raw tables after
ingest, one on the DORA marts after the build. A failing gate stops the publish and names the check, the
table and the failing rows.

GX's pandas datasource reads frames we take from DuckDB: its SQL datasource on DuckDB (duckdb_engine)
silently fails every expectation, so it is not used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from yardstick.errors import QualityGateFailed

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

DORA_TIERS = ["elite", "high", "medium", "low"]


@dataclass(frozen=True)
class Check:
    """One expectation: a GX expectation class name and its arguments."""

    expectation: str
    kwargs: Mapping[str, Any]


def unique(*columns: str) -> Check:
    if len(columns) == 1:
        return Check("ExpectColumnValuesToBeUnique", {"column": columns[0]})
    return Check("ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)})


def not_null(column: str) -> Check:
    return Check("ExpectColumnValuesToNotBeNull", {"column": column})


def in_set(column: str, values: Sequence[Any]) -> Check:
    return Check("ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values)})


def between(column: str, low: float | None, high: float | None) -> Check:
    return Check("ExpectColumnValuesToBeBetween", {"column": column, "min_value": low, "max_value": high})


def at_least(column_a: str, column_b: str) -> Check:
    """column_a >= column_b wherever both are present."""
    return Check("ExpectColumnPairValuesAToBeGreaterThanB", {
        "column_A": column_a, "column_B": column_b, "or_equal": True, "ignore_row_if": "either_value_is_missing",
    })


# table → (key columns used to name failing rows, checks)
Suite = Mapping[str, tuple[Sequence[str], Sequence[Check]]]

RAW_SUITE: Suite = {
    "raw_github.pull_requests": (["id"], [
        unique("id"), not_null("repository"), not_null("number"), not_null("created_at"),
        in_set("state", ["open", "closed"]), at_least("merged_at", "created_at"),
    ]),
    "raw_github.pull_request_commits": (["repository", "pull_request_number", "sha"], [
        unique("repository", "pull_request_number", "sha"), not_null("sha"),
    ]),
    "raw_github.pull_request_reviews": (["id"], [unique("id"), not_null("pull_request_number")]),
    "raw_github.commits": (["repository", "sha"], [unique("repository", "sha"), not_null("committed_at")]),
    "raw_github.deployments": (["id"], [unique("id"), not_null("sha"), not_null("environment")]),
    "raw_github.deployment_statuses": (["id"], [
        unique("id"), not_null("deployment_id"),
        in_set("state", ["error", "failure", "inactive", "in_progress", "queued", "pending", "success"]),
    ]),
    "raw_github_actions.workflow_runs": (["id"], [unique("id"), not_null("head_sha"), not_null("created_at")]),
    "raw_pagerduty.incidents": (["id"], [
        unique("id"), not_null("created_at"), in_set("status", ["triggered", "acknowledged", "resolved"]),
        at_least("resolved_at", "created_at"),
    ]),
    "raw_pagerduty.log_entries": (["id"], [unique("id"), not_null("incident_id"), not_null("created_at")]),
    "raw_jira.issues": (["key"], [
        unique("id"), unique("key"), not_null("created_at"), at_least("updated_at", "created_at"),
        in_set("status_category_key", ["new", "indeterminate", "done", "undefined"]),
    ]),
    "raw_jira.issue_changelog_items": (["issue_id", "history_id", "item_index"], [
        unique("issue_id", "history_id", "item_index"), not_null("field"), not_null("created_at"),
    ]),
    "raw_jira.statuses": (["id"], [unique("id"), in_set("category_key", ["new", "indeterminate", "done", "undefined"])]),
    "raw_jira.sprints": (["id"], [unique("id"), in_set("state", ["future", "active", "closed"])]),
    "raw_gitlab.merge_requests": (["id"], [
        unique("id"), unique("project", "iid"), in_set("state", ["opened", "closed", "merged", "locked"]),
        at_least("merged_at", "created_at"),
    ]),
    "raw_gitlab.merge_request_commits": (["project", "merge_request_iid", "sha"], [
        unique("project", "merge_request_iid", "sha"), not_null("sha"),
    ]),
    "raw_gitlab.merge_request_notes": (["id"], [unique("id"), not_null("created_at")]),
    "raw_gitlab.pipelines": (["id"], [unique("id"), not_null("sha"), not_null("status")]),
    "raw_gitlab.jobs": (["id"], [unique("id"), not_null("pipeline_id")]),
    "raw_gitlab.deployments": (["id"], [unique("id"), not_null("sha"), not_null("environment")]),
    "raw_jenkins.builds": (["id"], [
        unique("id"), unique("job", "number"), not_null("started_at"), between("duration_ms", 0, None),
        in_set("result", ["SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED"]),
    ]),
    # events are append-only: a redelivered message_id / event_id is expected here and deduplicated in staging
    "raw_events.segment_events": (["source_file", "source_line"], [
        not_null("message_id"), in_set("type", ["page", "track", "identify", "screen", "group", "alias"]),
        unique("source_file", "source_line"),
    ]),
    "raw_events.snowplow_events": (["source_file", "source_line"], [
        not_null("event_id"), not_null("collector_tstamp"), unique("source_file", "source_line"),
    ]),
}

_DORA_MEASURES = [
    between("deployments", 0, None), between("change_failure_rate", 0, 1), between("rework_rate", 0, 1),
    between("lead_time_median_hours", 0, None), at_least("lead_time_p75_hours", "lead_time_median_hours"),
    between("recovery_median_hours", 0, None),
    in_set("deployment_frequency_tier", DORA_TIERS), in_set("lead_time_tier", DORA_TIERS),
    in_set("change_failure_rate_tier", DORA_TIERS), in_set("recovery_time_tier", DORA_TIERS),
]

MART_SUITE: Suite = {
    "marts.dora_team_weekly": (["team", "week_start"], [
        unique("team", "week_start"), not_null("team"), between("deployment_days", 0, 7), *_DORA_MEASURES,
    ]),
    "marts.dora_team_monthly": (["team", "month_start"], [
        unique("team", "month_start"), not_null("team"), between("deployment_days", 0, 31), *_DORA_MEASURES,
    ]),
    "marts.dora_org_monthly": (["month_start"], [
        unique("month_start"), between("deployment_days", 0, 31), *_DORA_MEASURES,
    ]),
    "marts.product_funnel_daily": (["funnel", "cohort_date", "step"], [
        unique("funnel", "cohort_date", "step"), between("step_conversion", 0, 1), between("overall_conversion", 0, 1),
        at_least("units_at_previous_step", "units_reached"), between("drop_off_units", 0, None),
    ]),
    "marts.product_metric_segments_daily": (["metric", "metric_date", "dimension", "segment"], [
        between("share_of_users", 0, 1),
    ]),
    "marts.fct_changes": (["pull_request_key"], [
        unique("pull_request_key"), not_null("merged_at"), between("lead_time_hours", 0, None),
        between("coding_hours", 0, None), between("pickup_hours", 0, None), between("review_hours", 0, None),
        between("deploy_hours", 0, None),
    ]),
    "marts.fct_deployments": (["deployment_id"], [unique("deployment_id"), between("change_count", 0, None)]),
    "marts.fct_incidents": (["incident_id"], [
        unique("incident_id"), not_null("started_at"), between("hours_to_restore", 0, None),
    ]),
    "marts.fct_builds": (["build_key"], [
        unique("build_key"), not_null("team"), between("duration_minutes", 0, None),
        in_set("status", ["success", "failure", "cancelled", "skipped", "in_progress"]),
    ]),
    "marts.quality_team_monthly": (["team", "month"], [
        unique("team", "month"), not_null("team"), between("build_success_rate", 0, 1),
        between("bug_reopen_rate", 0, None), at_least("build_duration_p90_minutes", "build_duration_p50_minutes"),
        at_least("builds", "successful_builds"), at_least("incidents", "incidents_attributed"),
    ]),
    "marts.quality_link_coverage": (["team", "month"], [
        unique("team", "month"), not_null("team"), between("pr_issue_link_share", 0, 1),
        between("pr_deployment_link_share", 0, 1), between("deployment_change_share", 0, 1),
        between("incident_attribution_share", 0, 1),
    ]),
    "marts.planning_sprint_outcomes": (["sprint_key", "team"], [
        unique("sprint_key", "team"), not_null("sprint_start_at"), between("planning_accuracy", 0, 1),
        between("scope_creep_issues", 0, None), at_least("committed_issues", "completed_committed_issues"),
    ]),
    "marts.planning_issue_cycle_time": (["issue_key"], [
        unique("issue_key"), not_null("done_at"), between("cycle_time_hours", 0, None),
    ]),
    "marts.planning_investment_monthly": (["team", "month_start", "category"], [
        unique("team", "month_start", "category"), between("issue_share", 0, 1), between("points_share", 0, 1),
    ]),
}


@dataclass(frozen=True)
class Failure:
    table: str
    check: str
    unexpected_count: int
    sample: list[Any]

    def __str__(self) -> str:
        return f"{self.check} on {self.table}: {self.unexpected_count} failing row(s), e.g. {self.sample}"


def run_gate(name: str, warehouse: Path, suite: Suite) -> list[Failure]:
    """Validate every table of the suite present in the warehouse; return the failures (empty = pass)."""
    import great_expectations as gx  # heavy import, only when a gate runs

    for logger_name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")]:
        logging.getLogger(logger_name).setLevel(logging.WARNING)  # GX sets INFO on some of its loggers

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    source = context.data_sources.add_pandas(name)
    failures: list[Failure] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, (keys, checks) in suite.items():
            frame = con.sql(f"select * from {table}").df()
            asset = source.add_dataframe_asset(name=table)
            batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
                batch_parameters={"dataframe": frame})
            expectation_suite = gx.ExpectationSuite(name=f"{name}.{table}")
            for check in checks:
                expectation_suite.add_expectation(getattr(gx.expectations, check.expectation)(**check.kwargs))
            result = batch.validate(expectation_suite, result_format={
                "result_format": "COMPLETE", "unexpected_index_column_names": list(keys)})
            for outcome in result.results:
                if not outcome.success:
                    config = outcome.expectation_config
                    check = ", ".join(f"{k}={v}" for k, v in config.kwargs.items()
                                      if k not in ("batch_id", "ignore_row_if", "or_equal"))
                    found = outcome.result or {}
                    sample = [_plain(row, keys) for row in (found.get("unexpected_index_list") or [])[:5]]
                    if outcome.exception_info and outcome.exception_info.get("raised_exception"):
                        sample = [outcome.exception_info.get("exception_message")]
                    failures.append(Failure(table, f"{config.type}({check})",
                                            int(found.get("unexpected_count") or 0), sample))
    return failures


def enforce(name: str, warehouse: Path, suite: Suite) -> None:
    """Run a gate and raise QualityGateFailed listing every failing check, table and sample of rows."""
    failures = run_gate(name, warehouse, suite)
    if failures:
        details = "; ".join(str(f) for f in failures)
        raise QualityGateFailed(f"{name} quality gate failed: {details}")


def _plain(row: Any, keys: Sequence[str]) -> Any:
    """A failing row for people: key columns first, plain Python values, timestamps as ISO text."""
    if not isinstance(row, Mapping):
        return row
    ordered = [k for k in keys if k in row] + [k for k in row if k not in keys]
    return {k: _value(row[k]) for k in ordered}


def _value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
