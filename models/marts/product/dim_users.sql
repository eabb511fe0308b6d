-- Users after anonymous → identified stitching (int_page_events): every event of a device counts for the last user
-- id seen on that device; a device never identified is its own (anonymous) user.
with

events as (
    select * from {{ ref('int_page_events') }}
),

users as (
    select
        stitched_user_id,
        bool_or(user_id is not null) as is_identified,
        count(distinct anonymous_id) as anonymous_ids,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        count(distinct session_key) as sessions,
        count(distinct case when event_type = 'page' then coalesce(page_view_id, event_id) end) as page_views,
        count(*) as events,
        {{ arg_min('platform', 'event_at') }} as first_platform,
        {{ arg_min('browser', 'event_at') }} as first_browser,
        {{ arg_min('country', 'event_at') }} as first_country,
        {{ arg_max('app_version', 'event_at', where="app_version is not null") }} as latest_app_version,
        {{ arg_max('plan', 'event_at', where="plan is not null") }} as latest_plan
    from events
    where stitched_user_id is not null
    group by stitched_user_id
),

final as (
    select
        -- ids
        {{ person_key('stitched_user_id') }} as user_key,
        is_identified,
        -- timestamps
        first_seen_at,
        last_seen_at,
        -- measures
        cast(anonymous_ids as bigint) as anonymous_ids,
        cast(sessions as bigint) as sessions,
        cast(page_views as bigint) as page_views,
        cast(events as bigint) as events,
        -- segments
        first_platform,
        first_browser,
        first_country,
        latest_app_version,
        latest_plan
    from users
)

select * from final
