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

deduplicated as (
    {{ latest_version('renamed', 'deployment_status_id', 'updated_at') }}
)

select * from deduplicated
