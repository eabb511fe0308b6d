with

changes as (
    select * from {{ ref('stg_jira__issue_changelog_items') }}
),

issues as (
    select * from {{ ref('stg_jira__issues') }}
),

statuses as (
    select * from {{ ref('stg_jira__statuses') }}
),

jira_status_changes as (
    select * from changes
    where field_id = 'status' or (field_id is null and lower(field_name) = 'status')
),

jira as (
    select
        -- ids
        'jira:' || issues.issue_key || ':' || jira_status_changes.history_id || ':'
            || cast(jira_status_changes.item_index as {{ dbt.type_string() }}) as transition_key,
        'jira:' || issues.issue_key as issue_key,
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

final as (
    select * from jira
)

select * from final
