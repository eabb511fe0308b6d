-- MetricFlow's time spine (docs/architecture.md §9a): one row per UTC day from 2015 through 2035, so metric_time has
-- a row for every day, week and month a metric can be asked about.
with

days as (
    {{ dbt.date_spine('day', "cast('2015-01-01' as date)", "cast('2036-01-01' as date)") }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
