{%- set key = 'issue_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('github', 'issues') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as issue_id,
        cast(repository as {{ dbt.type_string() }}) as repository,
        cast(number as bigint) as issue_number,
        -- text
        title,
        body,
        state,
        state_reason,
        label_names as labels,
        milestone_title,
        cast({{ to_utc('milestone_due_on') }} as date) as milestone_due_on,
        -- people
        user_login as author_login,
        assignee_login,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('closed_at') }} as closed_at,
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
