with

source as (
    select * from {{ source('jira', 'statuses') }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as status_id,
        -- text
        name as status_name,
        untranslated_name,
        category_key as status_category_key,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

deduplicated as (
    {{ latest_version('renamed', 'status_id', 'loaded_by') }}
)

select * from deduplicated
