{%- set key = 'pull_request_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
-- Merge requests in the vocabulary of pull requests (same columns as stg_github__pull_requests).
with

source as (
    select * from {{ source('gitlab', 'merge_requests') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as pull_request_id,
        cast(project as {{ dbt.type_string() }}) as repository,
        cast(iid as bigint) as pull_request_number,
        -- text
        title,
        description as body,
        case when state in ('opened', 'locked') then 'open' else 'closed' end as state,
        state as gitlab_state,
        coalesce(draft, false) as is_draft,
        author_username as author_login,
        merged_by_username as merged_by_login,
        -- git (the commit that landed on the target branch: merge commit, else squash commit, else the head
        -- of a fast-forward merge)
        source_branch as head_ref,
        sha as head_sha,
        target_branch as base_ref,
        case
            when merged_at is not null then coalesce(merge_commit_sha, squash_commit_sha, sha)
        end as merge_commit_sha,
        -- measures (not in GitLab's list payload)
        cast(null as bigint) as additions,
        cast(null as bigint) as deletions,
        cast(null as bigint) as changed_files,
        cast(null as bigint) as commit_count,
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
