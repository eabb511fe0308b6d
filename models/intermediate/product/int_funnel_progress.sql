{{ config(
    materialized=incremental_materialization(), incremental_strategy='append', on_schema_change='sync_all_columns',
    pre_hook="{{ delete_touched_days('cohort_date') }}", post_hook="{{ record_incremental_state(page_event_staging()) }}"
) }}
{%- for name in page_event_staging() + ['int_page_events', 'funnels'] %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by cohort day (macros/incremental.sql): the progress of every entry of a touched cohort day is
-- recomputed, from the events of that day on.
-- docs/architecture.md §9 funnel rule: a unit (user or session) enters a funnel at its first step-1 event of a UTC
-- day (its cohort day) and reaches step k at its first step-k event at or after reaching step k-1 and within the
-- funnel's conversion window from that entry. Steps are chained up to var `funnel_max_steps`.
with

funnels as (
    select * from {{ ref('funnels') }}
),

{%- if is_incremental() %}

touched as (
    {{ touched_days() }}
),
{%- endif %}

events as (
    select * from {{ ref('int_page_events') }}
    {%- if is_incremental() %}
    where event_date >= (select min(touched_date) from touched)
    {%- endif %}
),

funnel_settings as (
    select
        funnel,
        {{ arg_min('unit', 'step') }} as unit,
        {{ arg_min('conversion_window_hours', 'step') }} as conversion_window_hours
    from funnels
    group by funnel
),

-- A step's pattern is a seed column, so the engine compiles it anew for every row it is matched against: it is
-- matched against each distinct event name and page path once, and events join the matches on equality.
event_names as (
    select distinct event_name from events where event_name is not null
),

page_paths as (
    select distinct page_path from events where event_type = 'page' and page_path is not null
),

step_matches as (
    select
        funnels.funnel,
        funnels.step,
        event_names.event_name as matched_value,
        'event' as match_on
    from funnels
    inner join event_names
        on funnels.match_on = 'event'
        and {{ full_match('event_names.event_name', 'funnels.pattern') }}
    union all
    select
        funnels.funnel,
        funnels.step,
        page_paths.page_path as matched_value,
        'page_path' as match_on
    from funnels
    inner join page_paths
        on funnels.match_on = 'page_path'
        and {{ full_match('page_paths.page_path', 'funnels.pattern') }}
),

step_events as (
    select
        step_matches.funnel,
        step_matches.step,
        case funnel_settings.unit
            when 'session' then events.session_key
            else events.stitched_user_id
        end as unit_id,
        events.event_key,
        events.event_at,
        events.platform,
        events.browser,
        events.country,
        events.app_version,
        events.plan
    from step_matches
    inner join funnel_settings
        on step_matches.funnel = funnel_settings.funnel
    inner join events
        on case step_matches.match_on
            when 'event' then events.event_name
            else case when events.event_type = 'page' then events.page_path end
        end = step_matches.matched_value
),

entry_events as (
    select
        step_events.funnel,
        funnel_settings.unit,
        step_events.unit_id,
        cast(step_events.event_at as date) as cohort_date,
        step_events.event_at as entered_at,
        {{ dbt.dateadd('second', 'cast(funnel_settings.conversion_window_hours * 3600 as bigint)',
                       'step_events.event_at') }} as window_ends_at,
        step_events.platform,
        step_events.browser,
        step_events.country,
        step_events.app_version,
        step_events.plan,
        step_events.event_key
    from step_events
    inner join funnel_settings
        on step_events.funnel = funnel_settings.funnel
    where step_events.step = 1
        and step_events.unit_id is not null
        {%- if is_incremental() %}
        and cast(step_events.event_at as date) in (select * from touched)
        {%- endif %}
),

entries as (
    {{ dedupe('entry_events', 'funnel, unit_id, cohort_date', 'entered_at, event_key') }}
),

step_1 as (
    select
        funnel,
        unit_id,
        entered_at,
        window_ends_at,
        entered_at as reached_at
    from entries
),

{% for step in range(2, var('funnel_max_steps') + 1) %}
step_{{ step }} as (
    select
        previous.funnel,
        previous.unit_id,
        previous.entered_at,
        previous.window_ends_at,
        min(step_events.event_at) as reached_at
    from step_{{ step - 1 }} as previous
    inner join step_events
        on previous.funnel = step_events.funnel
        and previous.unit_id = step_events.unit_id
        and step_events.step = {{ step }}
        and step_events.event_at >= previous.reached_at
        and step_events.event_at <= previous.window_ends_at
    group by previous.funnel, previous.unit_id, previous.entered_at, previous.window_ends_at
),

{% endfor %}
reached as (
    {% for step in range(1, var('funnel_max_steps') + 1) %}
    select {{ step }} as step, funnel, unit_id, entered_at, reached_at from step_{{ step }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        -- ids
        entries.funnel,
        entries.unit,
        entries.unit_id,
        reached.step,
        funnels.step_name,
        -- timestamps
        entries.cohort_date,
        entries.entered_at,
        reached.reached_at,
        -- measures
        cast({{ dbt.datediff('entries.entered_at', 'reached.reached_at', 'second') }} as {{ type_double() }}) / 60
            as minutes_to_step,
        -- segments (of the entry event)
        entries.platform,
        entries.browser,
        entries.country,
        entries.app_version,
        entries.plan
    from reached
    inner join entries
        on reached.funnel = entries.funnel
        and reached.unit_id = entries.unit_id
        and reached.entered_at = entries.entered_at
    inner join funnels
        on reached.funnel = funnels.funnel
        and reached.step = funnels.step
)

select * from final
