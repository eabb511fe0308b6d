{%- set key = 'note_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('gitlab', 'merge_request_notes') }}
),

renamed as (
    select
        -- ids
        cast(id as bigint) as note_id,
        cast(project as {{ dbt.type_string() }}) as repository,
        cast(merge_request_iid as bigint) as pull_request_number,
        -- text
        body,
        author_username as author_login,
        coalesce(is_system, false) as is_system,
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
