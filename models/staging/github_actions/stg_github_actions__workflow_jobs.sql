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

deduplicated as (
    {{ latest_version('renamed', 'workflow_job_id', 'completed_at') }}
)

select * from deduplicated
