{%- set key = 'issue_id, history_id, item_index' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('jira', 'issue_changelog_items') }}
),

renamed as (
    select
        -- ids
        cast(issue_id as {{ dbt.type_string() }}) as issue_id,
        cast(history_id as {{ dbt.type_string() }}) as history_id,
        item_index,
        -- change
        field as field_name,
        field_id,
        from_value,
        from_string,
        to_value,
        to_string,
        author_account_id,
        -- timestamps
        {{ to_utc('created_at') }} as changed_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'changed_at') }}
)

select * from deduplicated
