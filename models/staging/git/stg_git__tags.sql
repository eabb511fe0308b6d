with

source as (
    select * from {{ source('git', 'tags') }}
),

renamed as (
    select
        -- ids
        cast(repository as {{ dbt.type_string() }}) as repository,
        name as tag_name,
        sha,
        -- text
        subject,
        coalesce(is_annotated, false) as is_annotated,
        -- timestamps
        {{ to_utc('tagged_at') }} as tagged_at,
        -- load metadata
        _dlt_load_id as loaded_by
    from source
),

deduplicated as (
    {{ latest_version('renamed', 'repository, tag_name', 'tagged_at') }}
)

select * from deduplicated
