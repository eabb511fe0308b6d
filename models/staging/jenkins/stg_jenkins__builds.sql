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

deduplicated as (
    {{ latest_version('renamed', 'build_id', 'loaded_by') }}
)

select * from deduplicated
