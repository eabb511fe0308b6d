{%- set key = 'repository, pull_request_number, sha' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
-- Merge request commits (same columns as stg_github__pull_request_commits; GitLab has no logins on commits).
with

source as (
    select * from {{ source('gitlab', 'merge_request_commits') }}
),

renamed as (
    select
        -- ids
        cast(project as {{ dbt.type_string() }}) as repository,
        cast(merge_request_iid as bigint) as pull_request_number,
        sha,
        coalesce(parent_ids, '') as parent_shas,
        -- text
        message,
        author_name,
        author_email,
        cast(null as {{ dbt.type_string() }}) as author_login,
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
