-- One row per improvement action — a row of seeds/improvement_actions.csv (teams without a tracker) or a Jira or
-- GitHub issue labelled var `improvement_action_label` (int_tracker_improvement_actions) — with the opportunity,
-- what the team decided to do, and whether it was done by its due date: `done_on_time`, `done_late`, `overdue` (not
-- done and past due) or `open` (also while it has no due date).
with

seed_actions as (
    select
        action_id,
        goal_id,
        cast(null as {{ dbt.type_string() }}) as issue_team,
        opportunity,
        resolution,
        owner_role,
        {{ goal_date('due_date') }} as due_date,
        {{ goal_date('completed_on') }} as completed_on,
        {{ goal_date('started_on') }} as started_on,
        'seed' as source
    from {{ ref('improvement_actions') }}
),

tracker_actions as (
    select
        action_id,
        goal_id,
        issue_team,
        opportunity,
        resolution,
        owner_role,
        due_date,
        completed_on,
        started_on,
        source_system as source
    from {{ ref('int_tracker_improvement_actions') }}
),

actions as (
    select * from seed_actions
    union all
    select * from tracker_actions
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
        coalesce(targets.team, actions.issue_team) as team,
        targets.metric,
        actions.source,
        -- text
        actions.opportunity,
        actions.resolution,
        actions.owner_role,
        -- dates
        cast(actions.due_date as date) as due_date,
        cast(actions.completed_on as date) as completed_on,
        cast(actions.started_on as date) as started_on,
        -- status
        case
            -- done with no due date: there was no deadline to miss
            when actions.completed_on is not null
                and (actions.due_date is null or cast(actions.completed_on as date) <= cast(actions.due_date as date))
                then 'done_on_time'
            when actions.completed_on is not null then 'done_late'
            when actions.due_date is not null and {{ as_of_date() }} > cast(actions.due_date as date) then 'overdue'
            else 'open'
        end as status,
        case
            when actions.due_date is null then cast(0 as bigint)
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
