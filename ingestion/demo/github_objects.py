"""The GitHub simulator's shared objects: users, organisations, repositories and commit items, shaped like
GitHub's REST v3 payloads (`github_api` renders whole repositories from them)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ingestion.demo.facts import (
    _WEB_FLOW,
    Json,
    _Commit,
    _hash_int,
    _Ids,
    _is_bot,
    _Person,
    iso,
    node_id,
    person_of,
    sha1,
)

if TYPE_CHECKING:
    from ingestion.demo.org import OrgBuilder

GITHUB_API = "https://api.github.com"
GITHUB_WEB = "https://github.com"


class GitHubObjects:
    """Ids and payload pieces of one organisation's GitHub; `GitHubRenderer` builds on it."""

    def __init__(self, b: OrgBuilder) -> None:
        self.b = b
        self.owner = b.owner
        self.branch = b.default_branch
        pr_ids = _Ids(1)
        self.pull_ids = {
            p.seq: pr_ids.take(p.opened_at)
            for p in sorted(b._pulls, key=lambda p: (p.opened_at, p.repo, p.seq))
        }
        review_ids = _Ids(1)
        reviews = sorted((at, p.seq, i) for p in b._pulls for i, (_, _, at) in enumerate(p.reviews))
        self.review_ids = {(seq, i): review_ids.take(at) for at, seq, i in reviews}
        # deployment status ids are unique across the organisation, as GitHub's are (not per repository)
        status_ids = _Ids(2, 1)
        statuses = sorted((at, d.deployment_id, i) for d in b._deploys
                          for i, (_, at) in enumerate(sorted(d.statuses, key=lambda s: s[1])))
        self.status_ids = {(deployment_id, i): status_ids.take(at) for at, deployment_id, i in statuses}

    def user_id(self, login: str) -> int:
        if login == "web-flow":
            return _WEB_FLOW["id"]
        return 1_000_000 + _hash_int("user", login, span=90_000_000)

    def user(self, login: str) -> Json:
        uid = self.user_id(login)
        quoted = login.replace("[", "%5B").replace("]", "%5D")
        url = f"{GITHUB_API}/users/{quoted}"
        return {
            "login": login,
            "id": uid,
            "node_id": node_id("User" if not _is_bot(login) else "Bot", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{GITHUB_WEB}/{login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": "Bot" if _is_bot(login) else "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def org_user(self, owner: str) -> Json:
        obj = self.user(owner)
        oid = 9_000_000 + _hash_int("org", owner, span=1_000_000)
        obj.update(
            id=oid,
            node_id=node_id("Organization", oid),
            type="Organization",
            avatar_url=f"https://avatars.githubusercontent.com/u/{oid}?v=4",
        )
        return obj

    def person(self, login: str) -> _Person:
        return person_of(self.b._people, login)

    def repo_id(self, full: str) -> int:
        return 500_000_000 + _hash_int("repo", full, span=400_000_000)

    def repo_min(self, full: str) -> Json:
        owner, name = full.split("/", 1)
        rid = self.repo_id(full)
        api = f"{GITHUB_API}/repos/{full}"
        return {
            "id": rid,
            "node_id": node_id("Repository", rid),
            "name": name,
            "full_name": full,
            "private": True,
            "owner": self.org_user(owner),
            "html_url": f"{GITHUB_WEB}/{full}",
            "description": f"{name} service",
            "fork": False,
            "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "assignees_url": f"{api}/assignees{{/user}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "comments_url": f"{api}/comments{{/number}}",
            "commits_url": f"{api}/commits{{/sha}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "contributors_url": f"{api}/contributors",
            "deployments_url": f"{api}/deployments",
            "downloads_url": f"{api}/downloads",
            "events_url": f"{api}/events",
            "forks_url": f"{api}/forks",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "hooks_url": f"{api}/hooks",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "issues_url": f"{api}/issues{{/number}}",
            "keys_url": f"{api}/keys{{/key_id}}",
            "labels_url": f"{api}/labels{{/name}}",
            "languages_url": f"{api}/languages",
            "merges_url": f"{api}/merges",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "releases_url": f"{api}/releases{{/id}}",
            "stargazers_url": f"{api}/stargazers",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "tags_url": f"{api}/tags",
            "teams_url": f"{api}/teams",
            "trees_url": f"{api}/git/trees{{/sha}}",
        }

    def repo_full(
        self, full: str, created: datetime, updated: datetime, pushed: datetime, open_issues: int
    ) -> Json:
        obj = self.repo_min(full)
        obj.update(
            {
                "created_at": iso(created),
                "updated_at": iso(updated),
                "pushed_at": iso(pushed),
                "git_url": f"git://github.com/{full}.git",
                "ssh_url": f"git@github.com:{full}.git",
                "clone_url": f"{GITHUB_WEB}/{full}.git",
                "svn_url": f"{GITHUB_WEB}/{full}",
                "homepage": None,
                "size": 1000 + _hash_int("size", full, span=50_000),
                "stargazers_count": 0,
                "watchers_count": 0,
                "language": "Python" if full.endswith("-api") else "TypeScript",
                "has_issues": True,
                "has_projects": True,
                "has_downloads": True,
                "has_wiki": False,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": False,
                "disabled": False,
                "open_issues_count": open_issues,
                "license": None,
                "allow_forking": False,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": [],
                "visibility": "private",
                "forks": 0,
                "open_issues": open_issues,
                "watchers": 0,
                "default_branch": self.branch,
            }
        )
        return obj

    # -- GitHub --------------------------------------------------------------------------------

    def commit_item(self, full: str, c: _Commit) -> Json:
        api = f"{GITHUB_API}/repos/{full}"
        author, committer = self.person(c.author), self.person(c.committer)
        verified = c.committer == "web-flow"
        return {
            "sha": c.sha,
            "node_id": node_id("Commit", f"{self.repo_id(full)}:{c.sha}"),
            "commit": {
                "author": {"name": author.name, "email": author.email, "date": iso(c.at)},
                "committer": {"name": committer.name, "email": committer.email, "date": iso(c.at)},
                "message": c.message,
                "tree": {"sha": sha1("tree", c.sha), "url": f"{api}/git/trees/{sha1('tree', c.sha)}"},
                "url": f"{api}/git/commits/{c.sha}",
                "comment_count": 0,
                "verification": {
                    "verified": verified,
                    "reason": "valid" if verified else "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": iso(c.at) if verified else None,
                },
            },
            "url": f"{api}/commits/{c.sha}",
            "html_url": f"{GITHUB_WEB}/{full}/commit/{c.sha}",
            "comments_url": f"{api}/commits/{c.sha}/comments",
            "author": self.user(c.author),
            "committer": self.user(c.committer),
            "parents": [
                {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{GITHUB_WEB}/{full}/commit/{p}"}
                for p in c.parents
            ],
        }
