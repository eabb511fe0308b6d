{{ config(
    materialized=incremental_materialization(), incremental_strategy='append', on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_sessions() }}", post_hook="{{ record_incremental_state(page_event_staging()) }}"
) }}
{%- for name in page_event_staging() %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by session: the sessions of devices whose events were loaded since the last run are deleted and
-- recomputed from all their events (a session spanning midnight, an event a day late), sessions left without
-- events (a late event moved a session's start, so its key) are deleted.
with

events as (
    select * from {{ ref('int_page_events') }}
    {%- if is_incremental() %}
    where session_key in ({{ touched_sessions() }})
    {%- endif %}
),

sessions as (
    select
        session_key,
        {{ any_value('source_system') }} as source_system,
        {{ any_value('session_method') }} as session_method,
        {{ arg_min('stitched_user_id', 'event_at') }} as stitched_user_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as events,
        count(distinct case when event_type = 'page' then coalesce(page_view_id, event_id) end) as page_views,
        {{ arg_min('page_path', 'event_at', where="event_type = 'page'") }} as landing_page_path,
        {{ arg_max('page_path', 'event_at', where="event_type = 'page'") }} as exit_page_path,
        {{ arg_min('page_referrer', 'event_at', where="event_type = 'page'") }} as referrer,
        {{ arg_min('platform', 'event_at') }} as platform,
        {{ arg_min('browser', 'event_at') }} as browser,
        {{ arg_min('country', 'event_at') }} as country,
        {{ arg_min('app_version', 'event_at') }} as app_version,
        {{ arg_min('plan', 'event_at') }} as plan
    from events
    group by session_key
),

final as (
    select
        -- ids
        session_key,
        source_system,
        session_method,
        {{ person_key('stitched_user_id') }} as user_key,
        -- timestamps
        started_at,
        ended_at,
        cast(started_at as date) as session_date,
        -- measures
        cast({{ dbt.datediff('started_at', 'ended_at', 'millisecond') }} as {{ type_double() }}) / 1000
            as duration_seconds,
        cast(events as bigint) as events,
        cast(page_views as bigint) as page_views,
        -- pages
        landing_page_path,
        exit_page_path,
        referrer,
        -- segments
        platform,
        browser,
        country,
        app_version,
        plan
    from sessions
)

select * from final
