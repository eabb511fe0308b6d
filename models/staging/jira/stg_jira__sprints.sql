with

source as (
    select * from {{ source('jira', 'sprints') }}
),

renamed as (
    select
        -- ids
        id as sprint_id,
        board_id,
        origin_board_id,
        -- text
        name as sprint_name,
        state,
        goal,
        -- timestamps
        {{ to_utc('start_at') }} as started_at,
        {{ to_utc('end_at') }} as ends_at,
        {{ to_utc('completed_at') }} as completed_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

deduplicated as (
    {{ latest_version('renamed', 'sprint_id', 'loaded_by') }}
)

select * from deduplicated
