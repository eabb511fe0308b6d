{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key='device_key',
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(page_event_staging()) }}"
) }}
-- Incremental by device: every event of a device (anonymous id, else user id) is recomputed when any event of it
-- was loaded since the last run: an event delivered a day late, a session that spans midnight, or an identify
-- that re-attributes the device's earlier events can change any of its events, and never another device's.
with

segment_events as (
    select * from {{ ref('stg_events__segment_events') }}
    -- views of the Yardstick report itself (`yardstick report --track`) are not the product's: int_report_section_views
    where not (event_type = 'page' and coalesce(event_name, '') = 'Yardstick report')
),

snowplow_events as (
    select * from {{ ref('stg_events__snowplow_events') }}
),

{%- if is_incremental() %}

changed as (
    {{ changed_since(page_event_staging(), "source_system || ':' || coalesce(anonymous_id, user_id, '')") }}
),
{%- endif %}

unioned as (
    {% for relation in ['segment_events', 'snowplow_events'] %}
    select
        event_id,
        source_system,
        event_type,
        event_name,
        page_view_id,
        user_id,
        anonymous_id,
        tracker_session_id,
        event_at,
        received_at,
        page_path,
        page_url,
        page_title,
        page_referrer,
        platform,
        browser,
        country,
        app_version,
        plan,
        properties,
        loaded_by
    from {{ relation }}
    {%- if is_incremental() %}
    where source_system || ':' || coalesce(anonymous_id, user_id, '') in (select * from changed)
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),


identified_devices as (
    -- anonymous → identified: every event of a device (anonymous id) belongs to the last user id seen on it,
    -- as in Snowplow's and Segment's identity stitching; a device never identified is its own user
    select
        source_system,
        anonymous_id,
        {{ arg_max('user_id', 'event_at') }} as identified_user_id
    from unioned
    where anonymous_id is not null and user_id is not null
    group by source_system, anonymous_id
),

stitched as (
    select
        unioned.*,
        coalesce(identified_devices.identified_user_id, unioned.user_id, unioned.anonymous_id) as stitched_user_id,
        coalesce(unioned.anonymous_id, unioned.user_id) as device_id
    from unioned
    left join identified_devices
        on unioned.source_system = identified_devices.source_system
        and unioned.anonymous_id = identified_devices.anonymous_id
),

-- Sessions of events without a tracker session: a new session after `session_inactivity_minutes` of silence on the
-- device. Every event at one time is in the same session, that of the first: the session is the latest start over
-- a range frame, which takes in all of an event's peers (events at the same time), whichever of them is the start.
-- No join back from narrower rows: PostgreSQL, which has no statistics on a model's CTEs, planned such a join as a
-- nested loop over the windows and took minutes for ten thousand events.
inactivity_gaps as (
    select
        *,
        case
            when lag(event_at) over device_times is null
                or event_at > {{ dbt.dateadd('minute', var('session_inactivity_minutes'), 'lag(event_at) over device_times') }}
                then event_at
        end as session_start_at
    from stitched
    where tracker_session_id is null
    window device_times as (partition by source_system, device_id order by event_at)
),

inactivity_keyed as (
    select
        *,
        md5(source_system || ':inactivity:' || coalesce(device_id, '') || ':' || cast(
            max(session_start_at) over (
                partition by source_system, device_id order by event_at
                range between unbounded preceding and current row
            ) as {{ dbt.type_string() }}
        )) as session_key,
        'inactivity' as session_method
    from inactivity_gaps
),

tracker_keyed as (
    select
        *,
        cast(null as {{ dbt.type_timestamp() }}) as session_start_at,  -- inactivity_gaps' column, for the union
        md5(source_system || ':tracker:' || tracker_session_id) as session_key,
        'tracker' as session_method
    from stitched
    where tracker_session_id is not null
),

sessionised as (
    select * from tracker_keyed
    union all
    select * from inactivity_keyed
),

final as (
    select
        -- ids
        source_system || ':' || event_id as event_key,
        source_system || ':' || coalesce(device_id, '') as device_key,
        event_id,
        source_system,
        page_view_id,
        user_id,
        anonymous_id,
        stitched_user_id,
        tracker_session_id,
        session_key,
        session_method,
        -- what happened
        event_type,
        event_name,
        -- timestamps
        event_at,
        cast(event_at as date) as event_date,
        received_at,
        -- page
        page_path,
        page_url,
        page_title,
        page_referrer,
        -- segments
        platform,
        browser,
        country,
        app_version,
        plan,
        -- payload
        properties,
        -- the load that brought the event (downstream product models find the devices they must recompute here)
        loaded_by
    from sessionised
),
{#- the table as the last build left it: every column but the bookkeeping ones is compared. A table built before
    `changed_by` existed: its rows take their own load id, as in a full build (that first build after the upgrade
    recomputes every day anyway: the project's fingerprint changed) #}
{%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | list if is_incremental() else [] %}
{%- set has_changed_by = 'changed_by' in existing %}
{%- if has_changed_by %}
{%- set compared = existing | reject('in', ['event_key', 'loaded_by', 'changed_by', 'changed_from_date']) | list %}

-- The recomputed devices' rows as the last build left them. A row recomputed as it was keeps its `changed_by`, so
-- the daily product models recompute only the days whose rows changed, not every day a returning device was active.
previous as (
    select * from {{ this }}
    where device_key in (select final.device_key from final)
),

matched as (
    select
        final.*,
        previous.changed_by as previous_changed_by,
        previous.changed_from_date as previous_changed_from_date,
        previous.event_date as previous_event_date,
        previous.event_key is not null
        {%- for column in compared %}
            and final.{{ column }} is not distinct from previous.{{ column }}
        {%- endfor %} as is_unchanged
    from final
    left join previous
        on final.event_key = previous.event_key
),

compared as (
    select
        matched.* exclude (previous_changed_by, previous_changed_from_date, previous_event_date, is_unchanged),
        -- a changed row: the newest load of its device's events (later than any model's last run: the device was
        -- recomputed because of it)
        case
            when is_unchanged then previous_changed_by
            else max(loaded_by) over (partition by device_key)
        end as changed_by,
        case
            when is_unchanged then previous_changed_from_date
            when previous_event_date <> event_date then previous_event_date
        end as changed_from_date
    from matched
)
{%- else %}

compared as (
    select
        final.*,
        final.loaded_by as changed_by,
        cast(null as date) as changed_from_date
    from final
)
{%- endif %}

select * from compared
