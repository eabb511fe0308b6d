with

changes as (
    select * from {{ ref('stg_jira__issue_changelog_items') }}
),

jira_issues as (
    select * from {{ ref('stg_jira__issues') }}
),

issues as (
    select * from {{ ref('int_issues') }}
),

sprints as (
    select * from {{ ref('int_sprints') }}
),

-- the sprint ids before and after each change of the sprint field
sprint_change_ids as (
    {{ sprint_change_ids('changes') }}
),

-- a sprint id in the change's `to` but not its `from` was added; in `from` but not `to`, removed
events as (
    select
        this_side.issue_id,
        this_side.changed_at,
        this_side.sprint_id,
        case this_side.side when 'after' then 'added' else 'removed' end as event
    from sprint_change_ids as this_side
    where not exists (
            select 1
            from sprint_change_ids as other_side
            where other_side.issue_id = this_side.issue_id
                and other_side.history_id = this_side.history_id
                and other_side.item_index = this_side.item_index
                and other_side.side <> this_side.side
                and other_side.sprint_id = this_side.sprint_id
        )
),

current_members as (
    select
        issue_id,
        {{ explode(split_to_array('sprint_ids', "' '")) }} as sprint_id
    from jira_issues
    where sprint_ids is not null
),

pairs as (
    select
        issue_id,
        sprint_id
    from events
    union
    select
        issue_id,
        sprint_id
    from current_members
),

history as (
    select
        pairs.issue_id,
        pairs.sprint_id,
        min(case when events.event = 'added' then events.changed_at end) as first_added_at,
        max(case when events.event = 'removed' then events.changed_at end) as last_removed_at,
        {{ arg_max('events.event', 'events.changed_at') }} as last_event
    from pairs
    left join events
        on pairs.issue_id = events.issue_id
        and pairs.sprint_id = events.sprint_id
    group by pairs.issue_id, pairs.sprint_id
),

jira as (
    select
        -- ids
        'jira:' || jira_issues.issue_key as issue_key,
        'jira:' || history.sprint_id as sprint_key,
        -- membership
        coalesce(history.first_added_at, jira_issues.created_at) as added_at,
        case when coalesce(history.last_event, 'added') = 'removed' then history.last_removed_at end as removed_at,
        current_members.sprint_id is not null as is_in_sprint_field,
        'jira' as source_system
    from history
    inner join jira_issues
        on history.issue_id = jira_issues.issue_id
    left join current_members
        on history.issue_id = current_members.issue_id
        and history.sprint_id = current_members.sprint_id
),

final as (
    select
        jira.issue_key,
        jira.sprint_key,
        jira.added_at,
        jira.removed_at,
        jira.is_in_sprint_field,
        -- planning
        coalesce(jira.added_at <= sprints.started_at, false) as is_committed,
        coalesce(jira.added_at > sprints.started_at, false) as is_added_mid_sprint,
        jira.removed_at is not null as is_removed,
        coalesce(
            jira.removed_at is null
            and issues.done_at >= sprints.started_at
            and issues.done_at <= coalesce(sprints.completed_at, sprints.ends_at),
            false
        ) as is_completed_in_sprint,
        jira.source_system
    from jira
    inner join issues
        on jira.issue_key = issues.issue_key
    left join sprints
        on jira.sprint_key = sprints.sprint_key
)

select * from final
