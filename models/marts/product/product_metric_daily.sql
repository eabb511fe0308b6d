{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert',
    unique_key=['metric', 'metric_date'], on_schema_change='append_new_columns',
    post_hook="{{ record_incremental_state(page_event_staging()) }}"
) }}
{%- for name in page_event_staging() + ['int_page_events', 'funnels'] %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by day (macros/incremental.sql): a touched day is recomputed with the 27 days after it (their
-- rolling windows reach back to it), and so is every day a metric's range gained (days before its old first day
-- or after its old last; a day without observations keeps its rolling values). A metric's range never shrinks:
-- events only arrive.
-- Ratio metrics: value = sum(numerator) / sum(denominator) over the day's (or window's) observations, so a rolling
-- value weighs every user-day (or funnel entry) equally; p75 metrics: the continuous 75th percentile of every
-- observation in the day or window (not an average of daily p75s).
with

measures as (
    select * from {{ ref('int_product_measures') }}
),

catalogue as (
    select * from {{ ref('metric_catalogue') }}
),

bounds as (
    select
        metric,
        {{ any_value('metric_family') }} as metric_family,
        {{ any_value('aggregation') }} as aggregation,
        min(metric_date) as first_date,
        max(metric_date) as last_date
    from measures
    group by metric
),

all_days as (
    {{ days_between('bounds', 'first_date', 'last_date', ['metric', 'metric_family', 'aggregation']) }}
),

{%- if is_incremental() %}

touched as (
    {{ touched_days() }}
),

previous_bounds as (
    select
        metric,
        min(metric_date) as first_date,
        max(metric_date) as last_date
    from {{ this }}
    group by metric
),

days as (
    select all_days.*
    from all_days
    left join previous_bounds
        on all_days.metric = previous_bounds.metric
    where previous_bounds.metric is null
        or all_days.metric_date < previous_bounds.first_date
        or all_days.metric_date > previous_bounds.last_date
        or exists (
            select 1
            from touched
            where all_days.metric_date between touched.touched_date and touched.touched_date + 27
        )
),
{%- else %}

days as (
    select * from all_days
),
{%- endif %}

windows as (
    select
        days.metric,
        days.metric_family,
        days.aggregation,
        days.metric_date,
        window_sizes.window_days,
        sum(measures.numerator) as numerator,
        sum(measures.denominator) as denominator,
        {{ percentile('measures.measure_value', 0.75) }} as p75_value,
        count(measures.metric) as observations,
        count(distinct measures.unit_id) as units
    from days
    cross join (values (1), (7), (28)) as window_sizes (window_days)
    left join measures
        on days.metric = measures.metric
        and measures.metric_date between days.metric_date - cast(window_sizes.window_days - 1 as integer)
            and days.metric_date
    group by 1, 2, 3, 4, 5
),

valued as (
    select
        *,
        case aggregation
            when 'ratio' then numerator / nullif(denominator, 0)
            else p75_value
        end as value
    from windows
),

pivoted as (
    select
        metric,
        metric_family,
        aggregation,
        metric_date,
        max(case when window_days = 1 then value end) as value,
        max(case when window_days = 1 then numerator end) as numerator,
        max(case when window_days = 1 then denominator end) as denominator,
        max(case when window_days = 1 then observations end) as observations,
        max(case when window_days = 1 then units end) as units,
        max(case when window_days = 7 then value end) as rolling_7d_value,
        max(case when window_days = 28 then value end) as rolling_28d_value
    from valued
    group by metric, metric_family, aggregation, metric_date
),

final as (
    select
        -- ids
        pivoted.metric,
        pivoted.metric_date,
        pivoted.metric_family,
        catalogue.category,
        catalogue.unit,
        catalogue.better,
        pivoted.aggregation,
        -- measures
        cast(pivoted.value as {{ type_double() }}) as value,
        cast(pivoted.numerator as {{ type_double() }}) as numerator,
        cast(pivoted.denominator as {{ type_double() }}) as denominator,
        cast(pivoted.observations as bigint) as observations,
        cast(pivoted.units as bigint) as units,
        cast(pivoted.rolling_7d_value as {{ type_double() }}) as rolling_7d_value,
        cast(pivoted.rolling_28d_value as {{ type_double() }}) as rolling_28d_value
    from pivoted
    left join catalogue
        on pivoted.metric_family = catalogue.metric
)

select * from final
