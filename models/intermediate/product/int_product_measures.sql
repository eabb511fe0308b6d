{{ config(
    materialized=incremental_materialization(), incremental_strategy='append', on_schema_change='sync_all_columns',
    pre_hook="{{ delete_touched_days('metric_date') }}", post_hook="{{ record_incremental_state(page_event_staging()) }}"
) }}
{%- for name in page_event_staging() + ['int_page_events', 'funnels'] %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by day (macros/incremental.sql): every observation of a touched day (a conversion: of a touched
-- cohort day) is recomputed from all of that day's events.
-- The observations every product metric aggregates, one row each, so a daily value, a rolling window, a segment
-- and a before/after comparison are the same aggregation over different row sets:
--   ratio metrics: value = sum(numerator) / sum(denominator); p75 metrics: value = p75(measure_value).
with

{%- if is_incremental() %}

touched as (
    {{ touched_days() }}
),
{%- endif %}

events as (
    select * from {{ ref('int_page_events') }}
    {%- if is_incremental() %}
    where event_date in (select * from touched)
    {%- endif %}
),

funnel_progress as (
    select * from {{ ref('int_funnel_progress') }}
    {%- if is_incremental() %}
    where cohort_date in (select * from touched)
    {%- endif %}
),

user_days as (
    select
        stitched_user_id as user_id,
        event_date as metric_date,
        count(case when {{ matches('event_name', var('error_event_pattern')) }} then 1 end) as error_events,
        count(distinct case when event_type = 'page' then coalesce(page_view_id, event_id) end) as page_views,
        {{ arg_min('platform', 'event_at') }} as platform,
        {{ arg_min('browser', 'event_at') }} as browser,
        {{ arg_min('country', 'event_at') }} as country,
        {{ arg_min('app_version', 'event_at') }} as app_version,
        {{ arg_min('plan', 'event_at') }} as plan
    from events
    where stitched_user_id is not null
        and event_type <> 'identify'
    group by stitched_user_id, event_date
),

ratio_per_user_day as (
    {% for metric, column in [('errors_per_user', 'error_events'), ('page_views_per_user', 'page_views')] %}
    select
        '{{ metric }}' as metric,
        '{{ metric }}' as metric_family,
        'ratio' as aggregation,
        metric_date,
        user_id as unit_id,
        cast({{ column }} as {{ type_double() }}) as numerator,
        1.0 as denominator,
        cast(null as {{ type_double() }}) as measure_value,
        platform, browser, country, app_version, plan,
        -- the key of a timed observation; ratio observations are one per metric, unit and day
        cast(null as {{ dbt.type_string() }}) as event_key
    from user_days
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

timings as (
    {% for property in var('timing_properties') %}
    select
        'p75_{{ property }}' as metric,
        'p75_{{ property }}' as metric_family,
        'p75' as aggregation,
        event_date as metric_date,
        stitched_user_id as unit_id,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        {{ event_property_number('properties', property) }} as measure_value,
        platform, browser, country, app_version, plan,
        event_key
    from events
    where {{ event_property_number('properties', property) }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

last_steps as (
    select funnel, max(step) as last_step from {{ ref('funnels') }} group by funnel
),

conversions as (
    select
        'conversion_' || funnel_progress.funnel as metric,
        'conversion' as metric_family,
        'ratio' as aggregation,
        funnel_progress.cohort_date as metric_date,
        funnel_progress.unit_id,
        cast(max(case when funnel_progress.step = last_steps.last_step then 1 else 0 end) as {{ type_double() }})
            as numerator,
        1.0 as denominator,
        cast(null as {{ type_double() }}) as measure_value,
        funnel_progress.platform,
        funnel_progress.browser,
        funnel_progress.country,
        funnel_progress.app_version,
        funnel_progress.plan,
        cast(null as {{ dbt.type_string() }}) as event_key
    from funnel_progress
    inner join last_steps
        on funnel_progress.funnel = last_steps.funnel
    group by 1, 4, 5, 9, 10, 11, 12, 13
)

select * from ratio_per_user_day
{% if var('timing_properties') %}
union all
select * from timings
{% endif %}
union all
select * from conversions
