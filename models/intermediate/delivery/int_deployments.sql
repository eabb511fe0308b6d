{%- set staging = ['stg_github__deployments', 'stg_github__deployment_statuses', 'stg_github_actions__workflow_runs',
                   'stg_github_actions__workflow_jobs', 'stg_gitlab__deployments', 'stg_jenkins__builds'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key='repository',
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
{%- for name in staging %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by repository: a repository's deployments are all recomputed when any deployment, status, CI run
-- or job, or Jenkins build of it was loaded since the last run (a status that settles later, a rollback that
-- marks an earlier deployment, GitHub Deployments replacing CI runs all stay within one repository).
-- Deployments from every tool: GitHub Deployments (status from their latest status) and, for repositories
-- with no GitHub Deployments at all, CI workflow runs whose name (or one of whose jobs' names) matches var
-- `deployment_pattern`; GitLab
-- deployments to environments; Jenkins builds of deployment jobs.
with

deployments as (
    select * from {{ ref('stg_github__deployments') }}
),

deployment_statuses as (
    select * from {{ ref('stg_github__deployment_statuses') }}
),

workflow_runs as (
    select * from {{ ref('stg_github_actions__workflow_runs') }}
),

workflow_jobs as (
    select * from {{ ref('stg_github_actions__workflow_jobs') }}
),

gitlab_deployments_source as (
    select * from {{ ref('stg_gitlab__deployments') }}
),

jenkins_builds as (
    select * from {{ ref('stg_jenkins__builds') }}
),

status_history as (
    select
        deployment_id,
        state as latest_state,
        created_at,
        deployment_status_id
    from deployment_statuses
),

latest_status as (
    {{ dedupe('status_history', 'deployment_id', 'created_at desc, deployment_status_id desc') }}
),

first_success as (
    select
        deployment_id,
        min(created_at) as first_success_at
    from deployment_statuses
    where state = 'success'
    group by deployment_id
),

github_deployments as (
    select
        deployments.deployment_id,
        deployments.repository,
        deployments.sha,
        deployments.ref,
        deployments.environment,
        deployments.description,
        {{ matches('deployments.environment', var('production_pattern')) }}
        or coalesce(deployments.is_production_environment, false) as is_production,
        case
            when latest_status.latest_state = 'success' then 'success'
            when latest_status.latest_state = 'inactive' and first_success.first_success_at is not null
                then 'success'
            when latest_status.latest_state = 'inactive' then 'inactive'
            when latest_status.latest_state = 'failure' then 'failure'
            when latest_status.latest_state = 'error' then 'error'
            else 'in_progress'
        end as status,
        deployments.created_at,
        first_success.first_success_at as deployed_at,
        'github' as source_system
    from deployments
    left join latest_status
        on deployments.deployment_id = latest_status.deployment_id
    left join first_success
        on deployments.deployment_id = first_success.deployment_id
),

ci_deployments as (
    select
        workflow_run_id as deployment_id,
        repository,
        head_sha as sha,
        head_branch as ref,
        'production' as environment,
        workflow_name as description,
        true as is_production,
        case
            when conclusion is null then 'in_progress'
            when conclusion = 'success' then 'success'
            when conclusion in ('failure', 'timed_out', 'startup_failure') then 'failure'
            when conclusion in ('cancelled', 'skipped', 'stale') then 'inactive'
            else 'error'
        end as status,
        coalesce(run_started_at, created_at) as created_at,
        case when conclusion = 'success' then coalesce(updated_at, run_started_at, created_at) end as deployed_at,
        'github_actions' as source_system
    from workflow_runs
    where (
        {{ matches('workflow_name', var('deployment_pattern')) }}
        or workflow_run_id in (
            select workflow_jobs.workflow_run_id from workflow_jobs
            where {{ matches('job_name', var('deployment_pattern')) }}
        )
    )
    and repository not in (
        select distinct deployments.repository from deployments
        where deployments.repository is not null
    )
),

-- GitLab deployments: `success` / `failed` / `canceled` / `skipped` / `created` / `running` / `blocked`
gitlab_deployments as (
    select
        deployment_id,
        repository,
        sha,
        ref,
        environment,
        job_name as description,
        {{ matches('environment', var('production_pattern')) }} as is_production,
        case
            when status = 'success' then 'success'
            when status = 'failed' then 'failure'
            when status in ('canceled', 'skipped') then 'inactive'
            when status in ('created', 'running', 'blocked') then 'in_progress'
            else 'error'
        end as status,
        created_at,
        case when status = 'success' then coalesce(finished_at, updated_at, created_at) end as deployed_at,
        'gitlab' as source_system
    from gitlab_deployments_source
),

-- Jenkins builds of jobs whose name matches var `deployment_pattern` deploy to production (those without a git
-- revision cannot be tied to a repository and are left out); the id is a hash of `job#number` (Jenkins has no
-- numeric build id)
jenkins_deployments as (
    select
        {{ hash_bigint('build_id') }} as deployment_id,
        repository,
        sha,
        branch as ref,
        'production' as environment,
        job_name as description,
        true as is_production,
        case
            when is_building then 'in_progress'
            when result = 'SUCCESS' then 'success'
            when result in ('FAILURE', 'UNSTABLE') then 'failure'
            when result in ('ABORTED', 'NOT_BUILT') then 'inactive'
            else 'error'
        end as status,
        started_at as created_at,
        case when result = 'SUCCESS' and not is_building then finished_at end as deployed_at,
        'jenkins' as source_system
    from jenkins_builds
    where {{ matches('job_name', var('deployment_pattern')) }}
        and repository is not null
        and sha is not null
),

unioned as (
    select * from github_deployments
    union all
    select * from ci_deployments
    union all
    select * from gitlab_deployments
    union all
    select * from jenkins_deployments
),

{%- if is_incremental() %}
{%- set since = incremental_since() %}

changed as (
    {% for name in staging -%}
    {{ loaded_since(ref(name), 'repository', since) }}
    {% if not loop.last %}union{% endif %}
    {% endfor %}
),
{%- endif %}

flagged as (
    select
        *,
        status = 'success' and is_production and deployed_at is not null as is_successful_production
    from unioned
    {%- if is_incremental() %}
    where repository in (select * from changed)
    {%- endif %}
),

-- successful production deployments in order, per repository and environment
production_sequence as (
    select
        deployment_id,
        repository,
        environment,
        sha,
        lag(deployment_id) over production_window as previous_deployment_id,
        lag(sha) over production_window as previous_sha,
        row_number() over production_window as sequence_number
    from flagged
    where is_successful_production
    window production_window as (partition by repository, environment order by deployed_at, deployment_id)
),

-- redeploys the SHA of an earlier successful production deployment that is not the immediately preceding one
-- (and differs from it): going back to an older release
sha_rollbacks as (
    select distinct later.deployment_id
    from production_sequence as later
    inner join production_sequence as earlier
        on later.repository = earlier.repository
        and later.environment = earlier.environment
        and later.sha = earlier.sha
        and earlier.sequence_number < later.sequence_number - 1
    where later.previous_sha is distinct from later.sha
),

rollbacks as (
    select
        flagged.deployment_id,
        {{ matches('flagged.description', var('rollback_pattern')) }}
        or sha_rollbacks.deployment_id is not null as is_rollback
    from flagged
    left join sha_rollbacks
        on flagged.deployment_id = sha_rollbacks.deployment_id
),

rolled_back as (
    select distinct production_sequence.previous_deployment_id as deployment_id
    from production_sequence
    inner join rollbacks
        on production_sequence.deployment_id = rollbacks.deployment_id
    where rollbacks.is_rollback
        and production_sequence.previous_deployment_id is not null
),

final as (
    select
        -- ids
        flagged.deployment_id,
        flagged.repository,
        flagged.sha,
        flagged.ref,
        flagged.environment,
        flagged.description,
        -- status
        flagged.is_production,
        flagged.status,
        flagged.is_successful_production,
        -- sequence
        production_sequence.previous_deployment_id,
        production_sequence.previous_sha,
        rollbacks.is_rollback,
        case
            when rollbacks.is_rollback then production_sequence.previous_deployment_id
        end as rolled_back_deployment_id,
        rolled_back.deployment_id is not null as is_rolled_back,
        -- timestamps
        flagged.created_at,
        flagged.deployed_at,
        -- lineage
        flagged.source_system
    from flagged
    left join production_sequence
        on flagged.deployment_id = production_sequence.deployment_id
    left join rollbacks
        on flagged.deployment_id = rollbacks.deployment_id
    left join rolled_back
        on flagged.deployment_id = rolled_back.deployment_id
)

select * from final
