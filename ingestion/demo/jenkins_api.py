"""Jenkins JSON API routes for the replay server, under the ``/jenkins`` prefix.

Serves ``/job/<a>/job/<b>/api/json``: a folder or multibranch project answers its child ``jobs``; a buildable job
answers ``allBuilds`` (newest first) cut to the ``{from,to}`` range at the end of the ``tree`` parameter, like
Jenkins does. Auth is basic (user + API token); errors are Jenkins' HTML pages.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

USER = "demo"
TOKEN = "demo-jenkins-token"
FOLDER = "com.cloudbees.hudson.plugins.folder.Folder"

Json = dict[str, Any]
Reply = tuple[int, Any, dict[str, str]]
_HTML = {"Content-Type": "text/html;charset=utf-8"}


@dataclass
class JenkinsData:
    """Jobs by full name (``folder/name``): builds newest first; a name with children is a folder."""

    builds: dict[str, list[Json]] = field(default_factory=dict)

    def children(self, name: str) -> list[str]:
        prefix = f"{name}/"
        return sorted({job[len(prefix):].split("/")[0] for job in self.builds if job.startswith(prefix)})


def _authorised(header: str | None) -> bool:
    scheme, _, value = (header or "").strip().partition(" ")
    try:
        return scheme.lower() == "basic" and base64.b64decode(value).decode() == f"{USER}:{TOKEN}"
    except ValueError:
        return False


def handle(data: JenkinsData | None, method: str, path: str, query: dict[str, list[str]],
           auth_header: str | None) -> Reply:
    if not _authorised(auth_header):
        return 401, "<html><body><h2>HTTP ERROR 401 Unauthorized</h2></body></html>", _HTML
    match = re.fullmatch(r"((?:/job/[^/]+)+)/api/json/?", path)
    if method not in ("GET", "HEAD") or not match:
        return 404, "<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>", _HTML
    name = "/".join(unquote(part) for part in match.group(1).split("/job/")[1:])
    data = data or JenkinsData()
    children = data.children(name)
    if children:
        return 200, {"_class": FOLDER, "jobs": [{"_class": "hudson.model.FreeStyleProject", "name": child,
                                                 "fullName": f"{name}/{child}"} for child in children]}, {}
    if name not in data.builds:
        return 404, "<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>", _HTML
    builds = data.builds[name]
    tree = (query.get("tree") or [""])[0]
    if (window := re.search(r"\{(\d*),(\d*)\}\s*$", tree)) is not None:
        low = int(window.group(1) or 0)
        high = int(window.group(2)) if window.group(2) else len(builds)
        builds = builds[low:high]
    if "jobs[" in tree and "allBuilds" not in tree:
        return 200, {"_class": "hudson.model.FreeStyleProject"}, {}
    return 200, {"_class": "hudson.model.FreeStyleProject", "allBuilds": builds}, {}


def source_settings(base_url: str, jobs: list[str], start: str) -> dict[str, str]:
    """Environment settings pointing the Jenkins source at a replay server's ``/jenkins`` prefix."""
    return {"SOURCES__JENKINS__BASE_URL": base_url, "SOURCES__JENKINS__JOBS": json.dumps(jobs),
            "SOURCES__JENKINS__USERNAME": USER, "SOURCES__JENKINS__API_TOKEN": TOKEN,
            "SOURCES__JENKINS__START_DATE": start}
