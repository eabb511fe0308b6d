-- Incident ↔ deployment (docs/architecture.md §6), at most one deployment per incident, by precedence:
--   1. explicit        the incident's text names `deployment <id>` or a deployed SHA prefix (≥ 7 hex chars)
--   2. revert          during the incident a PR whose title matches var `revert_pattern` and whose body says
--                      `Reverts owner/repo#N` was merged (→ the deployment that shipped #N), or a rollback
--                      deployment of the service's repository went out (→ the deployment it rolled back)
--   3. service_window  the last successful production deployment of the service's repository at or before the
--                      incident started, within var `incident_attribution_window_hours`
-- Nothing beyond the window.
with

incidents as (
    select * from {{ ref('int_incidents') }}
),

deployments as (
    select * from {{ ref('int_deployments') }}
),

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

change_deployments as (
    select * from {{ ref('int_change_deployments') }}
),

production_deployments as (
    select * from deployments
    where is_successful_production
),

-- 1. explicit ---------------------------------------------------------------------------------------------
id_reference_texts as (
    select
        incident_id,
        {{ regex_extract_each('reference_text', "'(?i)deployment\\s*#?\\s*([0-9]+)'", 1) }} as referenced_deployment
    from incidents
),

-- (a cast of its own: Spark takes no expression around a set-returning one)
id_references as (
    select
        incident_id,
        cast(referenced_deployment as bigint) as referenced_deployment_id
    from id_reference_texts
),

sha_references as (
    select
        incident_id,
        {{ regex_extract_each('lower(reference_text)', "'\\b[0-9a-f]{7,40}\\b'") }} as sha_prefix
    from incidents
),

explicit_by_id as (
    select
        id_references.incident_id,
        deployments.deployment_id,
        1 as candidate_rank,
        cast(null as timestamp) as event_at,
        cast(null as {{ dbt.type_string() }}) as linked_pull_request_key,
        cast(null as bigint) as linked_deployment_id
    from id_references
    inner join deployments
        on id_references.referenced_deployment_id = deployments.deployment_id
),

explicit_by_sha as (
    select
        sha_references.incident_id,
        deployments.deployment_id,
        -- prefer the deployment that changed production in the service's repository before the incident
        2 as candidate_rank,
        deployments.deployed_at as event_at,
        cast(null as {{ dbt.type_string() }}) as linked_pull_request_key,
        cast(null as bigint) as linked_deployment_id,
        deployments.is_successful_production,
        deployments.repository = incidents.repository as is_same_repository,
        deployments.deployed_at <= incidents.started_at as is_before_start
    from sha_references
    inner join incidents
        on sha_references.incident_id = incidents.incident_id
    inner join deployments
        on {{ has_prefix('lower(deployments.sha)', 'sha_references.sha_prefix') }}
),

explicit_by_sha_first as (
    {{ dedupe(
        'explicit_by_sha',
        'incident_id',
        'coalesce(is_successful_production, false) desc, coalesce(is_same_repository, false) desc,
            coalesce(is_before_start, false) desc, event_at desc nulls last, deployment_id'
    ) }}
),

explicit_by_sha_best as (
    select
        incident_id,
        deployment_id,
        candidate_rank,
        event_at,
        linked_pull_request_key,
        linked_deployment_id
    from explicit_by_sha_first
),

explicit as (
    select * from explicit_by_id
    union all
    select * from explicit_by_sha_best
),

-- 2. revert -----------------------------------------------------------------------------------------------
revert_pull_requests as (
    select
        pull_request_key,
        source_system,
        merged_at,
        {{ regex_extract('body', "'(?i)reverts\\s+([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#([0-9]+)'", 1) }}
            as reverted_repository,
        {{ regex_extract('body', "'(?i)reverts\\s+([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#([0-9]+)'", 2) }}
            as reverted_number
    from pull_requests
    where merged_at is not null
        and {{ matches('title', var('revert_pattern')) }}
),

reverted_changes as (
    select
        revert_pull_requests.pull_request_key as revert_pull_request_key,
        revert_pull_requests.merged_at,
        change_deployments.deployment_id,
        change_deployments.repository,
        change_deployments.deployed_at
    from revert_pull_requests
    inner join change_deployments
        on change_deployments.pull_request_key = revert_pull_requests.source_system || ':'
        || revert_pull_requests.reverted_repository || '#' || revert_pull_requests.reverted_number
    where revert_pull_requests.reverted_number <> ''
),

revert_by_pull_request as (
    select
        incidents.incident_id,
        reverted_changes.deployment_id,
        3 as candidate_rank,
        reverted_changes.merged_at as event_at,
        reverted_changes.revert_pull_request_key as linked_pull_request_key,
        cast(null as bigint) as linked_deployment_id
    from incidents
    inner join reverted_changes
        on incidents.repository = reverted_changes.repository
        and reverted_changes.merged_at >= incidents.started_at
        and (incidents.resolved_at is null or reverted_changes.merged_at <= incidents.resolved_at)
        and reverted_changes.deployed_at <= incidents.started_at
),

revert_by_rollback as (
    select
        incidents.incident_id,
        rolled_back.deployment_id,
        3 as candidate_rank,
        rollback.deployed_at as event_at,
        cast(null as {{ dbt.type_string() }}) as linked_pull_request_key,
        rollback.deployment_id as linked_deployment_id
    from incidents
    inner join production_deployments as rollback
        on incidents.repository = rollback.repository
        and rollback.is_rollback
        and rollback.deployed_at >= incidents.started_at
        and (incidents.resolved_at is null or rollback.deployed_at <= incidents.resolved_at)
    inner join production_deployments as rolled_back
        on rollback.rolled_back_deployment_id = rolled_back.deployment_id
        and rolled_back.deployed_at <= incidents.started_at
),

-- 3. service_window ---------------------------------------------------------------------------------------
service_window as (
    select
        incidents.incident_id,
        production_deployments.deployment_id,
        4 as candidate_rank,
        production_deployments.deployed_at as event_at,
        cast(null as {{ dbt.type_string() }}) as linked_pull_request_key,
        cast(null as bigint) as linked_deployment_id
    from incidents
    inner join production_deployments
        on incidents.repository = production_deployments.repository
        and production_deployments.deployed_at <= incidents.started_at
        and production_deployments.deployed_at
        >= {{ dbt.dateadd('hour', -1 * var('incident_attribution_window_hours'), 'incidents.started_at') }}
),

candidates as (
    select
        *,
        'explicit' as link_method
    from explicit
    union all
    select
        *,
        'revert' as link_method
    from revert_by_pull_request
    union all
    select
        *,
        'revert' as link_method
    from revert_by_rollback
    union all
    select
        *,
        'service_window' as link_method
    from service_window
),

-- within a method: the earliest revert/rollback, the latest deployment in the window
chosen as (
    {{ dedupe(
        'candidates',
        'incident_id',
        "candidate_rank, case when link_method = 'revert' then event_at end asc nulls last,
            case when link_method = 'service_window' then event_at end desc nulls last, deployment_id"
    ) }}
),

final as (
    select
        -- ids
        chosen.incident_id,
        chosen.deployment_id,
        -- correlation
        chosen.link_method,
        chosen.linked_pull_request_key,
        chosen.linked_deployment_id,
        -- timestamps
        incidents.started_at,
        deployments.deployed_at,
        -- lineage
        incidents.source_system
    from chosen
    inner join incidents
        on chosen.incident_id = incidents.incident_id
    inner join deployments
        on chosen.deployment_id = deployments.deployment_id
)

select * from final
