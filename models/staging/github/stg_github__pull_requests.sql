{%- set key = 'pull_request_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('github', 'pull_requests') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as pull_request_id,
        cast(repository as {{ dbt.type_string() }}) as repository,
        cast(number as bigint) as pull_request_number,
        -- text
        title,
        body,
        state,
        coalesce(draft, false) as is_draft,
        user_login as author_login,
        merged_by_login,
        -- git
        head_ref,
        head_sha,
        base_ref,
        merge_commit_sha,
        -- measures
        additions,
        deletions,
        changed_files,
        commits as commit_count,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('closed_at') }} as closed_at,
        {{ to_utc('merged_at') }} as merged_at,
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
