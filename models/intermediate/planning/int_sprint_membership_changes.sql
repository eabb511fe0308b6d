-- Every move of an issue into or out of a sprint, from the sprint field's change history (`from` / `to` hold
-- comma-separated sprint ids). An issue whose first recorded move for a sprint is out of it, or that is in the
-- sprint field with no recorded move at all, was put in the sprint when it was created: that entry is dated
-- at its creation (`change_source = created`).
with

changes as (
    select * from {{ ref('stg_jira__issue_changelog_items') }}
),

jira_issues as (
    select * from {{ ref('stg_jira__issues') }}
),

sprints as (
    select * from {{ ref('int_sprints') }}
),

sprint_change_ids as (
    {{ sprint_change_ids('changes') }}
),

jira_sprints as (
    select
        sprint_key,
        sprint_id
    from sprints
    where source_system = 'jira'
),

-- a known sprint whose id is on one side of a change only: in `to` (added) or in `from` (removed)
moves as (
    select
        sprint_change_ids.issue_id,
        jira_sprints.sprint_key,
        jira_sprints.sprint_id,
        sprint_change_ids.history_id || ':' || cast(sprint_change_ids.item_index as {{ dbt.type_string() }})
            as change_id,
        sprint_change_ids.changed_at,
        max(case when sprint_change_ids.side = 'after' then 'added' else 'removed' end) as change
    from sprint_change_ids
    inner join jira_sprints
        on sprint_change_ids.sprint_id = jira_sprints.sprint_id
    group by
        sprint_change_ids.issue_id,
        jira_sprints.sprint_key,
        jira_sprints.sprint_id,
        sprint_change_ids.history_id,
        sprint_change_ids.item_index,
        sprint_change_ids.changed_at
    having count(distinct sprint_change_ids.side) = 1
),

first_moves as (
    select
        issue_id,
        sprint_key,
        sprint_id,
        change,
        row_number() over (partition by issue_id, sprint_key order by changed_at, change_id) as move_number
    from moves
),

sprint_field_ids as (
    select
        issue_id,
        {{ explode(split_to_array('sprint_ids', "' '")) }} as sprint_id
    from jira_issues
    where sprint_ids is not null
),

current_members as (
    select distinct
        sprint_field_ids.issue_id,
        jira_sprints.sprint_key,
        jira_sprints.sprint_id
    from sprint_field_ids
    inner join jira_sprints
        on sprint_field_ids.sprint_id = jira_sprints.sprint_id
),

created_in_sprint as (
    select
        issue_id,
        sprint_key,
        sprint_id
    from first_moves
    where move_number = 1 and change = 'removed'
    union
    select
        current_members.issue_id,
        current_members.sprint_key,
        current_members.sprint_id
    from current_members
    left join moves
        on current_members.issue_id = moves.issue_id
        and current_members.sprint_key = moves.sprint_key
    where moves.issue_id is null
),

all_moves as (
    select
        issue_id,
        sprint_key,
        sprint_id,
        change_id,
        changed_at,
        change,
        'changelog' as change_source
    from moves
    union all
    select
        created_in_sprint.issue_id,
        created_in_sprint.sprint_key,
        created_in_sprint.sprint_id,
        'created',
        jira_issues.created_at,
        'added',
        'created'
    from created_in_sprint
    inner join jira_issues
        on created_in_sprint.issue_id = jira_issues.issue_id
),

final as (
    select
        -- ids
        'jira:' || jira_issues.issue_key || ':' || all_moves.sprint_id || ':' || all_moves.change_id
            as membership_change_key,
        'jira:' || jira_issues.issue_key as issue_key,
        all_moves.sprint_key,
        -- change
        all_moves.change,
        all_moves.change_source,
        -- timestamps
        all_moves.changed_at,
        -- lineage
        'jira' as source_system
    from all_moves
    inner join jira_issues
        on all_moves.issue_id = jira_issues.issue_id
)

select * from final
