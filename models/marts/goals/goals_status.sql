-- One row per goal: baseline, current value, target and status. While open, a goal is `on_track` when its current
-- value is at least as good as the straight line from baseline (at start_date) to target (at due_date) says it
-- should be by now, else `off_track`; once due it is `met` or `missed`, judged on the window ending at the due
-- date and frozen then (int_goal_verdicts). `no_data` when the metric has no value yet.
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
),

verdicts as (
    select * from {{ ref('int_goal_verdicts') }}
),

measured as (
    select
        targets.goal_id,
        targets.team,
        targets.metric,
        catalogue.category,
        catalogue.better,
        targets.owner_role,
        cast(targets.start_date as date) as start_date,
        cast(targets.due_date as date) as due_date,
        cast(targets.reviewed_on as date) as reviewed_on,
        cast(coalesce(targets.baseline, baseline.metric_value) as {{ type_double() }}) as baseline_value,
        targets.baseline is null as is_baseline_computed,
        cast(targets.target as {{ type_double() }}) as target_value,
        coalesce(verdicts.judged_value, judged.metric_value) as current_value,
        verdicts.verdict,
        verdicts.judged_on,
        {{ as_of_date() }} > cast(targets.due_date as date) as is_due,
        -- share of the goal's time that has passed, 0 to 1
        least(greatest(
            cast({{ dbt.datediff('cast(targets.start_date as date)', as_of_date(), 'day') }} as {{ type_double() }})
                / nullif({{ dbt.datediff(
                    'cast(targets.start_date as date)', 'cast(targets.due_date as date)', 'day'
                ) }}, 0),
            0), 1) as elapsed_share
    from targets
    inner join catalogue
        on targets.metric = catalogue.metric
    left join metric_values as baseline
        on targets.goal_id = baseline.goal_id
        and baseline.evaluation = 'baseline'
    left join metric_values as judged
        on targets.goal_id = judged.goal_id
        and judged.evaluation = 'judged'
    left join verdicts
        on targets.goal_id = verdicts.goal_id
),

expected as (
    select
        *,
        case
            when baseline_value is null then target_value
            else baseline_value + (target_value - baseline_value) * elapsed_share
        end as expected_value
    from measured
),

final as (
    select
        -- ids
        goal_id,
        team,
        metric,
        category,
        better,
        owner_role,
        -- dates
        start_date,
        due_date,
        reviewed_on,
        judged_on,
        -- measures
        baseline_value,
        is_baseline_computed,
        target_value,
        current_value,
        expected_value,
        case
            when current_value is null or baseline_value is null or target_value = baseline_value then null
            else (current_value - baseline_value) / (target_value - baseline_value)
        end as progress,
        -- status
        case
            when verdict is not null then verdict
            when current_value is null then 'no_data'
            when is_due then 'no_data'
            when better = 'lower' and current_value <= expected_value then 'on_track'
            when better = 'higher' and current_value >= expected_value then 'on_track'
            else 'off_track'
        end as status,
        is_due,
        verdict is not null as is_frozen,
        reviewed_on is not null as is_reviewed
    from expected
)

select * from final
