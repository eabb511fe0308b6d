"""A file-backed replay server: the payload files `bench/generate` wrote, served by the replay server's own
handler code (`ingestion.demo.server.ReplayServer`), counting every request.

Repositories are read from their files before the server is ready, as many as its LRU holds (CACHE_REPOS), and
the others when a request first names them, so a large organisation never sits in memory whole. `--before-cutoff`
serves the organisation as it was the evening before the last day (records born in the last day hidden): the first
full sync, then the nightly.

    python -m bench.serve DIR [--before-cutoff] --url-file F --requests-file F

It writes its base URL to `--url-file` once listening, and on SIGTERM the request counts per tool and
endpoint to `--requests-file`, then exits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from ingestion.demo.jira_api import JiraData
from ingestion.demo.org import Org
from ingestion.demo.pagerduty_api import PagerDutyData
from ingestion.demo.server import ReplayServer

# Repositories kept parsed (~85 MiB each at the generated sizes: 64 are ~5.3 GiB). The sources do not walk one
# repository at a time (bulk first pages span several, commit-parent lookups are pooled across them): with 8, a
# scale 1.0 sync (500 repositories) spent 80 % of the server's CPU parsing repository files (py-spy). At 0.1 the
# larger cache changes little: the server's CPU there is mostly graphql-core executing the queries.
CACHE_REPOS = int(os.environ.get("BENCH_SERVE_CACHE_REPOS", "64"))


def _lines(path: Path) -> Iterator[Any]:
    with open(path, "rb") as handle:
        for line in handle:
            yield orjson.loads(line)  # a third of the json module's time: a repository is ~85 MiB of lines


class FileRepos(Mapping[str, "FileRepo"]):
    """`Org.github` read lazily from `DIR/github/<owner>__<repo>/`, at most CACHE_REPOS in memory."""

    def __init__(self, root: Path, names: list[str], cutoff: str | None) -> None:
        self.root, self.names, self.cutoff = root, names, cutoff
        self._cache: OrderedDict[str, FileRepo] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> FileRepo:
        repo = self.get(name)
        if repo is None:
            raise KeyError(name)
        return repo

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if name not in self.names:
            return default
        with self._lock:
            if name in self._cache:
                self._cache.move_to_end(name)
                return self._cache[name]
            repo = self._load(name)
            self._cache[name] = repo
            while len(self._cache) > CACHE_REPOS:
                self._cache.popitem(last=False)
            return repo

    def preload(self) -> int:
        """Read the first CACHE_REPOS repositories' files now, before the server is ready: GitHub has its
        repositories at hand, and a sync's wall time should not include a fixture parsing files (~0.5 s a
        repository at the generated sizes, paid by the full sync and again by the nightly's fresh server: most of
        a 0.1 nightly's wall time). How many were read."""
        for name in self.names[:CACHE_REPOS]:
            repo = self[name]
            for attr in FILE_ATTRIBUTES:
                getattr(repo, attr)
        return min(len(self.names), CACHE_REPOS)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def _load(self, name: str) -> FileRepo:
        return FileRepo(name, self.root / "github" / name.replace("/", "__"), self.cutoff)


FILE_ATTRIBUTES = ("repository", "pulls", "pull_commits", "pull_reviews", "commits", "all_commits", "deployments",
                   "deployment_statuses", "workflow_runs")


class FileRepo:
    """One repository's `RepoData` attributes, each read from its own file on first use (a request for the
    workflow runs never parses the pull requests)."""

    def __init__(self, name: str, directory: Path, cutoff: str | None) -> None:
        self.full_name, self._dir, self._cutoff = name, directory, cutoff
        self._loaded: dict[str, Any] = {}

    def _keep(self, stamp: str) -> bool:
        return self._cutoff is None or stamp < self._cutoff

    def _read(self, attr: str) -> Any:
        d = self._dir
        if attr == "repository":
            return json.loads((d / "repository.json").read_text())
        if attr == "pulls":
            pulls = [p for p in _lines(d / "pulls.ndjson") if self._keep(p["created_at"])]
            for pull in pulls:  # every pull embeds the same repository twice: share one copy
                pull["head"]["repo"] = pull["base"]["repo"] = self.repository
            return pulls
        if attr in ("pull_commits", "pull_reviews"):
            return {x["number"]: x["items"] for x in _lines(d / f"{attr}.ndjson")}
        if attr == "commits":
            return [c for c in _lines(d / "commits.ndjson") if self._keep(c["commit"]["committer"]["date"])]
        if attr == "all_commits":
            return {c["sha"]: c for c in self.commits}
        if attr == "deployments":
            return [x for x in _lines(d / "deployments.ndjson") if self._keep(x["created_at"])]
        if attr == "deployment_statuses":
            return {x["deployment_id"]: x["items"] for x in _lines(d / "deployment_statuses.ndjson")}
        if attr == "workflow_runs":
            return [r for r in _lines(d / "workflow_runs.ndjson") if self._keep(r["created_at"])]
        # not generated (yet): the issues list then holds only the pull requests GitHub lists there too, and
        # runs have no jobs — the requests those endpoints cost are still made and counted
        if attr == "issues":
            return []
        if attr == "workflow_jobs":
            return {}
        raise AttributeError(attr)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        if attr not in self._loaded:
            self._loaded[attr] = self._read(attr)
        return self._loaded[attr]


