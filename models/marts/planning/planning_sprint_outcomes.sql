-- Sprint outcomes per sprint and team, reconstructed from the sprint field's history (never today's state).
-- A stay in a sprint (entered → left) that begins and ends on the same UTC day is ignored: such an issue counts
-- as neither committed, added, removed nor completed. Sub-tasks are left out (they follow their parent).
with

issues as (
    select * from {{ ref('int_issues') }}
),

sprints as (
    select * from {{ ref('int_sprints') }}
),

membership_changes as (
    select * from {{ ref('int_sprint_membership_changes') }}
),

transitions as (
    select * from {{ ref('int_issue_transitions') }}
),

windows as (
    select
        sprint_key,
        sprint_id,
        sprint_name,
        started_at as sprint_start_at,
        coalesce(completed_at, ends_at) as sprint_end_at
    from sprints
    where started_at is not null
),

ordered_changes as (
    select
        issue_key,
        sprint_key,
        change,
        changed_at,
        lead(changed_at) over (
            partition by issue_key, sprint_key order by changed_at, membership_change_key
        ) as next_changed_at
    from membership_changes
),

-- stays in the sprint: [entered_at, left_at), left_at NULL while still in it
stays as (
    select
        issue_key,
        sprint_key,
        changed_at as entered_at,
        next_changed_at as left_at
    from ordered_changes
    where change = 'added'
        and not (
            next_changed_at is not null
            and cast(changed_at as date) = cast(next_changed_at as date)
        )
),

stays_in_window as (
    select
        stays.issue_key,
        windows.sprint_key,
        windows.sprint_start_at,
        windows.sprint_end_at,
        stays.entered_at,
        stays.left_at,
        lag(stays.left_at) over (
            partition by stays.issue_key, stays.sprint_key order by stays.entered_at
        ) as previous_left_at
    from stays
    inner join windows
        on stays.sprint_key = windows.sprint_key
),

memberships as (
    select
        issue_key,
        sprint_key,
        max(case
            when entered_at <= sprint_start_at and (left_at is null or left_at > sprint_start_at) then 1 else 0
        end) = 1 as was_in_at_start,
        max(case
            when entered_at > sprint_start_at and entered_at <= sprint_end_at then 1 else 0
        end) = 1 as entered_during,
        max(case
            when entered_at <= sprint_end_at and (left_at is null or left_at > sprint_end_at) then 1 else 0
        end) = 1 as was_in_at_end,
        max(case
            when entered_at > sprint_start_at and entered_at <= sprint_end_at
                and previous_left_at > sprint_start_at then 1 else 0
        end) = 1 as came_back
    from stays_in_window
    group by issue_key, sprint_key
),

status_at_end as (
    select
        memberships.issue_key,
        memberships.sprint_key,
        transitions.to_category,
        row_number() over (
            partition by memberships.issue_key, memberships.sprint_key
            order by transitions.transitioned_at desc, transitions.transition_key desc
        ) as recency
    from memberships
    inner join windows
        on memberships.sprint_key = windows.sprint_key
    inner join transitions
        on memberships.issue_key = transitions.issue_key
        and transitions.transitioned_at <= windows.sprint_end_at
),

issue_outcomes as (
    select
        issues.team,
        memberships.sprint_key,
        memberships.issue_key,
        issues.story_points,
        memberships.was_in_at_start as is_committed,
        not memberships.was_in_at_start and memberships.entered_during as is_added,
        (memberships.was_in_at_start or memberships.entered_during) and not memberships.was_in_at_end
            as is_removed,
        memberships.was_in_at_end
            and coalesce(status_at_end.to_category = 'done', issues.done_at <= windows.sprint_end_at, false)
            as is_completed,
        memberships.came_back as is_churned
    from memberships
    inner join issues
        on memberships.issue_key = issues.issue_key
    inner join windows
        on memberships.sprint_key = windows.sprint_key
    left join status_at_end
        on memberships.issue_key = status_at_end.issue_key
        and memberships.sprint_key = status_at_end.sprint_key
        and status_at_end.recency = 1
    where not issues.is_subtask
),

flagged as (
    select
        issue_outcomes.*,
        issue_outcomes.is_committed and issue_outcomes.is_completed as is_completed_committed
    from issue_outcomes
),

{%- set outcomes = ['committed', 'added', 'removed', 'completed', 'completed_committed'] %}

counted as (
    select
        team,
        sprint_key,
        {%- for outcome in outcomes %}
        sum(case when is_{{ outcome }} then 1 else 0 end) as {{ outcome }}_issues,
        sum(case when is_{{ outcome }} then coalesce(story_points, 0) else 0 end) as {{ outcome }}_points,
        {%- endfor %}
        sum(case when is_churned then 1 else 0 end) as churned_issues
    from flagged
    group by team, sprint_key
),

ratios as (
    select
        counted.*,
        case
            when counted.committed_issues > 0
                then cast(counted.completed_committed_issues as {{ type_double() }}) / counted.committed_issues
        end as planning_accuracy,
        case
            when counted.committed_issues > 0
                then cast(counted.added_issues as {{ type_double() }}) / counted.committed_issues
        end as scope_creep_issues,
        case
            when counted.committed_points > 0
                then cast(counted.added_points as {{ type_double() }}) / counted.committed_points
        end as scope_creep_points
    from counted
),

final as (
    select
        -- ids
        ratios.team,
        windows.sprint_key,
        windows.sprint_id,
        windows.sprint_name,
        -- timestamps
        windows.sprint_start_at,
        windows.sprint_end_at,
        -- counts
        {%- for outcome in outcomes %}
        cast(ratios.{{ outcome }}_issues as bigint) as {{ outcome }}_issues,
        cast(ratios.{{ outcome }}_points as {{ type_double() }}) as {{ outcome }}_points,
        {%- endfor %}
        cast(ratios.churned_issues as bigint) as churned_issues,
        -- ratios
        ratios.planning_accuracy,
        ratios.scope_creep_issues,
        ratios.scope_creep_points,
        avg(ratios.planning_accuracy) over recent_sprints as predictability_mean,
        stddev_samp(ratios.planning_accuracy) over recent_sprints as predictability_stddev
    from ratios
    inner join windows
        on ratios.sprint_key = windows.sprint_key
    window recent_sprints as (
        partition by ratios.team order by windows.sprint_start_at, windows.sprint_key
        rows between {{ var('predictability_sprints') - 1 }} preceding and current row
    )
)

select * from final
