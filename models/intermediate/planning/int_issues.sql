{{ config(
    materialized=incremental_materialization(), incremental_strategy='append', on_schema_change='sync_all_columns',
    incremental_fingerprint_data={'stg_jira__statuses': ['status_id', 'status_category_key']},
    pre_hook="{{ delete_changed_issues() }}", post_hook="{{ record_incremental_state(issue_staging()) }}"
) }}
-- depends_on: {{ ref('stg_jira__issue_changelog_items') }}
-- depends_on: {{ ref('stg_jira__statuses') }}
-- Incremental by issue, as int_issue_transitions (whose moves give `started_at` and `done_at`, so the same
-- status-category fingerprint): an issue is recomputed when it or any of its changelog items was loaded since
-- the last run. Its team comes from seeds only (project_teams; repository_teams through int_repositories), which
-- are in the fingerprint: a project or repository moving team recomputes every issue.
with

{%- if is_incremental() %}

changed as (
    {{ changed_issues() }}
),
{%- endif %}

jira_issues as (
    select * from {{ ref('stg_jira__issues') }}
    {%- if is_incremental() %}
    where 'jira:' || issue_id in (select * from changed)
    {%- endif %}
),

github_issues as (
    select * from {{ ref('stg_github__issues') }}
    {%- if is_incremental() %}
    where 'github:' || cast(issue_id as {{ dbt.type_string() }}) in (select * from changed)
    {%- endif %}
),

transitions as (
    select * from {{ ref('int_issue_transitions') }}
    {%- if is_incremental() %}
    where source_system || ':' || issue_id in (select * from changed)
    {%- endif %}
),

project_teams as (
    select * from {{ ref('project_teams') }}
),

repositories as (
    select * from {{ ref('int_repositories') }}
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
        due_date,
        -- lineage
        'jira' as source_system
    from jira_issues
),

-- GitHub issues have no status workflow: open is `todo`; closed is `done`, unless closed as not planned or
-- as a duplicate (`cancelled`: closed, but no work was delivered)
github as (
    select
        -- ids
        'github:' || repository || '#' || cast(issue_number as {{ dbt.type_string() }}) as issue_key,
        cast(issue_id as {{ dbt.type_string() }}) as issue_id,
        repository || '#' || cast(issue_number as {{ dbt.type_string() }}) as issue_ref,
        repository as project,
        cast(null as {{ dbt.type_string() }}) as parent_issue_key,
        -- text
        title,
        'issue' as issue_type,
        false as is_subtask,
        state as status_name,
        case
            when state = 'open' then 'todo'
            when state_reason in ('not_planned', 'duplicate') then 'cancelled'
            else 'done'
        end as status,
        cast(null as {{ dbt.type_string() }}) as priority,
        state_reason as resolution,
        labels,
        cast(null as {{ dbt.type_float() }}) as story_points,
        -- people
        {{ person_key('assignee_login') }} as assignee_key,
        assignee_login as assignee_account_id,
        -- timestamps
        created_at,
        updated_at,
        closed_at as resolved_at,
        -- GitHub issues have no due date: their milestone's, if it has one
        milestone_due_on as due_date,
        -- lineage
        'github' as source_system
    from github_issues
),

unioned as (
    select * from jira
    union all
    select * from github
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
        -- Jira issues count for their project's team, GitHub issues for their repository's
        coalesce(project_teams.team, repositories.team, 'unassigned') as team,
        first_moves.started_at,
        case
            when unioned.status = 'done' then coalesce(first_moves.last_done_at, unioned.resolved_at)
        end as done_at
    from unioned
    left join first_moves
        on unioned.issue_key = first_moves.issue_key
    -- each condition compares the two sides (a tool's rows only meet its own mapping): a hash join, where a
    -- condition on one side alone made DuckDB compare every issue with every row of the mapping
    left join project_teams
        on project_teams.project = case when unioned.source_system = 'jira' then unioned.project end
    left join repositories
        on repositories.repository = case when unioned.source_system = 'github' then unioned.project end
)

select * from final
