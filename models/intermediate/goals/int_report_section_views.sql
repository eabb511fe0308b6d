-- Views of a team's section of the Yardstick report (`yardstick report --track`): the report sends a Segment page
-- event named `Yardstick report` with `properties.team` and `properties.section` each time a team's section comes
-- into view. One row per event; the viewer is the browser's random anonymous id, kept here only to be counted.
with

segment_events as (
    select * from {{ ref('stg_events__segment_events') }}
),

report_events as (
    select
        event_id,
        anonymous_id,
        user_id,
        event_at,
        {{ json_extract_text('properties', '$.team') }} as team,
        {{ json_extract_text('properties', '$.section') }} as section
    from segment_events
    where event_type = 'page'
        and event_name = 'Yardstick report'
),

final as (
    select
        -- ids
        event_id,
        coalesce(anonymous_id, user_id) as viewer_id,
        -- what was viewed
        team,
        section,
        -- timestamps
        event_at as viewed_at,
        {{ period_start('week', 'event_at') }} as week_start
    from report_events
    where team is not null
)

select * from final
