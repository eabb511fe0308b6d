with

teams as (
    select * from {{ ref('teams') }}
),

repositories as (
    select * from {{ ref('int_repositories') }}
),

services as (
    select * from {{ ref('int_services') }}
),

all_teams as (
    select team from teams
    union
    select team from repositories
    union
    select team from services
    union
    select 'unassigned' as team
),

repository_counts as (
    select
        team,
        count(*) as repository_count
    from repositories
    group by team
),

service_counts as (
    select
        team,
        count(*) as service_count
    from services
    group by team
),

final as (
    select
        -- ids
        all_teams.team,
        teams.parent_team,
        -- text
        teams.description,
        -- measures
        coalesce(repository_counts.repository_count, 0) as repository_count,
        coalesce(service_counts.service_count, 0) as service_count,
        -- flags
        teams.team is not null as is_seeded
    from all_teams
    left join teams
        on all_teams.team = teams.team
    left join repository_counts
        on all_teams.team = repository_counts.team
    left join service_counts
        on all_teams.team = service_counts.team
)

select * from final
