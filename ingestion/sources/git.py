"""Local git repositories into `raw_git`: the commits reachable from each repository's HEAD (`git log`) and its
tags (`git for-each-ref refs/tags`), read with the real `git` binary.

A repository is named like the hosting tool names it, so its commits meet the same commits loaded from an API:
the `owner/name` path of its `origin` remote (`git@github.com:acme/api.git` → `acme/api`), else the directory
name. Merge subjects that name a pull request — GitHub's "Merge pull request #12 from …" and squash merges'
"Title (#12)", GitLab's "See merge request group/name!12" — fill `pull_request_number`.

Incremental: the first sync reads history committed since `start_date`; later syncs read the commits added
since the HEAD seen last time (`<last head>..HEAD`, so a merged branch's older commits are not missed), or —
when that commit is gone (history rewritten) — those committed since the stored cursor. Tags are re-read each
sync (merge on repository and name).

Config: `sources.git.repositories` (JSON list of local paths to clones), `sources.git.start_date`. No secrets.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource

from ingestion.errors import SourceError
from ingestion.sources.cursors import Cursors
from ingestion.sources.projection import TableSpec, fields, project_rows, table_hints
from ingestion.timestamps import isoformat_z, start_date_from

COMMIT_FORMAT = "%x1e%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%s%x00%b"
COMMIT_KEYS = ("sha", "parent_shas", "author_name", "author_email", "authored_at", "committer_name",
               "committer_email", "committed_at", "subject", "body")
TAG_FORMAT = "%(refname:short)%00%(objectname)%00%(*objectname)%00%(creatordate:iso-strict)%00%(contents:subject)"
PULL_REQUEST_SUBJECT = re.compile(r"^Merge pull request #(\d+) |\(#(\d+)\)\s*$")
MERGE_REQUEST_BODY = re.compile(r"See merge request [^\s!]+!(\d+)")
REMOTE_PATH = re.compile(r"(?:[:/])([^/:]+/[^/]+?)(?:\.git)?/?$")

REPO = fields(("repository", "repository", "text", True))
COMMIT = fields(
    ("sha", "sha", "text", True), ("parent_shas", "parent_shas"), ("author_name", "author_name"),
    ("author_email", "author_email"), ("authored_at", "authored_at", "timestamp", True),
    ("committer_name", "committer_name"), ("committer_email", "committer_email"),
    ("committed_at", "committed_at", "timestamp", True), ("subject", "subject"), ("body", "body"),
    ("pull_request_number", "pull_request_number", "bigint"),
)
TAG = fields(
    ("name", "name", "text", True), ("sha", "sha", "text", True), ("is_annotated", "is_annotated", "bool"),
    ("tagged_at", "tagged_at", "timestamp"), ("subject", "subject"),
)

TABLES: dict[str, dict[str, TableSpec]] = {
    "raw_git": {
        "commits": (REPO + COMMIT, ("repository", "sha")),
        "tags": (REPO + TAG, ("repository", "name")),
    },
}


def git(path: str, *args: str) -> str:
    """Run one git command in `path`; a failure is a one-line SourceError naming the path."""
    try:
        done = subprocess.run(["git", "-C", path, *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SourceError("git: the `git` program is not installed") from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[:200]
        raise SourceError(f"git: {path}: git {args[0]} failed: {detail}")
    return done.stdout


def check_repository(path: str) -> None:
    if not Path(path).is_dir():
        raise SourceError(f"git: {path} is not a directory (SOURCES__GIT__REPOSITORIES lists local clones)")
    done = subprocess.run(["git", "-C", path, "rev-parse", "--git-dir"], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SourceError(f"git: {path} is not a git repository")


def repository_name(path: str) -> str:
    """The `owner/name` of the origin remote, else the directory's name."""
    remote = subprocess.run(["git", "-C", path, "remote", "get-url", "origin"], capture_output=True, text=True,
                            check=False).stdout.strip()
    match = REMOTE_PATH.search(remote) if remote else None
    return match.group(1) if match else Path(path).resolve().name


