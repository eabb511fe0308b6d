{{ config(
    materialized=incremental_materialization(), incremental_strategy='append', on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_days('metric_date') }}", post_hook="{{ record_incremental_state(page_event_staging()) }}"
) }}
{%- for name in page_event_staging() + ['int_page_events', 'funnels'] %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by day (macros/incremental.sql): every segment of a touched day is recomputed (a day's value, its
-- overall value and its users depend on that day's observations only).
-- The daily product metrics broken down by each dimension in var `segment_dimensions`. A segment's share of users
-- is its share of the day's active users (each user-day counts in the segment of its first event that day);
-- `impact` = (segment value − overall value) × share of users, signed so that positive is worse — the worst
-- segment by impact is `order by impact desc`.
with

{%- if is_incremental() %}

touched as (
    {{ touched_days() }}
),
{%- endif %}

measures as (
    select * from {{ ref('int_product_measures') }}
    {%- if is_incremental() %}
    where metric_date in (select * from touched)
    {%- endif %}
),

daily as (
    select * from {{ ref('product_metric_daily') }}
    {%- if is_incremental() %}
    where metric_date in (select * from touched)
    {%- endif %}
),

{% set dimensions = var('segment_dimensions') %}
-- One aggregation per dimension, not one over the measures repeated once per dimension: each holds one dimension's
-- groups (percentiles and distinct users keep every observation of a group), so the peak memory is one dimension's.
aggregated as (
    {% for dimension in dimensions %}
    select
        metric,
        metric_date,
        '{{ dimension }}' as dimension,
        coalesce(cast({{ dimension }} as {{ dbt.type_string() }}), '(unknown)') as segment,
        {{ any_value('aggregation') }} as aggregation,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        {{ percentile('measure_value', 0.75) }} as p75_value,
        count(*) as observations,
        count(distinct unit_id) as units
    from measures
    group by 1, 2, 3, 4
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

segment_users as (
    -- active users per segment and day: the units of the user-day observations
    select
        metric_date,
        dimension,
        segment,
        units as users
    from aggregated
    where metric = 'page_views_per_user'
),

day_users as (
    select metric_date, units as users from daily where metric = 'page_views_per_user'
),

final as (
    select
        -- ids
        aggregated.metric,
        aggregated.metric_date,
        aggregated.dimension,
        aggregated.segment,
        daily.better,
        -- measures
        cast(case aggregated.aggregation
            when 'ratio' then aggregated.numerator / nullif(aggregated.denominator, 0)
            else aggregated.p75_value
        end as {{ type_double() }}) as value,
        cast(daily.value as {{ type_double() }}) as overall_value,
        cast(aggregated.observations as bigint) as observations,
        cast(aggregated.units as bigint) as units,
        cast(coalesce(segment_users.users, 0) as bigint) as segment_users,
        cast(coalesce(segment_users.users, 0) as {{ type_double() }}) / nullif(day_users.users, 0) as share_of_users,
        cast(
            (case aggregated.aggregation
                when 'ratio' then aggregated.numerator / nullif(aggregated.denominator, 0)
                else aggregated.p75_value
            end - daily.value)
            * coalesce(segment_users.users, 0) / nullif(day_users.users, 0)
            * case daily.better when 'higher' then -1 else 1 end
        as {{ type_double() }}) as impact
    from aggregated
    inner join daily
        on aggregated.metric = daily.metric
        and aggregated.metric_date = daily.metric_date
    left join segment_users
        on aggregated.metric_date = segment_users.metric_date
        and aggregated.dimension = segment_users.dimension
        and aggregated.segment = segment_users.segment
    left join day_users
        on aggregated.metric_date = day_users.metric_date
)

select * from final
