{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key='page_view_key',
    on_schema_change='append_new_columns', post_hook="{{ record_incremental_state(page_event_staging()) }}"
) }}
{%- for name in page_event_staging() %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by session: every page view of a session touched since the last run is recomputed (its order in
-- the session and time to the next view can change); a page view never disappears (events only arrive).
with

events as (
    select * from {{ ref('int_page_events') }}
    {%- if is_incremental() %}
    where session_key in ({{ touched_sessions() }})
    {%- endif %}
),

page_view_events as (
    select
        *,
        coalesce(page_view_id, event_id) as view_id
    from events
    where event_type = 'page'
),

page_events as (
    -- one row per page view: Snowplow repeats a page view id across duplicate page_view events; keep the first
    {{ dedupe('page_view_events', 'source_system, view_id', 'event_at, event_key') }}
),

final as (
    select
        -- ids
        source_system || ':' || view_id as page_view_key,
        view_id as page_view_id,
        source_system,
        session_key,
        {{ person_key('stitched_user_id') }} as user_key,
        -- timestamps
        event_at as viewed_at,
        event_date as view_date,
        -- page
        page_path,
        page_title,
        page_referrer,
        -- order in the session
        cast(row_number() over (partition by session_key order by event_at, event_key) as bigint)
            as page_view_in_session,
        cast({{ dbt.datediff(
            'event_at', 'lead(event_at) over (partition by session_key order by event_at, event_key)', 'millisecond'
        ) }} as {{ type_double() }}) / 1000 as seconds_to_next_page_view,
        -- segments
        platform,
        browser,
        country,
        app_version,
        plan
    from page_events
)

select * from final