def load_org(root: Path, *, before_cutoff: bool) -> Org:
    manifest = json.loads((root / "manifest.json").read_text())
    cutoff = manifest["cutoff"] if before_cutoff else None
    keep = (lambda stamp: stamp < cutoff) if cutoff else (lambda stamp: True)
    pd_dir, jira_dir = root / "pagerduty", root / "jira"
    pagerduty = PagerDutyData(
        services=json.loads((pd_dir / "services.json").read_text()),
        incidents=[i for i in _lines(pd_dir / "incidents.ndjson") if keep(i["created_at"])],
        log_entries=[e for e in _lines(pd_dir / "log_entries.ndjson") if keep(e["created_at"])],
        users=json.loads((pd_dir / "users.json").read_text()),
    )
    jira_cutoff = cutoff[:19] if cutoff else None  # Jira stamps: 2026-11-15T00:00:00.000+0000
    jira = JiraData(
        issues=[i for i in _lines(jira_dir / "issues.ndjson")
                if jira_cutoff is None or i["fields"]["created"][:19] < jira_cutoff],
        statuses=json.loads((jira_dir / "statuses.json").read_text()),
        boards=json.loads((jira_dir / "boards.json").read_text()),
        sprints={int(k): v for k, v in json.loads((jira_dir / "sprints.json").read_text()).items()},
    )
    return Org(github=FileRepos(root, manifest["repositories"], cutoff), pagerduty=pagerduty,  # type: ignore[arg-type]
               jira=jira)


POINTS = "points github graphql"  # not a request: the points GitHub's GraphQL queries cost (its own limit)
NOT_MODIFIED = "not modified (304, free) github"
SHAPE = "graphql shape "  # `graphql shape <connections> queries|points`: where the points go, per query shape


def endpoint(prefix: str, path: str) -> str:
    """A request's endpoint with ids elided: `github /repos/{owner}/{repo}/pulls/{n}/commits`."""
    path = re.sub(r"^/repos/[^/]+/[^/]+", "/repos/{owner}/{repo}", path)
    path = re.sub(r"/\d+(?=/|$)", "/{n}", path)
    path = re.sub(r"/(?:[A-Z][A-Z0-9]+|[A-Z]+-\d+)(?=/|$)", "/{id}", path)
    return f"{prefix} {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.serve")
    parser.add_argument("data", type=Path)
    parser.add_argument("--before-cutoff", action="store_true")
    parser.add_argument("--url-file", type=Path, required=True)
    parser.add_argument("--requests-file", type=Path, required=True)
    args = parser.parse_args(argv)
    org = load_org(args.data, before_cutoff=args.before_cutoff)
    began = time.perf_counter()
    read = org.github.preload()  # type: ignore[attr-defined]
    print(f"read {read} repositories' files in {time.perf_counter() - began:.1f} s before serving", flush=True)
    server = ReplayServer(org, rate_limit=10**9).start()  # count requests; never throttle the benchmark
    server.graphql_budget.limit = 10**9
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    args.url_file.write_text(json.dumps({"url": server.url, "github": server.github_url,
                                         "pagerduty": server.pagerduty_url, "github_token": server.github_token,
                                         "pagerduty_token": server.pagerduty_token}))
    done.wait()
    # a 304 (If-None-Match matched) is not counted against GitHub's limit: listed apart, as NOT_MODIFIED
    counts = Counter(endpoint(r.prefix, r.path) for r in server.requests if r.status != 304)
    counts[NOT_MODIFIED] = sum(1 for r in server.requests if r.status == 304)
    counts[POINTS] = server.graphql_budget.used  # GitHub GraphQL points (rateLimit.cost) the queries cost
    for shape, (queries, points) in server.graphql_budget.by_shape.items():
        counts[f"{SHAPE}{shape} queries"], counts[f"{SHAPE}{shape} points"] = queries, points
    server.stop()
    args.requests_file.write_text(json.dumps(dict(sorted(counts.items())), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
