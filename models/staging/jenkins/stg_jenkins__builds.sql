{%- set key = 'build_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('jenkins', 'builds') }}
),

renamed as (
    select
        -- ids
        id as build_id,
        job as job_name,
        number as build_number,
        sha,
        branch,
        remote_url,
        -- the repository path of the git remote (https://host/owner/name.git or git@host:owner/name.git)
        nullif({{ regex_extract('remote_url', "'^(?:[a-z+]+://[^/]+/|[^@/]+@[^:]+:)(.+?)(?:\\.git)?/?$'", 1) }}, '')
            as repository,
        -- text
        display_name,
        result,
        coalesce(is_building, false) or result is null as is_building,
        cause,
        -- timestamps
        {{ to_utc('started_at') }} as started_at,
        {{ dbt.dateadd('millisecond', 'coalesce(duration_ms, 0)', to_utc('started_at')) }} as finished_at,
        duration_ms,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'loaded_by') }}
)

select * from deduplicated
