-- Change ↔ deployment (docs/architecture.md §6). A merged change ships with the first successful production
-- deployment of its repository whose deployed SHA reaches the change's merge SHA through commit parents
-- (`commit_range`). When the commit graph cannot tell — the merge SHA, or the deployment's SHA, is not a commit we
-- know — the first successful production deployment of the repository at or after the merge (`first_after_merge`).
{%- set staging = ['stg_github__pull_requests', 'stg_gitlab__merge_requests', 'stg_github__commits',
                   'stg_gitlab__commits', 'stg_git__commits', 'stg_github__pull_request_commits',
                   'stg_gitlab__merge_request_commits', 'stg_github__deployments', 'stg_github__deployment_statuses',
                   'stg_github_actions__workflow_runs', 'stg_github_actions__workflow_jobs', 'stg_gitlab__deployments',
                   'stg_jenkins__builds'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='append', on_schema_change='sync_all_columns',
    pre_hook="{{ delete_changed('repository', " ~ staging ~ ", 'repository') }}",
    post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
{%- for name in staging %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by repository: every link of a repository is deleted and recomputed when any pull request, commit,
-- deployment or deployment status of it was loaded since the last run (a deployment that ships changes merged a
-- week earlier re-links them; a late merge commit completes the commit graph).
with recursive

{%- if is_incremental() %}

changed as (
    {{ changed_since(staging, 'repository') }}
),
{%- endif %}

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
    {%- if is_incremental() %}
    where repository in (select * from changed)
    {%- endif %}
),

deployments as (
    select * from {{ ref('int_deployments') }}
    {%- if is_incremental() %}
    where repository in (select * from changed)
    {%- endif %}
),

commit_parents as (
    select * from {{ ref('int_commit_parents') }}
    {%- if is_incremental() %}
    where repository in (select * from changed)
    {%- endif %}
),

commits as (
    select * from {{ ref('int_commits') }}
    {%- if is_incremental() %}
    where repository in (select * from changed)
    {%- endif %}
),

merged_changes as (
    select
        pull_request_key,
        repository,
        merge_commit_sha,
        merged_at,
        source_system
    from pull_requests
    where merged_at is not null
),

-- the default branch's first-parent chain ("main line"), numbered from the root: a main-line commit is an
-- ancestor of every main-line commit with a higher position. Lets the walk below stop early.
default_branch_tips as (
    select
        commits.repository,
        commits.sha,
        commits.committed_at
    from commits
    where commits.is_on_default_branch
        and not exists (
            select 1
            from commit_parents
            inner join commits as children
                on commit_parents.repository = children.repository
                and commit_parents.sha = children.sha
            where children.is_on_default_branch
                and commit_parents.repository = commits.repository
                and commit_parents.parent_sha = commits.sha
        )
),

default_branch_heads as (
    {{ dedupe('default_branch_tips', 'repository', 'committed_at desc nulls last, sha') }}
),

first_parents as (
    select
        repository,
        sha,
        parent_sha
    from commit_parents
    where parent_position = 1
),

main_line_walk (repository, sha, steps_from_head) as (
    select
        repository,
        sha,
        0 as steps_from_head
    from default_branch_heads
    union all
    select
        main_line_walk.repository,
        first_parents.parent_sha as sha,
        main_line_walk.steps_from_head + 1 as steps_from_head
    from main_line_walk
    inner join first_parents
        on main_line_walk.repository = first_parents.repository
        and main_line_walk.sha = first_parents.sha
),

main_line as (
    select
        repository,
        sha,
        max(steps_from_head) over (partition by repository) - steps_from_head as main_line_position
    from main_line_walk
),

production_deployments as (
    select
        deployment_id,
        repository,
        sha,
        deployed_at,
        -- the repository's previous successful production deployment, in any production environment
        lag(sha) over (partition by repository order by deployed_at, deployment_id) as previous_sha
    from deployments
    where is_successful_production
),

walk_starts as (
    select
        production_deployments.deployment_id,
        production_deployments.repository,
        production_deployments.sha,
        production_deployments.previous_sha,
        previous_main_line.main_line_position as previous_position,
        main_line.main_line_position as position
    from production_deployments
    left join main_line as previous_main_line
        on production_deployments.repository = previous_main_line.repository
        and production_deployments.previous_sha = previous_main_line.sha
    left join main_line
        on production_deployments.repository = main_line.repository
        and production_deployments.sha = main_line.sha
),

-- every commit reachable from a deployed SHA through parents. The walk does not go past an ancestor of the
-- previous deployment's SHA (that SHA itself, or a main-line commit at or below its position): whatever lies
-- behind shipped with an earlier deployment, and only the first deployment counts. `union` (not `union all`)
-- visits a commit once per deployment however many paths lead to it (merge commits have two parents).
reachable (deployment_id, repository, sha, previous_sha, previous_position, position) as (
    select * from walk_starts
    {{ recursive_union() }}
    select
        reachable.deployment_id,
        reachable.repository,
        commit_parents.parent_sha as sha,
        reachable.previous_sha,
        reachable.previous_position,
        main_line.main_line_position as position
    from reachable
    inner join commit_parents
        on reachable.repository = commit_parents.repository
        and reachable.sha = commit_parents.sha
    left join main_line
        on commit_parents.repository = main_line.repository
        and commit_parents.parent_sha = main_line.sha
    where reachable.sha is distinct from reachable.previous_sha
        and not coalesce(reachable.position <= reachable.previous_position, false)
),

commit_range_candidates as (
    select
        merged_changes.pull_request_key,
        production_deployments.deployment_id,
        production_deployments.deployed_at,
        'commit_range' as link_method
    from merged_changes
    inner join reachable
        on merged_changes.repository = reachable.repository
        and merged_changes.merge_commit_sha = reachable.sha
    inner join production_deployments
        on reachable.deployment_id = production_deployments.deployment_id
),

by_commit_range as (
    {{ dedupe('commit_range_candidates', 'pull_request_key', 'deployed_at, deployment_id') }}
),

known_commits as (
    select
        repository,
        sha
    from commits
),

first_after_merge_candidates as (
    select
        merged_changes.pull_request_key,
        production_deployments.deployment_id,
        production_deployments.deployed_at,
        'first_after_merge' as link_method
    from merged_changes
    inner join production_deployments
        on merged_changes.repository = production_deployments.repository
        and production_deployments.deployed_at >= merged_changes.merged_at
    left join known_commits as merge_commit
        on merged_changes.repository = merge_commit.repository
        and merged_changes.merge_commit_sha = merge_commit.sha
    left join known_commits as deployed_commit
        on production_deployments.repository = deployed_commit.repository
        and production_deployments.sha = deployed_commit.sha
    where merged_changes.pull_request_key not in (select by_commit_range.pull_request_key from by_commit_range)
        and (merge_commit.sha is null or deployed_commit.sha is null)
),

by_first_after_merge as (
    {{ dedupe('first_after_merge_candidates', 'pull_request_key', 'deployed_at, deployment_id') }}
),

links as (
    select * from by_commit_range
    union all
    select * from by_first_after_merge
),

final as (
    select
        -- ids
        links.pull_request_key,
        links.deployment_id,
        merged_changes.repository,
        -- correlation
        links.link_method,
        -- timestamps
        merged_changes.merged_at,
        links.deployed_at,
        -- lineage
        merged_changes.source_system
    from links
    inner join merged_changes
        on links.pull_request_key = merged_changes.pull_request_key
)

select * from final
