with

repository_teams as (
    select * from {{ ref('repository_teams') }}
),

service_teams as (
    select * from {{ ref('service_teams') }}
),

pull_requests as (
    select * from {{ ref('stg_github__pull_requests') }}
),

commits as (
    select * from {{ ref('stg_github__commits') }}
),

deployments as (
    select * from {{ ref('stg_github__deployments') }}
),

workflow_runs as (
    select * from {{ ref('stg_github_actions__workflow_runs') }}
),

gitlab_merge_requests as (
    select * from {{ ref('stg_gitlab__merge_requests') }}
),

gitlab_pipelines as (
    select * from {{ ref('stg_gitlab__pipelines') }}
),

gitlab_deployments as (
    select * from {{ ref('stg_gitlab__deployments') }}
),

jenkins_builds as (
    select * from {{ ref('stg_jenkins__builds') }}
),

observed as (
    select
        repository,
        'github' as source_system
    from pull_requests
    union
    select
        repository,
        'github' as source_system
    from commits
    union
    select
        repository,
        'github' as source_system
    from deployments
    union
    select
        repository,
        'github' as source_system
    from workflow_runs
    union
    select
        repository,
        'gitlab' as source_system
    from gitlab_merge_requests
    union
    select
        repository,
        'gitlab' as source_system
    from gitlab_pipelines
    union
    select
        repository,
        'gitlab' as source_system
    from gitlab_deployments
    union
    select
        repository,
        'jenkins' as source_system
    from jenkins_builds
    where repository is not null
),

observed_systems as (
    select
        repository,
        min(source_system) as source_system
    from observed
    group by repository
),

all_repositories as (
    select repository from repository_teams
    union
    select repository from service_teams
    where repository is not null
    union
    select repository from observed
    where repository is not null
),

final as (
    select
        -- ids
        all_repositories.repository,
        nullif({{ regex_extract('all_repositories.repository', "'^([^/]+)/'", 1) }}, '') as owner,
        {{ regex_extract('all_repositories.repository', "'[^/]+$'") }} as repository_name,
        -- ownership
        coalesce(repository_teams.team, 'unassigned') as team,
        repository_teams.team is not null as is_team_mapped,
        -- lineage
        coalesce(observed_systems.source_system, 'seed') as source_system
    from all_repositories
    left join repository_teams
        on all_repositories.repository = repository_teams.repository
    left join observed_systems
        on all_repositories.repository = observed_systems.repository
)

select * from final
