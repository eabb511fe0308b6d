with

deployments as (
    select * from {{ ref('int_deployments') }}
),

repositories as (
    select * from {{ ref('int_repositories') }}
),

services as (
    select * from {{ ref('int_services') }}
),

change_deployments as (
    select * from {{ ref('int_change_deployments') }}
),

incident_deployments as (
    select * from {{ ref('int_incident_deployments') }}
),

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

-- the service a repository deploys: a seed-mapped service first, then the same-name service
repository_service_candidates as (
    select
        services.repository,
        services.service,
        services.is_team_mapped,
        services.service = repositories.repository_name as is_same_name
    from services
    inner join repositories
        on services.repository = repositories.repository
),

-- pull requests that resolved an incident
incident_fixes as (
    select distinct linked_pull_request_key
    from incident_deployments
    where linked_pull_request_key is not null
),

repository_services as (
    {{ dedupe('repository_service_candidates', 'repository', 'is_team_mapped desc, is_same_name desc, service') }}
),

change_summary as (
    select
        change_deployments.deployment_id,
        count(*) as change_count,
        -- ships a hotfix (title or branch matches var `hotfix_pattern`) or a change that resolved an incident
        max(
            case
                when pull_requests.is_hotfix then 1
                when incident_fixes.linked_pull_request_key is not null then 1
                else 0
            end
        ) = 1 as ships_unplanned_fix
    from change_deployments
    inner join pull_requests
        on change_deployments.pull_request_key = pull_requests.pull_request_key
    left join incident_fixes
        on change_deployments.pull_request_key = incident_fixes.linked_pull_request_key
    group by change_deployments.deployment_id
),

incident_summary as (
    select
        deployment_id,
        count(*) as incident_count
    from incident_deployments
    group by deployment_id
),

final as (
    select
        -- ids
        deployments.deployment_id,
        deployments.repository,
        coalesce(repository_services.service, repositories.repository_name) as service,
        coalesce(repositories.team, 'unassigned') as team,
        deployments.environment,
        deployments.sha,
        -- status
        deployments.is_production,
        deployments.status,
        -- timestamps
        deployments.created_at,
        deployments.deployed_at,
        -- measures
        coalesce(change_summary.change_count, 0) as change_count,
        coalesce(incident_summary.incident_count, 0) as incident_count,
        -- flags
        deployments.is_rollback,
        deployments.is_rolled_back,
        deployments.is_successful_production
            and (coalesce(incident_summary.incident_count, 0) > 0 or deployments.is_rolled_back) as is_failure,
        deployments.is_production
            and (coalesce(change_summary.ships_unplanned_fix, false) or deployments.is_rollback) as is_rework,
        -- lineage
        deployments.source_system
    from deployments
    left join repositories
        on deployments.repository = repositories.repository
    left join repository_services
        on deployments.repository = repository_services.repository
    left join change_summary
        on deployments.deployment_id = change_summary.deployment_id
    left join incident_summary
        on deployments.deployment_id = incident_summary.deployment_id
)

select * from final
