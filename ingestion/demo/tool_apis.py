"""Routes of the replay server for the tools beyond GitHub and PagerDuty (and GitHub Copilot's usage reports), one
module per tool; the server hands every request under one of these prefixes to :func:`handle`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingestion.demo import copilot_api, gitlab_api, jenkins_api, jira_api

PREFIXES = ("jira", "gitlab", "jenkins", "copilot")


def handle(prefix: str, org: Any, method: str, path: str, query: dict[str, list[str]],
           headers: Mapping[str, str]) -> tuple[int, Any, dict[str, str]]:
    """(status, JSON body or text, headers) for one request."""
    if prefix == "jira":
        return jira_api.handle(getattr(org, "jira", None), method, path, query, headers.get("Authorization"))
    if prefix == "gitlab":
        return gitlab_api.handle(getattr(org, "gitlab", None), method, path, query, headers)
    if prefix == "jenkins":
        return jenkins_api.handle(getattr(org, "jenkins", None), method, path, query, headers.get("Authorization"))
    if prefix == "copilot":
        return copilot_api.handle(getattr(org, "copilot", None), method, path, query, headers)
    return 404, {"message": "Not Found"}, {}
