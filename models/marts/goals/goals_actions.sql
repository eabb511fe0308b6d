-- One row per improvement action: the opportunity, what the team decided to do, and whether it was done by its
-- due date: `done_on_time`, `done_late`, `overdue` (not done and past due) or `open`.
with

actions as (
    select
        action_id,
        goal_id,
        opportunity,
        resolution,
        owner_role,
        {{ goal_date('due_date') }} as due_date,
        {{ goal_date('completed_on') }} as completed_on
    from {{ ref('improvement_actions') }}
),

targets as (
    -- the seed's dates moved by var `goal_date_shift_days` (macros/as_of_date.sql)
    {{ goal_targets() }}
),

final as (
    select
        -- ids
        actions.action_id,
        actions.goal_id,
        targets.team,
        targets.metric,
        -- text
        actions.opportunity,
        actions.resolution,
        actions.owner_role,
        -- dates
        cast(actions.due_date as date) as due_date,
        cast(actions.completed_on as date) as completed_on,
        -- status
        case
            when actions.completed_on is not null and cast(actions.completed_on as date) <= cast(actions.due_date as date)
                then 'done_on_time'
            when actions.completed_on is not null then 'done_late'
            when {{ as_of_date() }} > cast(actions.due_date as date) then 'overdue'
            else 'open'
        end as status,
        case
            when actions.completed_on is not null
                then greatest(cast({{ dbt.datediff(
                    'cast(actions.due_date as date)', 'cast(actions.completed_on as date)', 'day'
                ) }} as bigint), 0)
            else greatest(cast({{ dbt.datediff('cast(actions.due_date as date)', as_of_date(), 'day') }} as bigint), 0)
        end as days_late
    from actions
    left join targets
        on actions.goal_id = targets.goal_id
)

select * from final
