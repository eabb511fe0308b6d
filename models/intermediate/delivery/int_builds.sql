{%- set staging = ['stg_github_actions__workflow_runs', 'stg_gitlab__pipelines', 'stg_jenkins__builds'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key='build_key',
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
-- Incremental, row by row: a build is recomputed when it was loaded since the last run.
-- CI builds from every tool in one vocabulary: GitHub Actions workflow runs, GitLab pipelines and (when
-- configured) Jenkins builds. `status`: success, failure, cancelled, skipped, in_progress.
with

workflow_runs as (
    select * from {{ ref('stg_github_actions__workflow_runs') }}{{ where_loaded_since() }}
),

gitlab_pipelines as (
    select * from {{ ref('stg_gitlab__pipelines') }}{{ where_loaded_since() }}
),

jenkins_builds as (
    select * from {{ ref('stg_jenkins__builds') }}{{ where_loaded_since() }}
),

actions as (
    select
        'github_actions:' || cast(workflow_run_id as {{ dbt.type_string() }}) as build_key,
        cast(workflow_run_id as {{ dbt.type_string() }}) as build_id,
        repository,
        workflow_name as build_name,
        head_sha as sha,
        head_branch as ref,
        {{ ci_status('github_actions', 'conclusion') }} as status,
        created_at,
        coalesce(run_started_at, created_at) as started_at,
        case when conclusion is not null then updated_at end as finished_at,
        -- a re-run keeps the run id and counts up its attempt; the API lists only the latest attempt
        cast(coalesce(run_attempt, 1) as bigint) as attempt,
        'github_actions' as source_system
    from workflow_runs
),

gitlab as (
    select
        'gitlab:' || cast(pipeline_id as {{ dbt.type_string() }}) as build_key,
        cast(pipeline_id as {{ dbt.type_string() }}) as build_id,
        repository,
        coalesce(trigger_source, 'pipeline') as build_name,
        sha,
        ref,
        {{ ci_status('gitlab', 'status') }} as status,
        created_at,
        coalesce(started_at, created_at) as started_at,
        finished_at,
        cast(1 as bigint) as attempt,
        'gitlab' as source_system
    from gitlab_pipelines
),

jenkins as (
    select
        'jenkins:' || build_id as build_key,
        build_id,
        repository,
        job_name as build_name,
        sha,
        branch as ref,
        case
            when is_building then 'in_progress'
            when result = 'SUCCESS' then 'success'
            when result in ('FAILURE', 'UNSTABLE') then 'failure'
            when result = 'ABORTED' then 'cancelled'
            else 'skipped'
        end as status,
        started_at as created_at,
        started_at,
        case when not is_building then finished_at end as finished_at,
        cast(1 as bigint) as attempt,
        'jenkins' as source_system
    from jenkins_builds
),

unioned as (
    select * from actions
    union all
    select * from gitlab
    union all
    select * from jenkins
),

final as (
    select
        *,
        {{ hours_between('started_at', 'finished_at') }} * 3600 as duration_seconds,
        {{ matches('build_name', var('deployment_pattern')) }} as is_deployment
    from unioned
)

select * from final
