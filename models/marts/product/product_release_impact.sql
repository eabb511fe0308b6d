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

sides as (
    select
        releases.deployment_id,
        metrics.metric,
        case when measures.metric_date < releases.deployed_date then 'before' else 'after' end as side,
        sum(measures.numerator) as numerator,
        sum(measures.denominator) as denominator,
        {{ percentile('measures.measure_value', 0.75) }} as p75_value,
        count(*) as observations,
        count(distinct measures.metric_date) as days
    from releases
    cross join metrics
    inner join measures
        on metrics.metric = measures.metric
        and measures.metric_date <> releases.deployed_date
        and measures.metric_date between releases.deployed_date - {{ var('release_impact_days') }}
            and releases.deployed_date + {{ var('release_impact_days') }}
    group by 1, 2, 3
),

valued as (
    select
        sides.deployment_id,
        sides.metric,
        sides.side,
        sides.observations,
        sides.days,
        case metrics.aggregation
            when 'ratio' then sides.numerator / nullif(sides.denominator, 0)
            else sides.p75_value
        end as value
    from sides
    inner join metrics
        on sides.metric = metrics.metric
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
        on releases.deployment_id = before.deployment_id
        and metrics.metric = before.metric
        and before.side = 'before'
    left join valued as after
        on releases.deployment_id = after.deployment_id
        and metrics.metric = after.metric
        and after.side = 'after'
    left join catalogue
        on metrics.metric_family = catalogue.metric
)

select * from final