def pull_request_number(subject: str, body: str) -> int | None:
    """The pull / merge request a merge or squash commit names, if any."""
    match = PULL_REQUEST_SUBJECT.search(subject)
    if match:
        return int(match.group(1) or match.group(2))
    match = MERGE_REQUEST_BODY.search(body)
    return int(match.group(1)) if match else None


def parse_log(output: str) -> list[dict[str, Any]]:
    """`git log --format=COMMIT_FORMAT` output → one dict per commit (records start with \\x1e, fields are
    NUL-separated, so subjects and bodies may hold any text)."""
    records = []
    for chunk in output.split("\x1e"):
        if not chunk.strip():
            continue
        values = chunk.split("\x00")
        if len(values) != len(COMMIT_KEYS):
            raise SourceError(f"git: unexpected git log record ({len(values)} fields): {chunk[:80]!r}")
        record = dict(zip(COMMIT_KEYS, values, strict=True))
        record["body"] = record["body"].strip() or None
        record["pull_request_number"] = pull_request_number(record["subject"], record["body"] or "")
        records.append(record)
    return records


def parse_tags(output: str) -> list[dict[str, Any]]:
    tags = []
    for line in output.splitlines():
        if not line:
            continue
        name, target, peeled, created, subject = line.split("\x00")
        tags.append({"name": name, "sha": peeled or target, "is_annotated": bool(peeled),
                     "tagged_at": created or None, "subject": subject or None})
    return tags


def head(path: str) -> str | None:
    done = subprocess.run(["git", "-C", path, "rev-parse", "--verify", "--quiet", "HEAD"], capture_output=True,
                          text=True, check=False)
    return done.stdout.strip() or None


def has_commit(path: str, sha: str) -> bool:
    return subprocess.run(["git", "-C", path, "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True,
                          check=False).returncode == 0


@dlt.source(name="git", section="git", max_table_nesting=0)
def git_source(
    repositories: list[str] = dlt.config.value,
    start_date: str | None = None,
    full_refresh: bool = False,
) -> Sequence[DltResource]:
    """Commits reachable from HEAD and tags of local git repositories."""
    start = start_date_from(start_date)
    for path in repositories:
        check_repository(path)
    raw = TABLES["raw_git"]

    @dlt.resource(name="commits", **table_hints(raw["commits"]))
    def commits() -> Iterator[list[dict]]:
        cursors = Cursors(start, full_refresh=full_refresh)
        heads: dict[str, str] = dlt.current.resource_state().setdefault("heads", {})
        for path in repositories:
            name = repository_name(path)
            current = head(path)
            if current is None:  # a repository with no commit yet
                continue
            last = None if full_refresh else heads.get(name)
            if last and has_commit(path, last):
                revisions = [f"{last}..{current}"]
            else:
                revisions = [current, f"--since={isoformat_z(cursors.start(name))}"]
            output = git(path, "log", "--date-order", f"--format={COMMIT_FORMAT}", *revisions)
            rows = project_rows(parse_log(output), COMMIT, source="git", endpoint=f"{path}: git log", table="commits",
                                id_path="sha", extra={"repository": name})
            rows = [row for row in rows if row["committed_at"] >= start]
            yield rows
            cursors.advance(name, (row["committed_at"] for row in rows))
            heads[name] = current

    @dlt.resource(name="tags", **table_hints(raw["tags"]))
    def tags() -> Iterator[list[dict]]:
        for path in repositories:
            name = repository_name(path)
            output = git(path, "for-each-ref", "refs/tags", f"--format={TAG_FORMAT}")
            yield project_rows(parse_tags(output), TAG, source="git", endpoint=f"{path}: git for-each-ref refs/tags",
                               table="tags", id_path="name", extra={"repository": name})

    return commits, tags
