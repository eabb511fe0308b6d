"""Real Jenkins `allBuilds` bodies (tests/fixtures/jenkins, see NOTICE.md) served by the replay server, ingested
by the real Jenkins source (folders and multibranch projects followed, builds paged by `{from,to}` ranges) and
built into `int_builds` and, for jobs matching `deployment_pattern`, `int_deployments`."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from quarantine import rejected
from recorded import recorded_jenkins

from ingestion.demo import jenkins_api
from ingestion.demo.jenkins_api import JenkinsData
from ingestion.demo.org import Org
from ingestion.demo.pagerduty_api import PagerDutyData
from ingestion.demo.server import ReplayServer
from ingestion.errors import SourceError, TokenRejected
from ingestion.pipeline import ensure_raw_tables, ingest_source
from yardstick.dbt import dbt
from yardstick.demo import environment

CHINESE_JOB = "这是一个改了名字的测试任务"  # "a test job that was renamed"
JOBS = [CHINESE_JOB, "devlake", "dir-test", "pipeline-test2", "github_org"]


def jenkins_data(*, fix_not_built: bool = True) -> JenkinsData:
    """The recording; build 10004 of the Chinese job says `NOT_BUILD` (Jenkins' constant is `NOT_BUILT`)."""
    data = recorded_jenkins()
    if fix_not_built:
        for build in data.builds[CHINESE_JOB]:
            if build["result"] == "NOT_BUILD":
                build["result"] = "NOT_BUILT"
    return data


def settings(server: ReplayServer, jobs: list[str] = JOBS) -> dict[str, str]:
    return {**jenkins_api.source_settings(server.url + "/jenkins", jobs, "2010-01-01"),
            "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05", "RUNTIME__REQUEST_MAX_ATTEMPTS": "3"}


def org_of(data: JenkinsData) -> Org:
    return Org(github={}, pagerduty=PagerDutyData(), jenkins=data)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list]]:
    path = tmp_path_factory.mktemp("jenkins") / "warehouse.duckdb"
    with ReplayServer(org_of(jenkins_data())) as server, environment(settings(server)):
        assert ingest_source("jenkins", path) == {"raw_jenkins.builds": 29}
        requests = server.requests
    ensure_raw_tables(path)
    dbt(["seed"], path)
    dbt(["build", "--select", "+path:models/intermediate/delivery", "+path:models/intermediate/organisation",
         "--indirect-selection", "cautious"], path, vars={"deployment_pattern": "(?i)deploy|^devlake$"})
    yield path, requests


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_folders_are_followed_and_builds_paged_by_range(loaded: tuple[Path, list]) -> None:
    _, requests = loaded
    trees = [(r.path, r.query["tree"][0]) for r in requests]
    assert ("/job/github_org/api/json", "_class,jobs[fullName,name]") in trees
    assert ("/job/github_org/job/devlake-jenkins/job/main/api/json",
            ("allBuilds[number,result,building,timestamp,duration,fullDisplayName,actions[lastBuiltRevision[SHA1,"
            "branch[name]],remoteUrls,causes[shortDescription]]]{0,100}")) in trees
    assert any(path.startswith("/job/%E8%BF%99") for path, _ in trees)  # the Chinese job name, URL-encoded


def test_builds_carry_revision_repository_and_timing(loaded: tuple[Path, list]) -> None:
    path, _ = loaded
    assert query(path, "select count(*), count(sha), count(repository) from staging.stg_jenkins__builds") == [
        (29, 16, 16)]
    # main #4: started 1711277551963 ms, 30 415 ms long, on git@github.com:gustavobini/devlake-jenkins.git
    assert query(path, """
        select repository, sha, ref, status, started_at, finished_at from intermediate.int_builds
        where build_key = 'jenkins:github_org/devlake-jenkins/main#4'""") == [
        ("gustavobini/devlake-jenkins", "c83ae02076382670e286ac2474b7a7327fc28cde", "main", "success",
         datetime(2024, 3, 24, 10, 52, 31, 963000), datetime(2024, 3, 24, 10, 53, 2, 378000))]
    assert query(path, "select status, count(*) from intermediate.int_builds where source_system = 'jenkins' "
                       "group by 1 order by 1") == [
        ("cancelled", 3), ("failure", 3), ("in_progress", 3), ("skipped", 1), ("success", 19)]


