-- Improvement actions filed where teams work: every Jira or GitHub issue labelled var `improvement_action_label`.
-- The opportunity is the issue's title; the owner is its assignee's role (seeds/people_roles.csv, else
-- `team member`; `unassigned` without an assignee), never a name; due is Jira's due date or the GitHub milestone's;
-- completed is the resolution date (an issue closed as not planned is no completed action); started is when the
-- issue was filed; the goal comes from a `goal:<goal_id>` label.
with

issues as (
    select * from {{ ref('int_issues') }}
),

people as (
    select * from {{ ref('int_people') }}
),

people_roles as (
    select * from {{ ref('people_roles') }}
),

labelled as (
    select
        *,
        -- labels are space-separated (Jira) or comma-separated (GitHub)
        nullif({{ regex_extract('labels', "'(^|[ ,])goal:([^ ,]+)'", 2) }}, '') as labelled_goal_id
    from issues
    where {{ matches('labels', '(^|[ ,])' ~ var('improvement_action_label') ~ '([ ,]|$)') }}
),

final as (
    select
        -- ids
        labelled.source_system || ':' || labelled.issue_ref as action_id,
        labelled.labelled_goal_id as goal_id,
        labelled.team as issue_team,
        -- text
        labelled.title as opportunity,
        cast(null as {{ dbt.type_string() }}) as resolution,
        case
            when labelled.assignee_account_id is null then 'unassigned'
            else coalesce(people_roles.role, 'team member')
        end as owner_role,
        -- dates
        labelled.due_date,
        case when labelled.status = 'done' then cast(labelled.resolved_at as date) end as completed_on,
        cast(labelled.created_at as date) as started_on,
        -- lineage
        labelled.source_system
    from labelled
    left join people
        on labelled.source_system || ':' || labelled.assignee_account_id = people.identity_key
    left join people_roles
        on people.person_id = people_roles.person
)

select * from final
