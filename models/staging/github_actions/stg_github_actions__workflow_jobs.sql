{%- set key = 'workflow_job_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('github_actions', 'workflow_jobs') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as workflow_job_id,
        cast(run_id as bigint) as workflow_run_id,
        cast(repository as {{ dbt.type_string() }}) as repository,
        head_sha,
        head_branch,
        -- text
        name as job_name,
        workflow_name,
        status,
        conclusion,
        runner_name,
        -- measures
        run_attempt,
        steps_count,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('started_at') }} as started_at,
        {{ to_utc('completed_at') }} as completed_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'completed_at') }}
)

select * from deduplicated
