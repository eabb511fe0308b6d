-- Change ↔ deployment (docs/architecture.md §6). A merged change ships with the first successful production
-- deployment of its repository whose deployed SHA reaches the change's merge SHA through commit parents
-- (`commit_range`). When the commit graph cannot tell — the merge SHA, or the deployment's SHA, is not a commit we
-- know — the first successful production deployment of the repository at or after the merge (`first_after_merge`).
{%- set staging = ['stg_github__pull_requests', 'stg_gitlab__merge_requests', 'stg_github__commits',
                   'stg_gitlab__commits', 'stg_git__commits', 'stg_github__pull_request_commits',
                   'stg_gitlab__merge_request_commits', 'stg_github__deployments', 'stg_github__deployment_statuses',
                   'stg_github_actions__workflow_runs', 'stg_github_actions__workflow_jobs', 'stg_gitlab__deployments',
                   'stg_jenkins__builds'] %}
{#- doubling levels of the main-line walk: histories of up to 2^24 (16.7 M) first-parent commits -#}
{%- set main_line_levels = 24 %}
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

-- the first-parent edges of the default branch's commits: the main line is among them (the default branch's history
-- holds every commit its head reaches), and the pull requests' own commits, most of the graph, are not
first_parents as (
    select
        commit_parents.repository,
        commit_parents.sha,
        commit_parents.parent_sha
    from commit_parents
    inner join commits
        on commit_parents.repository = commits.repository
        and commit_parents.sha = commits.sha
    where commit_parents.parent_position = 1
        and commits.is_on_default_branch
),
{%- if target.type == 'spark' %}

-- Spark inlines every CTE where it is used, which would multiply the doubling below: there the main line is walked
-- one first parent per step, as a recursive CTE
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
{%- else %}

-- The first-parent chain by doubling (no recursion: a recursive walk costs one pass over every edge per step, the
-- length of the history times the number of commits). `ancestors_k` holds each commit's 2^k-th first-parent
-- ancestor (commits with fewer ancestors drop out, so the levels empty quickly); `chain_k` the head and its first
-- 2^k - 1 ancestors, with their distance from the head. {{ main_line_levels }} levels: histories up to
-- 2^{{ main_line_levels }} first-parent commits.
ancestors_0 as (
    select
        repository,
        sha,
        parent_sha as ancestor_sha
    from first_parents
),

chain_0 as (
    select
        repository,
        sha,
        0 as steps_from_head
    from default_branch_heads
),
{%- for level in range(main_line_levels) %}

ancestors_{{ level + 1 }} as (
    select
        nearer.repository,
        nearer.sha,
        further.ancestor_sha
    from ancestors_{{ level }} as nearer
    inner join ancestors_{{ level }} as further
        on nearer.repository = further.repository
        and nearer.ancestor_sha = further.sha
),

chain_{{ level + 1 }} as (
    select * from chain_{{ level }}
    union all
    select
        chain_{{ level }}.repository,
        ancestors_{{ level }}.ancestor_sha as sha,
        chain_{{ level }}.steps_from_head + {{ 2 ** level }} as steps_from_head
    from chain_{{ level }}
    inner join ancestors_{{ level }}
        on chain_{{ level }}.repository = ancestors_{{ level }}.repository
        and chain_{{ level }}.sha = ancestors_{{ level }}.sha
),
{%- endfor %}

main_line_walk as (
    select * from chain_{{ main_line_levels }}
),
{%- endif %}

