{{ config(materialized='incremental', unique_key='goal_id', on_schema_change='fail') }}
-- The verdict on each goal whose due date has passed: `met` when the value over the window ending at the due date
-- is at least as good as the target, else `missed`. Incremental and insert-only: once a goal has a verdict, later
-- data never changes it (a goal judged with no data yet is judged on a later run, once it has some).
with

targets as (
    -- the seed's dates moved by var `goal_date_shift_days` (macros/as_of_date.sql)
    {{ goal_targets() }}
),

-- seeds/metric_catalogue.csv and the teams' own metrics (metrics/*.yml), macros/semantic_layer.sql
catalogue as (
    {{ goal_metric_catalogue() }}
),

metric_values as (
    select * from {{ ref('int_goal_metric_values') }}
    where evaluation = 'judged'
),

due_goals as (
    select
        targets.goal_id,
        metric_values.metric_value as judged_value,
        cast(targets.target as {{ type_double() }}) as target_value,
        catalogue.better
    from targets
    inner join metric_values
        on targets.goal_id = metric_values.goal_id
    inner join catalogue
        on targets.metric = catalogue.metric
    where {{ as_of_date() }} > cast(targets.due_date as date)
        and metric_values.metric_value is not null
    {% if is_incremental() %}
        and targets.goal_id not in (select goal_id from {{ this }})
    {% endif %}
),

final as (
    select
        goal_id,
        judged_value,
        case
            when better = 'lower' and judged_value <= target_value then 'met'
            when better = 'higher' and judged_value >= target_value then 'met'
            else 'missed'
        end as verdict,
        {{ as_of_date() }} as judged_on
    from due_goals
)

select * from final
