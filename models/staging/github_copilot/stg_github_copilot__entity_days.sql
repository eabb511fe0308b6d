with

source as (
    select * from {{ source('github_copilot', 'entity_days') }}
),

renamed as (
    select
        -- ids
        scope,
        -- dates
        cast(day as date) as report_date,
        -- measures
        daily_active_users,
        weekly_active_users,
        monthly_active_users,
        daily_active_cli_users,
        loc_suggested_to_add_sum as lines_suggested,
        loc_added_sum as lines_accepted,
        pull_requests_created,
        pull_requests_created_by_copilot,
        pull_requests_merged,
        pull_requests_merged_created_by_copilot,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

deduplicated as (
    {{ latest_version('renamed', 'scope, report_date', 'report_date') }}
)

select * from deduplicated
