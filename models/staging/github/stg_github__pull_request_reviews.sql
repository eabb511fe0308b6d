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

deduplicated as (
    {{ latest_version('renamed', 'review_id', 'submitted_at') }}
)

select * from deduplicated
