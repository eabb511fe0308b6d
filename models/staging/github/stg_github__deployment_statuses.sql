{%- set key = 'deployment_status_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('github', 'deployment_statuses') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as deployment_status_id,
        cast(deployment_id as bigint) as deployment_id,
        cast(repository as {{ dbt.type_string() }}) as repository,
        -- text
        state,
        environment,
        description,
        creator_login,
        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
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
