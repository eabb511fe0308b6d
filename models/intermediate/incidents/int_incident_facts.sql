with

incidents as (
    select * from {{ ref('int_incidents') }}
),

incident_deployments as (
    select * from {{ ref('int_incident_deployments') }}
),

final as (
    select
        -- ids
        incidents.incident_id,
        incidents.service,
        incidents.repository,
        incidents.team,
        incident_deployments.deployment_id as caused_by_deployment_id,
        incident_deployments.link_method,
        -- text
        incidents.title,
        incidents.status,
        incidents.urgency,
        -- timestamps
        incidents.started_at,
        incidents.acknowledged_at,
        incidents.resolved_at,
        -- measures
        {{ hours_between('incidents.started_at', 'incidents.acknowledged_at') }} as hours_to_acknowledge,
        {{ hours_between('incidents.started_at', 'incidents.resolved_at') }} as hours_to_restore,
        {{ hours_between('incident_deployments.deployed_at', 'incidents.started_at') }} as hours_to_detect,
        -- lineage
        incidents.source_system
    from incidents
    left join incident_deployments
        on incidents.incident_id = incident_deployments.incident_id
)

select * from final
