-- Services: the service_teams seed, services named by incidents, and one default service per repository
-- (its last path segment) so every deployment has a service.
with

service_teams as (
    select * from {{ ref('service_teams') }}
),

repositories as (
    select * from {{ ref('int_repositories') }}
),

incidents as (
    select * from {{ ref('stg_pagerduty__incidents') }}
),

named_services as (
    select
        service,
        'seed' as source_system
    from service_teams
    union
    select
        service_name as service,
        'pagerduty' as source_system
    from incidents
    where service_name is not null
    union
    select
        repository_name as service,
        'github' as source_system
    from repositories
),

all_services as (
    select
        service,
        -- the seed wins, then the incident tool, then the repository default
        {{ arg_min('source_system', "case source_system when 'seed' then 1 when 'pagerduty' then 2 else 3 end") }}
            as source_system
    from named_services
    group by service
),

-- a service without a seed row maps to the repository of the same name (seed-mapped repositories first)
same_name_candidates as (
    select
        repository_name as service,
        repository,
        team,
        is_team_mapped
    from repositories
),

same_name_repository as (
    {{ dedupe('same_name_candidates', 'service', 'is_team_mapped desc, repository') }}
),

final as (
    select
        -- ids
        all_services.service,
        coalesce(service_teams.repository, same_name_repository.repository) as repository,
        -- ownership
        coalesce(service_teams.team, same_name_repository.team, 'unassigned') as team,
        service_teams.service is not null as is_team_mapped,
        -- lineage
        all_services.source_system
    from all_services
    left join service_teams
        on all_services.service = service_teams.service
    left join same_name_repository
        on all_services.service = same_name_repository.service
)

select * from final
