-- The published fact: int_deployment_facts (models/intermediate/delivery/), under an enforced contract. Goals and the
-- intermediate layer read int_deployment_facts; BI tools, the report and the semantic layer read this.
with

deployment_facts as (
    select * from {{ ref('int_deployment_facts') }}
),

final as (
    select
        deployment_id,
        repository,
        service,
        team,
        environment,
        sha,
        is_production,
        status,
        created_at,
        deployed_at,
        change_count,
        incident_count,
        is_rollback,
        is_rolled_back,
        is_failure,
        is_rework,
        source_system
    from deployment_facts
)

select * from final
