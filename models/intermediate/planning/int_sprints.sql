with

jira_sprints as (
    select * from {{ ref('stg_jira__sprints') }}
),

jira as (
    select
        -- ids
        'jira:' || cast(sprint_id as {{ dbt.type_string() }}) as sprint_key,
        cast(sprint_id as {{ dbt.type_string() }}) as sprint_id,
        cast(board_id as {{ dbt.type_string() }}) as board_id,
        -- text
        sprint_name,
        state,
        goal,
        -- timestamps
        started_at,
        ends_at,
        completed_at,
        -- lineage
        'jira' as source_system
    from jira_sprints
),

final as (
    select * from jira
)

select * from final
