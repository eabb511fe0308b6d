with

repositories as (
    select * from {{ ref('int_repositories') }}
),

final as (
    select
        -- ids
        repository,
        owner,
        repository_name,
        team,
        -- flags
        is_team_mapped,
        -- lineage
        source_system
    from repositories
)

select * from final
