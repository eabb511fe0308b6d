{%- set key = 'log_entry_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('pagerduty', 'log_entries') }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as log_entry_id,
        cast(incident_id as {{ dbt.type_string() }}) as incident_id,
        -- text
        type as log_entry_type,
        summary,
        channel_type,
        channel_summary,
        agent_summary,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ latest_version('versions', key, 'created_at') }}
)

select * from deduplicated