main_line as (
    select
        repository,
        sha,
        -- bigint on every adapter: the walk's recursive term has bigint positions, and PostgreSQL wants both of a
        -- recursive query's terms to agree
        cast(max(steps_from_head) over (partition by repository) - steps_from_head as {{ dbt.type_bigint() }})
            as main_line_position
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
{%- if target.type == 'spark' %}

-- every commit reachable from a deployed SHA through parents. The walk does not go past an ancestor of the
-- previous deployment's SHA (that SHA itself, or a main-line commit at or below its position): whatever lies
-- behind shipped with an earlier deployment, and only the first deployment counts.
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
{%- else %}

-- One step of the walk below from a commit: its parents, except a main-line commit's first parent, which is the
-- main-line commit one position lower (`main_line_rest` stands for all of them at once)
walk_steps as (
    select
        commit_parents.repository,
        commit_parents.sha,
        commit_parents.parent_sha,
        parent_main_line.main_line_position as parent_position,
        false as is_main_line_rest
    from commit_parents
    left join main_line
        on commit_parents.repository = main_line.repository
        and commit_parents.sha = main_line.sha
    left join main_line as parent_main_line
        on commit_parents.repository = parent_main_line.repository
        and commit_parents.parent_sha = parent_main_line.sha
    where not (main_line.sha is not null and commit_parents.parent_position = 1)
    union all
    select
        repository,
        sha,
        cast(null as {{ dbt.type_string() }}) as parent_sha,
        cast(null as {{ dbt.type_bigint() }}) as parent_position,
        true as is_main_line_rest
    from main_line
),

-- every commit reachable from a deployed SHA through parents. The walk does not go past an ancestor of the
-- previous deployment's SHA (that SHA itself, or a main-line commit at or below its position): whatever lies
-- behind shipped with an earlier deployment, and only the first deployment counts. `union` (not `union all`)
-- visits a commit once per deployment however many paths lead to it (merge commits have two parents).
-- Where the walk reaches the main line it takes the main-line commits below in one step (down to the previous
-- deployment's position, or to the root), not one first parent per step, so it runs for as many steps as the
-- longest side branch, not the length of the history. `on_main_line` marks rows at or behind a main-line commit:
-- the main-line commits they reach are all in that step already (a commit's ancestors on the main line lie below
-- it), so they do not take it again.
reachable (deployment_id, repository, sha, previous_sha, previous_position, position, on_main_line) as (
    select
        *,
        false as on_main_line
    from walk_starts
    union
    select
        reachable.deployment_id,
        reachable.repository,
        coalesce(main_line_rest.sha, walk_steps.parent_sha) as sha,
        reachable.previous_sha,
        reachable.previous_position,
        coalesce(main_line_rest.main_line_position, walk_steps.parent_position) as position,
        reachable.on_main_line or reachable.position is not null as on_main_line
    from reachable
    inner join walk_steps
        on reachable.repository = walk_steps.repository
        and reachable.sha = walk_steps.sha
    -- every condition compares the two sides (the step's own flags fold into the upper bound: no bound, no row), so
    -- the join is a hash join by repository; a condition on one side alone made DuckDB compare every row with
    -- every main-line commit of every repository (a nested loop, quadratic in the organisation's size)
    left join main_line as main_line_rest
        on reachable.repository = main_line_rest.repository
        and main_line_rest.main_line_position < case
            when walk_steps.is_main_line_rest and not reachable.on_main_line then reachable.position
        end
        and main_line_rest.main_line_position >= coalesce(reachable.previous_position, 0)
    where reachable.sha is distinct from reachable.previous_sha
        and not coalesce(reachable.position <= reachable.previous_position, false)
        and (not walk_steps.is_main_line_rest or main_line_rest.sha is not null)
),
{%- endif %}

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

-- only where the commit graph cannot tell: a merge SHA we do not know (then any deployment after the merge), or
-- a deployed SHA we do not know (then only such deployments); the changes the graph linked are left out first, so
-- the join by time is over few rows
unlinked_changes as (
    select
        merged_changes.pull_request_key,
        merged_changes.repository,
        merged_changes.merged_at,
        merge_commit.sha is null as is_merge_unknown
    from merged_changes
    left join known_commits as merge_commit
        on merged_changes.repository = merge_commit.repository
        and merged_changes.merge_commit_sha = merge_commit.sha
    where merged_changes.pull_request_key not in (select by_commit_range.pull_request_key from by_commit_range)
),

fallback_deployments as (
    select
        production_deployments.deployment_id,
        production_deployments.repository,
        production_deployments.deployed_at,
        deployed_commit.sha is null as is_sha_unknown
    from production_deployments
    left join known_commits as deployed_commit
        on production_deployments.repository = deployed_commit.repository
        and production_deployments.sha = deployed_commit.sha
),

-- two branches, one per case, rather than one join filtered by `or`: each branch's filter is applied before its
-- join by time, which then stays small
first_after_merge_candidates as (
    select
        unlinked_changes.pull_request_key,
        fallback_deployments.deployment_id,
        fallback_deployments.deployed_at,
        'first_after_merge' as link_method
    from unlinked_changes
    inner join fallback_deployments
        on unlinked_changes.repository = fallback_deployments.repository
        and fallback_deployments.deployed_at >= unlinked_changes.merged_at
    where unlinked_changes.is_merge_unknown
    union all
    select
        unlinked_changes.pull_request_key,
        fallback_deployments.deployment_id,
        fallback_deployments.deployed_at,
        'first_after_merge' as link_method
    from unlinked_changes
    inner join fallback_deployments
        on unlinked_changes.repository = fallback_deployments.repository
        and fallback_deployments.deployed_at >= unlinked_changes.merged_at
    where not unlinked_changes.is_merge_unknown
        and fallback_deployments.is_sha_unknown
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
