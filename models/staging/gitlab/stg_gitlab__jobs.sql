{%- set key = 'job_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('gitlab', 'jobs') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as job_id,
        cast(pipeline_id as bigint) as pipeline_id,
        cast(project as {{ dbt.type_string() }}) as repository,
        sha,
        ref,
        -- text
        name as job_name,
        stage,
        status,
        coalesce(allow_failure, false) as is_failure_allowed,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('started_at') }} as started_at,
        {{ to_utc('finished_at') }} as finished_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'finished_at') }}
)

select * from deduplicated
