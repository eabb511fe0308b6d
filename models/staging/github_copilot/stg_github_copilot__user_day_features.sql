with

source as (
    select * from {{ source('github_copilot', 'user_day_features') }}
),

renamed as (
    select
        -- ids
        scope,
        cast(user_id as bigint) as user_id,
        feature,
        {{ copilot_feature_group('feature') }} as feature_group,
        -- dates
        cast(day as date) as report_date,
        -- measures
        coalesce(user_initiated_interaction_count, 0) as interactions,
        coalesce(code_generation_activity_count, 0) as generations,
        coalesce(code_acceptance_activity_count, 0) as acceptances,
        coalesce(loc_suggested_to_add_sum, 0) as lines_suggested,
        coalesce(loc_added_sum, 0) as lines_accepted,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

deduplicated as (
    {{ latest_version('renamed', 'scope, report_date, user_id, feature', 'report_date') }}
)

select * from deduplicated
