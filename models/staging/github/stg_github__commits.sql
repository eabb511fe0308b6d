{%- set key = 'repository, sha' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('github', 'commits') }}
),

renamed as (
    select
        -- ids
        cast(repository as {{ dbt.type_string() }}) as repository,
        sha,
        coalesce(parent_shas, '') as parent_shas,
        -- text
        message,
        author_name,
        author_email,
        author_login,
        committer_email,
        -- timestamps
        {{ to_utc('authored_at') }} as authored_at,
        {{ to_utc('committed_at') }} as committed_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'committed_at') }}
)

select * from deduplicated
