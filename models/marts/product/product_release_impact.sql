-- For each successful production deployment of a product service (var `product_services`; empty = every
-- service), each product metric over the `release_impact_days` whole UTC days before the deployment day against
-- the same number of days after it (the deployment day itself is in neither). Same aggregation as
-- product_metric_daily: ratio metrics sum numerators and denominators, p75 metrics pool the observations.
with

deployments as (
    select * from {{ ref('fct_deployments') }}
),

measures as (
    select * from {{ ref('int_product_measures') }}
),

catalogue as (
    select * from {{ ref('metric_catalogue') }}
),

releases as (
    select
        deployment_id,
        service,
        team,
        deployed_at,
        cast(deployed_at as date) as deployed_date
    from deployments
    where is_production
        and status = 'success'
        and deployed_at is not null
        {% if var('product_services') %}
        and service in ({% for service in var('product_services') %}'{{ service }}'{% if not loop.last %}, {% endif %}{% endfor %})
        {% endif %}
),

metrics as (
    select distinct metric, metric_family, aggregation from measures
),

-- A release's sides depend on its day only: they are computed once per deployment day, not per deployment, and
-- without a range join of releases to observations (every observation once per release near it). Observations are
-- first summed per metric and day, and each day's sums are added to the (at most 2 × release_impact_days)
-- deployment days whose windows it is in, an equality join. Numerators and denominators are counts
-- (int_product_measures), so adding daily subtotals gives the very sums of the observations; p75 metrics pool a
-- histogram (one row per day and distinct value) the same way (macro histogram_percentile).
release_days as (
    select distinct deployed_date from releases
),

side_offsets as (
    -- a day is on the `before` side of a release day_offset days later, on its `after` side one |day_offset| earlier
    {%- set days = var('release_impact_days') %}
    select
        offsets.day_offset,
        case when offsets.day_offset > 0 then 'before' else 'after' end as side
    from (
        values
        {%- for offset in range(1, days + 1) %} ({{ offset }}), ({{ -offset }}){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as offsets (day_offset)
),

daily as (
    select
        metric,
        metric_date,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(*) as observations
    from measures
    group by metric, metric_date
),

-- each day's subtotals once per deployment day whose sides it is on (the shifted day a column of its own, so the
-- release days join it on equality, not a filter over every pair)
shifted_daily as (
    select
        daily.*,
        side_offsets.side,
        daily.metric_date + cast(side_offsets.day_offset as integer) as deployed_date
    from daily
    cross join side_offsets
),

sides as (
    select
        release_days.deployed_date,
        shifted_daily.metric,
        shifted_daily.side,
        sum(shifted_daily.numerator) as numerator,
        sum(shifted_daily.denominator) as denominator,
        sum(shifted_daily.observations) as observations,
        count(*) as days
    from shifted_daily
    inner join release_days
        on shifted_daily.deployed_date = release_days.deployed_date
    group by 1, 2, 3
),

value_counts as (
    {{ measure_value_counts('measures') }}
),

shifted_value_counts as (
    select
        value_counts.*,
        side_offsets.side,
        value_counts.metric_date + cast(side_offsets.day_offset as integer) as deployed_date
    from value_counts
    cross join side_offsets
),

side_value_counts as (
    select
        release_days.deployed_date,
        shifted_value_counts.metric,
        shifted_value_counts.side,
        shifted_value_counts.measure_value,
        sum(shifted_value_counts.observations) as observations
    from shifted_value_counts
    inner join release_days
        on shifted_value_counts.deployed_date = release_days.deployed_date
    group by 1, 2, 3, 4
),

side_p75 as (
    {{ histogram_percentile('side_value_counts', ['deployed_date', 'metric', 'side'], 'measure_value',
                            'observations', 0.75) }}
),

valued as (
    select
        sides.deployed_date,
        sides.metric,
        sides.side,
        sides.observations,
        sides.days,
        case metrics.aggregation
            when 'ratio' then sides.numerator / nullif(sides.denominator, 0)
            else side_p75.percentile_value
        end as value
    from sides
    inner join metrics
        on sides.metric = metrics.metric
    left join side_p75
        on sides.deployed_date = side_p75.deployed_date
        and sides.metric = side_p75.metric
        and sides.side = side_p75.side
),

final as (
    select
        -- ids
        cast(releases.deployment_id as {{ dbt.type_string() }}) as deployment_id,
        metrics.metric,
        releases.service,
        releases.team,
        -- timestamps
        releases.deployed_at,
        releases.deployed_date,
        -- measures
        cast({{ var('release_impact_days') }} as integer) as window_days,
        catalogue.better,
        cast(before.value as {{ type_double() }}) as before_value,
        cast(after.value as {{ type_double() }}) as after_value,
        cast(after.value - before.value as {{ type_double() }}) as difference,
        cast((after.value - before.value) / nullif(abs(before.value), 0) as {{ type_double() }}) as relative_difference,
        case
            when after.value is null or before.value is null or after.value = before.value then null
            when catalogue.better = 'higher' then after.value > before.value
            when catalogue.better = 'lower' then after.value < before.value
        end as is_improvement,
        cast(coalesce(before.observations, 0) as bigint) as before_observations,
        cast(coalesce(after.observations, 0) as bigint) as after_observations,
        cast(coalesce(before.days, 0) as bigint) as before_days,
        cast(coalesce(after.days, 0) as bigint) as after_days
    from releases
    cross join metrics
    left join valued as before
        on releases.deployed_date = before.deployed_date
        and metrics.metric = before.metric
        and before.side = 'before'
    left join valued as after
        on releases.deployed_date = after.deployed_date
        and metrics.metric = after.metric
        and after.side = 'after'
    left join catalogue
        on metrics.metric_family = catalogue.metric
)

select * from final
