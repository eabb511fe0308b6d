with

source as (
    select * from {{ source('github_copilot', 'seats') }}
),

renamed as (
    select
        -- ids
        organization,
        cast(assignee_id as bigint) as user_id,
        assignee_login as user_login,
        assignee_type,
        assigning_team_slug,
        plan_type,
        -- timestamps
        {{ to_utc('created_at') }} as seat_created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('last_activity_at') }} as last_activity_at,
        cast(pending_cancellation_date as date) as pending_cancellation_date,
        last_activity_editor,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

deduplicated as (
    {{ latest_version('renamed', 'organization, user_id', 'updated_at') }}
)

select * from deduplicated
