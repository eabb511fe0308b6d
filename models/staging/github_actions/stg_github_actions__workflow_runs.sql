{%- set key = 'workflow_run_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('github_actions', 'workflow_runs') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as workflow_run_id,
        cast(repository as {{ dbt.type_string() }}) as repository,
        cast(workflow_id as bigint) as workflow_id,
        head_sha,
        head_branch,
        -- text
        name as workflow_name,
        path as workflow_path,
        event,
        status,
        conclusion,
        actor_login,
        -- measures
        run_number,
        run_attempt,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('run_started_at') }} as run_started_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'updated_at') }}
)

select * from deduplicated
