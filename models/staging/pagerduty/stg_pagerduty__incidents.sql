{%- set key = 'incident_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('pagerduty', 'incidents') }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as incident_id,
        incident_number,
        service_id,
        incident_key as dedup_key,
        -- text
        title,
        description,
        status,
        urgency,
        service_name,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('last_status_change_at') }} as last_status_change_at,
        {{ to_utc('resolved_at') }} as resolved_at,
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
