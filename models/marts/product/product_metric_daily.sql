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

-- The rolling windows never join a day to the observations of its window (every observation once per window day
-- it falls in: 36 copies, a range join): observations are first summed per metric and day, and a day's sums are
-- added to each of the 28 days whose windows it is in, an equality join. Numerators and denominators are counts
-- (int_product_measures), so adding daily subtotals gives the very sums of the observations. p75 windows pool a
-- histogram (one row per day and distinct value) the same way (macro histogram_percentile).
window_offsets as (
    -- an observation of day d is in the `window_days` window of each day d + day_offset, day_offset < window_days
    select window_sizes.window_days, offsets.day_offset
    from (values (1), (7), (28)) as window_sizes (window_days)
    inner join (values {{ day_offsets(28) }}) as offsets (day_offset)
        on offsets.day_offset < window_sizes.window_days
),

window_measures as (
    select * from measures
    {%- if is_incremental() %}
    where metric_date >= (select min(metric_date) from days) - 27
    {%- endif %}
),

daily as (
    select
        metric,
        metric_date,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        {{ percentile('measure_value', 0.75) }} as p75_value,
        count(*) as observations,
        count(distinct unit_id) as units
    from window_measures
    group by metric, metric_date
),

rolled as (
    select
        daily.metric,
        daily.metric_date + cast(window_offsets.day_offset as integer) as metric_date,
        window_offsets.window_days,
        sum(daily.numerator) as numerator,
        sum(daily.denominator) as denominator
    from daily
    cross join window_offsets
    group by 1, 2, 3
),

value_counts as (
    {{ measure_value_counts('window_measures') }}
),

rolled_value_counts as (
    select
        value_counts.metric,
        value_counts.metric_date + cast(window_offsets.day_offset as integer) as metric_date,
        window_offsets.window_days,
        value_counts.measure_value,
        sum(value_counts.observations) as observations
    from value_counts
    cross join window_offsets
    where window_offsets.window_days > 1
    group by 1, 2, 3, 4
),

rolled_p75 as (
    {{ histogram_percentile('rolled_value_counts', ['metric', 'metric_date', 'window_days'], 'measure_value',
                            'observations', 0.75) }}
),

windows as (
    select
        days.metric,
        days.metric_family,
        days.aggregation,
        days.metric_date,
        window_sizes.window_days,
        rolled.numerator,
        rolled.denominator,
        case when window_sizes.window_days = 1 then daily.p75_value else rolled_p75.percentile_value end
            as p75_value,
        coalesce(daily.observations, 0) as observations,
        coalesce(daily.units, 0) as units
    from days
    cross join (values (1), (7), (28)) as window_sizes (window_days)
    left join daily
        on days.metric = daily.metric
        and days.metric_date = daily.metric_date
    left join rolled
        on days.metric = rolled.metric
        and days.metric_date = rolled.metric_date
        and window_sizes.window_days = rolled.window_days
    left join rolled_p75
        on days.metric = rolled_p75.metric
        and days.metric_date = rolled_p75.metric_date
        and window_sizes.window_days = rolled_p75.window_days
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
