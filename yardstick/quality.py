"""Quality gates run from Python with Great Expectations (no GX server): one suite on the raw tables after
ingest (their contracts), one after the build reconciling marts with each other (what dbt's per-model tests
cannot see). A failing gate stops the publish and names the check, the
table and the failing rows.

GX's pandas datasource reads frames we take from DuckDB: its SQL datasource on DuckDB (duckdb_engine)
silently fails every expectation, so it is not used.
"""

from __future__ import annotations

import functools
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

# The mart gate: cross-table reconciliations dbt's per-model tests do not make. Each is a query over the marts
# with a `holds` column that is false (never NULL) on a row a wrong mart would produce; single-column checks
# (ranges, accepted values, uniqueness, not-null) are dbt tests in the marts' YAML and run in the same build.
HOLDS = [in_set("holds", [True])]


def _dora_reconciliation(mart: str, period: str, by_team: bool) -> str:
    """A DORA mart's deployments, failures and change failure rate against fct_deployments recomputed."""
    team, key = ("team, ", "team, ") if by_team else ("", "")
    return f"""
        with recomputed as (
            select {team}cast(date_trunc('{period}', deployed_at) as date) as {period}_start,
                count(*) as recomputed_deployments,
                count(*) filter (where is_failure) as recomputed_failed
            from marts.fct_deployments
            where is_production and status = 'success' and deployed_at is not null
            group by all
        )
        select {key}{period}_start, deployments, failed_deployments, change_failure_rate,
            recomputed_deployments, recomputed_failed,
            coalesce(deployments, 0) = coalesce(recomputed_deployments, 0)
                and coalesce(failed_deployments, 0) = coalesce(recomputed_failed, 0)
                and coalesce(
                    abs(change_failure_rate - recomputed_failed / recomputed_deployments) < 1e-9,
                    change_failure_rate is null and coalesce(recomputed_deployments, 0) = 0
                ) as holds
        from {mart}
        full join recomputed using ({key}{period}_start)"""


def _period_range(mart: str, period: str, keys: str) -> str:
    """Every period of a DORA mart lies between the first and the last period of the facts it counts."""
    return f"""
        with facts as (
            select deployed_at as fact_at from marts.fct_deployments
            union all select deployed_at from marts.fct_changes
            union all select started_at from marts.fct_incidents
        ),
        bounds as (
            select cast(date_trunc('{period}', min(fact_at)) as date) as first_period,
                cast(date_trunc('{period}', max(fact_at)) as date) as last_period
            from facts
        )
        select {keys}, first_period, last_period,
            coalesce({period}_start between first_period and last_period, false) as holds
        from {mart}
        cross join bounds"""


RECONCILIATIONS: Mapping[str, str] = {
    # stage hours add up to the lead time wherever every stage is measured (each span is NULL when negative)
    "stage hours sum to lead time": """
        select pull_request_key, lead_time_hours, coding_hours, pickup_hours, review_hours, deploy_hours,
            coalesce(abs(lead_time_hours - (coding_hours + pickup_hours + review_hours + deploy_hours)) <= 0.01,
                     false) as holds
        from marts.fct_changes
        where coding_hours is not null and pickup_hours is not null and review_hours is not null
            and deploy_hours is not null""",
    # a deployment's change_count is the number of changes fct_changes links to it
    "deployment change count equals linked changes": """
        with linked as (
            select deployment_id, count(*) as linked_changes
            from marts.fct_changes
            where deployment_id is not null
            group by deployment_id
        )
        select deployments.deployment_id, deployments.change_count, coalesce(linked.linked_changes, 0) as linked,
            coalesce(deployments.change_count = coalesce(linked.linked_changes, 0), false) as holds
        from marts.fct_deployments as deployments
        left join linked
            on deployments.deployment_id = linked.deployment_id""",
    "dora_team_weekly deployments and CFR recomputed": _dora_reconciliation("marts.dora_team_weekly", "week", True),
    "dora_team_monthly deployments and CFR recomputed": _dora_reconciliation("marts.dora_team_monthly", "month",
                                                                              True),
    "dora_org_monthly deployments and CFR recomputed": _dora_reconciliation("marts.dora_org_monthly", "month", False),
    "dora_team_weekly periods within the data": _period_range("marts.dora_team_weekly", "week", "team, week_start"),
    "dora_team_monthly periods within the data": _period_range("marts.dora_team_monthly", "month",
                                                               "team, month_start"),
    "dora_org_monthly periods within the data": _period_range("marts.dora_org_monthly", "month", "month_start"),
}

_RECONCILIATION_KEYS: Mapping[str, Sequence[str]] = {
    "stage hours sum to lead time": ["pull_request_key"],
    "deployment change count equals linked changes": ["deployment_id"],
    "dora_team_weekly deployments and CFR recomputed": ["team", "week_start"],
    "dora_team_monthly deployments and CFR recomputed": ["team", "month_start"],
    "dora_org_monthly deployments and CFR recomputed": ["month_start"],
    "dora_team_weekly periods within the data": ["team", "week_start"],
    "dora_team_monthly periods within the data": ["team", "month_start"],
    "dora_org_monthly periods within the data": ["month_start"],
}

MART_SUITE: Suite = {name: (_RECONCILIATION_KEYS[name], HOLDS) for name in RECONCILIATIONS}


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

    failures: list[Failure] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, (keys, checks) in suite.items():
            frame = con.sql(RECONCILIATIONS.get(table) or f"select * from {table}").df()
            # every check holds on no rows (a tool not configured, nothing to reconcile): GX's own answer
            # (test_quality_gates.py), without its cost
            if frame.empty:
                continue
            batch = _batch_definition(name, table).get_batch(batch_parameters={"dataframe": frame})
            expectation_suite = gx.ExpectationSuite(name=f"{name}.{table}")
            for check in checks:
                expectation_suite.add_expectation(getattr(gx.expectations, check.expectation)(**check.kwargs))
            # pass or fail first (a third cheaper than listing rows); a table that fails is validated again
            # for the failing rows people are shown
            if batch.validate(expectation_suite, result_format="BOOLEAN_ONLY").success:
                continue
            result = batch.validate(expectation_suite, result_format={
                "result_format": "COMPLETE", "unexpected_index_column_names": _shown(table, keys, frame)})
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


@functools.cache
def _batch_definition(gate: str, table: str) -> Any:
    """A table's GX batch definition (its frame is given per run), made once per process: GX's ephemeral
    context, its pandas datasource and the assets took a fifth of a small gate's time when made for every run."""
    return _datasource(gate).add_dataframe_asset(name=table).add_batch_definition_whole_dataframe("all")


@functools.cache
def _datasource(gate: str) -> Any:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context.data_sources.add_pandas(gate)


def _shown(table: str, keys: Sequence[str], frame: Any) -> list[str]:
    """Columns a failing row is shown with: its keys, and for a reconciliation every value it compared."""
    if table not in RECONCILIATIONS:
        return list(keys)
    return [*keys, *(c for c in frame.columns if c not in keys and c != "holds")]


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
