-- The published fact: int_incident_facts (models/intermediate/incidents/), under an enforced contract. Goals and the
-- intermediate layer read int_incident_facts; BI tools, the report and the semantic layer read this.
with

incident_facts as (
    select * from {{ ref('int_incident_facts') }}
),

final as (
    select
        incident_id,
        service,
        repository,
        team,
        caused_by_deployment_id,
        link_method,
        title,
        status,
        urgency,
        started_at,
        acknowledged_at,
        resolved_at,
        hours_to_acknowledge,
        hours_to_restore,
        hours_to_detect,
        source_system
    from incident_facts
)

select * from final