def test_jobs_matching_the_deployment_pattern_are_deployments(loaded: tuple[Path, list]) -> None:
    path, _ = loaded
    # only the `devlake` job matches; its three successful builds ship two distinct SHAs
    assert query(path, """
        select repository, sha, status, is_successful_production, previous_sha from intermediate.int_deployments
        where source_system = 'jenkins' order by deployed_at""") == [
        ("merico-dev/lake", "ceeffdfdd06bce232f9adb3a656265bad13a8473", "success", True, None),
        ("merico-dev/lake", "0f886c74949c3ee7e489188911c7dc0c1d547418", "success", True,
         "ceeffdfdd06bce232f9adb3a656265bad13a8473"),
        ("merico-dev/lake", "0f886c74949c3ee7e489188911c7dc0c1d547418", "success", True,
         "0f886c74949c3ee7e489188911c7dc0c1d547418"),
    ]


def test_ranges_page_through_long_histories_and_stop_at_the_cursor(tmp_path: Path) -> None:
    data = jenkins_data()
    template = data.builds["devlake"][0]
    data.builds["devlake"] = [  # 250 builds, newest first, an hour apart
        {**copy.deepcopy(template), "number": n, "timestamp": template["timestamp"] + n * 3_600_000}
        for n in range(250, 0, -1)]
    with ReplayServer(org_of(data)) as server, environment(settings(server, ["devlake"])):
        assert ingest_source("jenkins", tmp_path / "warehouse.duckdb") == {"raw_jenkins.builds": 250}
        ranges = [r.query["tree"][0].rsplit("]", 1)[1] for r in server.requests if "allBuilds" in r.query["tree"][0]]
        assert ranges == ["{0,100}", "{100,200}", "{200,300}"]
        server.clear_requests()
        # cursor = build 250; the 24 h look-back keeps 25 builds
        ingest_source("jenkins", tmp_path / "warehouse.duckdb")
        ranges = [r.query["tree"][0] for r in server.requests if "allBuilds" in r.query["tree"][0]]
    assert len(ranges) == 1 and ranges[0].endswith("{0,100}")


def test_unknown_result_bad_json_and_token_are_reported(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with ReplayServer(org_of(jenkins_data(fix_not_built=False))) as server, environment(settings(server)):
        ingest_source("jenkins", warehouse)
        [(table, endpoint, record_id, reason)] = rejected(warehouse, "raw_jenkins")
        assert (table, record_id) == ("builds", f"{CHINESE_JOB}#10004")
        assert endpoint == ("/job/%E8%BF%99%E6%98%AF%E4%B8%80%E4%B8%AA%E6%94%B9%E4%BA%86%E5%90%8D%E5%AD%97%E7%9A%84"
                            "%E6%B5%8B%E8%AF%95%E4%BB%BB%E5%8A%A1/api/json")
        assert reason.startswith("field 'result': unknown value 'NOT_BUILD'")
    with ReplayServer(org_of(jenkins_data())) as server, environment(settings(server, ["devlake"])):
        ingest_source("jenkins", warehouse)
        loaded = query(warehouse, "select count(*) from raw_jenkins.builds")
        server.fail("/job/devlake/api/json?tree=allBuilds", 200, body='{"allBuilds": [{"number": 3')
        with pytest.raises(SourceError, match=r"Jenkins sent a body that is not valid JSON for /job/devlake/api/json"):
            ingest_source("jenkins", warehouse, full_refresh=True)
    assert query(warehouse, "select count(*) from raw_jenkins.builds") == loaded == [(28,)]  # 25 + devlake's 3
    with ReplayServer(org_of(jenkins_data())) as server, \
            environment({**settings(server), "SOURCES__JENKINS__API_TOKEN": "nope"}), \
            pytest.raises(TokenRejected, match=r"^Jenkins rejected the token \(401\) for http://127.0.0.1:\d+/jenkins/"):
        ingest_source("jenkins", tmp_path / "x.duckdb")
