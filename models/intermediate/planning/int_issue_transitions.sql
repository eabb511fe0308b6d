{{ config(
    materialized=incremental_materialization(), incremental_strategy='append', on_schema_change='sync_all_columns',
    incremental_fingerprint_data={'stg_jira__statuses': ['status_id', 'status_category_key']},
    pre_hook="{{ delete_changed_issues() }}", post_hook="{{ record_incremental_state(issue_staging()) }}"
) }}
-- Incremental by issue (macros/incremental.sql): every transition of an issue is deleted and recomputed when the
-- issue or any of its changelog items was loaded since the last run; a status moved to another category (the
-- status list's categories are part of the fingerprint) recomputes every issue.
with

{%- if is_incremental() %}

changed as (
    {{ changed_issues() }}
),
{%- endif %}

changes as (
    select * from {{ ref('stg_jira__issue_changelog_items') }}
),

issues as (
    select * from {{ ref('stg_jira__issues') }}
),

statuses as (
    select * from {{ ref('stg_jira__statuses') }}
),

github_issues as (
    select * from {{ ref('stg_github__issues') }}
),

jira_status_changes as (
    select * from changes
    where (field_id = 'status' or (field_id is null and lower(field_name) = 'status'))
    {%- if is_incremental() %}
        and 'jira:' || issue_id in (select * from changed)
    {%- endif %}
),

jira as (
    select
        -- ids
        'jira:' || issues.issue_key || ':' || jira_status_changes.history_id || ':'
        || cast(jira_status_changes.item_index as {{ dbt.type_string() }}) as transition_key,
        'jira:' || issues.issue_key as issue_key,
        issues.issue_id,
        -- from / to (categories from the site's status list, by id)
        jira_status_changes.from_value as from_status_id,
        jira_status_changes.from_string as from_status_name,
        {{ issue_status_category('from_statuses.status_category_key') }} as from_category,
        jira_status_changes.to_value as to_status_id,
        jira_status_changes.to_string as to_status_name,
        {{ issue_status_category('to_statuses.status_category_key') }} as to_category,
        -- people
        {{ person_key('jira_status_changes.author_account_id') }} as author_key,
        -- timestamps
        jira_status_changes.changed_at as transitioned_at,
        -- lineage
        'jira' as source_system
    from jira_status_changes
    inner join issues
        on jira_status_changes.issue_id = issues.issue_id
    left join statuses as from_statuses
        on jira_status_changes.from_value = from_statuses.status_id
    left join statuses as to_statuses
        on jira_status_changes.to_value = to_statuses.status_id
),

-- GitHub's issue list only tells the latest close: one move from `todo` to `done` (or `cancelled` when closed
-- as not planned / duplicate) at `closed_at`; an issue reopened since has no `closed_at` and no move here
github as (
    select
        -- ids
        'github:' || repository || '#' || cast(issue_number as {{ dbt.type_string() }}) || ':closed' as transition_key,
        'github:' || repository || '#' || cast(issue_number as {{ dbt.type_string() }}) as issue_key,
        cast(issue_id as {{ dbt.type_string() }}) as issue_id,
        -- from / to
        cast(null as {{ dbt.type_string() }}) as from_status_id,
        'open' as from_status_name,
        'todo' as from_category,
        cast(null as {{ dbt.type_string() }}) as to_status_id,
        'closed' as to_status_name,
        case when state_reason in ('not_planned', 'duplicate') then 'cancelled' else 'done' end as to_category,
        -- people
        cast(null as {{ dbt.type_string() }}) as author_key,
        -- timestamps
        closed_at as transitioned_at,
        -- lineage
        'github' as source_system
    from github_issues
    where state = 'closed' and closed_at is not null
    {%- if is_incremental() %}
        and 'github:' || cast(issue_id as {{ dbt.type_string() }}) in (select * from changed)
    {%- endif %}
),

final as (
    select * from jira
    union all
    select * from github
)

select * from final
