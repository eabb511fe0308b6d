with

jira_issues as (
    select * from {{ ref('stg_jira__issues') }}
),

transitions as (
    select * from {{ ref('int_issue_transitions') }}
),

project_teams as (
    select * from {{ ref('project_teams') }}
),

jira as (
    select
        -- ids
        'jira:' || issue_key as issue_key,
        issue_id,
        issue_key as issue_ref,
        project_key as project,
        'jira:' || parent_key as parent_issue_key,
        -- text
        title,
        issue_type,
        is_subtask,
        status_name,
        {{ issue_status_category('status_category_key') }} as status,
        priority,
        resolution,
        labels,
        story_points,
        -- people
        {{ person_key('assignee_account_id') }} as assignee_key,
        assignee_account_id,
        -- timestamps
        created_at,
        updated_at,
        resolved_at,
        -- lineage
        'jira' as source_system
    from jira_issues
),

unioned as (
    select * from jira
),

first_moves as (
    select
        issue_key,
        min(case when to_category = 'in_progress' then transitioned_at end) as started_at,
        max(case when to_category = 'done' and from_category <> 'done' then transitioned_at end) as last_done_at
    from transitions
    group by issue_key
),

final as (
    select
        unioned.*,
        coalesce(project_teams.team, 'unassigned') as team,
        first_moves.started_at,
        case
            when unioned.status = 'done' then coalesce(first_moves.last_done_at, unioned.resolved_at)
        end as done_at
    from unioned
    left join first_moves
        on unioned.issue_key = first_moves.issue_key
    left join project_teams
        on unioned.project = project_teams.project
)

select * from final
