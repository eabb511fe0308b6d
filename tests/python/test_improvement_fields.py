"""What an improvement action needs from the trackers reaches the raw layer (issue 17): Jira's `duedate`, labels
and assignee; a GitHub issue's labels, assignee and its milestone's `due_on` — through the REST and the GraphQL
shape of an issue. (That they become `goals_actions` rows is a dbt unit test, tracker_issues_become_improvement_
actions, and the demo's end-to-end test, test_maturity_demo.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

from recorded import recorded_jira

from ingestion.sources import github, jira
from ingestion.sources.github_graphql import _issue
from ingestion.sources.projection import project


def test_jira_issues_carry_their_due_date_labels_and_assignee() -> None:
    assert "duedate" in jira.ISSUE_FIELDS  # the enhanced search returns only the fields it is asked for
    recorded = recorded_jira().issues[0]  # a real Jira Cloud issue: labels frontEnd, Saas
    row = project(recorded, jira.ISSUE, source="jira", endpoint="search")
    assert row["labels"] == "frontEnd Saas"
    assert row["due_date"] == recorded["fields"].get("duedate")  # this recording sets none
    dated = {**recorded, "fields": {**recorded["fields"], "duedate": "2026-11-30", "labels": ["improvement",
                                                                                            "goal:pay-lead"]}}
    row = project(dated, jira.ISSUE, source="jira", endpoint="search")
    assert (row["due_date"], row["labels"]) == ("2026-11-30", "improvement goal:pay-lead")
    assert row["assignee_account_id"] == (recorded["fields"].get("assignee") or {}).get("accountId")


# GitHub's documented issue shape (REST "List repository issues"), trimmed to what the source reads
REST_ISSUE = {
    "id": 1, "number": 1347, "title": "Found a bug", "body": "I'm having a problem with this.", "state": "open",
    "state_reason": None, "user": {"login": "octocat"}, "assignee": {"login": "octocat"},
    "labels": [{"name": "improvement"}, {"name": "goal:pay-lead"}],
    "milestone": {"title": "v1.0", "due_on": "2012-10-09T23:39:01Z"},
    "created_at": "2011-04-22T13:33:48Z", "updated_at": "2011-04-22T13:33:48Z", "closed_at": None,
}


def test_github_issues_carry_labels_assignee_and_their_milestones_due_date() -> None:
    rest = project(github._with_label_names(REST_ISSUE), github.ISSUE, source="github", endpoint="issues")
    assert (rest["label_names"], rest["assignee_login"]) == ("improvement,goal:pay-lead", "octocat")
    assert rest["milestone_due_on"] == datetime(2012, 10, 9, 23, 39, 1, tzinfo=UTC)
    node = {"fullDatabaseId": "1", "number": 1347, "title": "Found a bug", "state": "OPEN",
            "author": {"login": "octocat"}, "assignees": {"nodes": [{"login": "octocat"}]},
            "labels": {"nodes": [{"name": "improvement"}, {"name": "goal:pay-lead"}]},
            "milestone": {"title": "v1.0", "dueOn": "2012-10-09T23:39:01Z"},
            "createdAt": "2011-04-22T13:33:48Z", "updatedAt": "2011-04-22T13:33:48Z", "closedAt": None}
    graphql = project(_issue(node), github.ISSUE, source="github", endpoint="graphql")
    assert {k: graphql[k] for k in ("label_names", "assignee_login", "milestone_due_on")} == {
        k: rest[k] for k in ("label_names", "assignee_login", "milestone_due_on")}
    no_milestone = project({**REST_ISSUE, "milestone": None}, github.ISSUE, source="github", endpoint="issues")
    assert no_milestone["milestone_due_on"] is None
