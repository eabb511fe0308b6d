with

source as (
    select * from {{ source('github_copilot', 'user_days') }}
),

renamed as (
    select
        -- ids
        scope,
        cast(user_id as bigint) as user_id,
        user_login,
        organization_id,
        enterprise_id,
        -- dates
        cast(day as date) as report_date,
        -- measures
        coalesce(user_initiated_interaction_count, 0) as interactions,
        coalesce(code_generation_activity_count, 0) as generations,
        coalesce(code_acceptance_activity_count, 0) as acceptances,
        coalesce(loc_suggested_to_add_sum, 0) as lines_suggested,
        coalesce(loc_added_sum, 0) as lines_accepted,
        coalesce(loc_deleted_sum, 0) as lines_deleted,
        coalesce(cli_request_count, 0) as cli_requests,
        -- flags
        coalesce(used_chat, false) as used_chat,
        coalesce(used_agent, false) as used_agent,
        coalesce(used_cli, false) as used_cli,
        coalesce(used_copilot_code_review_active, false) as used_code_review,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

deduplicated as (
    {{ latest_version('renamed', 'scope, report_date, user_id', 'report_date') }}
)

select * from deduplicated
