-- Cycle time of every done issue: first move into an in-progress status → last move into a done status (by
-- status category). A reopened issue keeps its first start, so its cycle time spans the rework.
with

issues as (
    select * from {{ ref('int_issues') }}
),

transitions as (
    select * from {{ ref('int_issue_transitions') }}
),

reopenings as (
    select
        transitions.issue_key,
        count(*) as reopen_count
    from transitions
    inner join issues
        on transitions.issue_key = issues.issue_key
    where transitions.from_category = 'done'
        and transitions.to_category <> 'done'
        and transitions.transitioned_at < issues.done_at
    group by transitions.issue_key
),

final as (
    select
        -- ids
        issues.team,
        issues.issue_key,
        issues.issue_ref,
        issues.project,
        -- text
        issues.issue_type,
        -- measures
        issues.story_points,
        cast(coalesce(reopenings.reopen_count, 0) as bigint) as reopen_count,
        -- timestamps
        issues.started_at as in_progress_at,
        issues.done_at,
        {{ period_start('month', 'issues.done_at') }} as done_month,
        {{ hours_between('issues.started_at', 'issues.done_at') }} as cycle_time_hours
    from issues
    left join reopenings
        on issues.issue_key = reopenings.issue_key
    where issues.status = 'done'
        and issues.done_at is not null
        and not issues.is_subtask
)

select * from final
