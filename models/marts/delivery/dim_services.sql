with

services as (
    select * from {{ ref('int_services') }}
),

final as (
    select
        -- ids
        service,
        repository,
        team,
        -- flags
        is_team_mapped,
        -- lineage
        source_system
    from services
)

select * from final
