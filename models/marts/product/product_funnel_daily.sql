{{ config(
    materialized=incremental_materialization(), incremental_strategy='append', on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_days('cohort_date') }}", post_hook="{{ record_incremental_state(page_event_staging()) }}"
) }}
{%- for name in page_event_staging() + ['int_page_events', 'funnels'] %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental by cohort day (macros/incremental.sql): every step of a touched cohort day is recomputed.
with

funnels as (
    select * from {{ ref('funnels') }}
),

{%- if is_incremental() %}

touched as (
    {{ touched_days() }}
),
{%- endif %}

progress as (
    select * from {{ ref('int_funnel_progress') }}
    {%- if is_incremental() %}
    where cohort_date in (select * from touched)
    {%- endif %}
),

cohorts as (
    select distinct funnel, unit, cohort_date from progress where step = 1
),

grid as (
    select
        cohorts.funnel,
        cohorts.unit,
        cohorts.cohort_date,
        funnels.step,
        funnels.step_name
    from cohorts
    inner join funnels
        on cohorts.funnel = funnels.funnel
),

reached as (
    select
        funnel,
        cohort_date,
        step,
        count(*) as units_reached,
        {{ percentile('minutes_to_step', 0.5) }} as median_minutes_to_step
    from progress
    group by funnel, cohort_date, step
),

counted as (
    select
        grid.*,
        coalesce(reached.units_reached, 0) as units_reached,
        reached.median_minutes_to_step
    from grid
    left join reached
        on grid.funnel = reached.funnel
        and grid.cohort_date = reached.cohort_date
        and grid.step = reached.step
),

final as (
    select
        -- ids
        funnel,
        cohort_date,
        cast(step as integer) as step,
        step_name,
        unit,
        -- measures
        cast(first_value(units_reached) over cohort as bigint) as units_entered,
        cast(units_reached as bigint) as units_reached,
        cast(coalesce(lag(units_reached) over cohort, units_reached) as bigint) as units_at_previous_step,
        cast(coalesce(lag(units_reached) over cohort, units_reached) - units_reached as bigint) as drop_off_units,
        cast(units_reached as {{ type_double() }})
            / nullif(coalesce(lag(units_reached) over cohort, units_reached), 0) as step_conversion,
        cast(units_reached as {{ type_double() }}) / nullif(first_value(units_reached) over cohort, 0)
            as overall_conversion,
        cast(case when step > 1 then median_minutes_to_step end as {{ type_double() }}) as median_minutes_to_step
    from counted
    window cohort as (partition by funnel, cohort_date order by step)
)

select * from final
