-- The published fact: int_incident_facts (models/intermediate/incidents/), under an enforced contract. Goals and the
-- intermediate layer read int_incident_facts; BI tools, the report and the semantic layer read this.
with

incident_facts as (
    select * from {{ ref('int_incident_facts') }}
),

final as (
    select * from incident_facts
)

select * from final
