{%- set key = 'review_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('github', 'pull_request_reviews') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as review_id,
        cast(repository as {{ dbt.type_string() }}) as repository,
        cast(pull_request_number as bigint) as pull_request_number,
        commit_id as commit_sha,
        -- text
        user_login as reviewer_login,
        state,
        -- timestamps
        {{ to_utc('submitted_at') }} as submitted_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'submitted_at') }}
)

select * from deduplicated
