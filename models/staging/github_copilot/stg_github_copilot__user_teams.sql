with

source as (
    select * from {{ source('github_copilot', 'user_teams') }}
),

renamed as (
    select
        -- ids
        scope,
        cast(user_id as bigint) as user_id,
        user_login,
        cast(team_id as bigint) as team_id,
        team_slug,
        organization_id,
        enterprise_id,
        -- dates
        cast(day as date) as report_date,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

deduplicated as (
    {{ latest_version('renamed', 'scope, report_date, user_id, team_id', 'report_date') }}
)

select * from deduplicated
