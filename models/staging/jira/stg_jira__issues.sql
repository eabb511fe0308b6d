{%- set key = 'issue_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('jira', 'issues') }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as issue_id,
        key as issue_key,
        project_key,
        parent_key,
        sprint_ids,
        -- text
        summary as title,
        issue_type,
        coalesce(is_subtask, false) as is_subtask,
        status_id,
        status_name,
        status_category_key,
        priority,
        resolution,
        labels,
        cast(story_points as {{ type_double() }}) as story_points,
        -- people
        assignee_account_id,
        assignee_email,
        assignee_name,
        reporter_account_id,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('resolved_at') }} as resolved_at,
        cast(due_date as date) as due_date,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'updated_at') }}
)

select * from deduplicated
