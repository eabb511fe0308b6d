{%- set staging = ['stg_github_actions__workflow_jobs', 'stg_gitlab__jobs'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key='build_job_key',
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
-- Incremental, row by row: a job is recomputed when it was loaded since the last run.
-- CI jobs (the steps of a build) from every tool that reports them: GitHub Actions jobs and GitLab pipeline jobs,
-- one row per job, keyed to their build in `int_builds`. A separate model because builds and jobs are different
-- grains: build success rate and duration count builds, while a job tells which part of a build failed or
-- deployed. `status`: success, failure, cancelled, skipped, in_progress.
with

workflow_jobs as (
    select * from {{ ref('stg_github_actions__workflow_jobs') }}{{ where_loaded_since() }}
),

gitlab_jobs as (
    select * from {{ ref('stg_gitlab__jobs') }}{{ where_loaded_since() }}
),

actions as (
    select
        -- ids
        'github_actions:' || cast(workflow_job_id as {{ dbt.type_string() }}) as build_job_key,
        'github_actions:' || cast(workflow_run_id as {{ dbt.type_string() }}) as build_key,
        repository,
        head_sha as sha,
        -- text
        job_name,
        {{ ci_status('github_actions', 'conclusion') }} as status,
        runner_name,
        -- measures
        steps_count,
        -- timestamps
        started_at,
        completed_at as finished_at,
        -- lineage
        'github_actions' as source_system
    from workflow_jobs
),

gitlab as (
    select
        -- ids
        'gitlab:job:' || cast(job_id as {{ dbt.type_string() }}) as build_job_key,
        'gitlab:' || cast(pipeline_id as {{ dbt.type_string() }}) as build_key,
        repository,
        sha,
        -- text
        job_name,
        {{ ci_status('gitlab', 'status') }} as status,
        cast(null as {{ dbt.type_string() }}) as runner_name,
        -- measures
        cast(null as bigint) as steps_count,
        -- timestamps
        started_at,
        finished_at,
        -- lineage
        'gitlab' as source_system
    from gitlab_jobs
),

unioned as (
    select * from actions
    union all
    select * from gitlab
),

final as (
    select
        *,
        {{ hours_between('started_at', 'finished_at') }} * 3600 as duration_seconds,
        {{ matches('job_name', var('deployment_pattern')) }} as is_deployment
    from unioned
)

select * from final
