-- The published fact: int_deployment_facts (models/intermediate/delivery/), under an enforced contract. Goals and the
-- intermediate layer read int_deployment_facts; BI tools, the report and the semantic layer read this.
with

deployment_facts as (
    select * from {{ ref('int_deployment_facts') }}
),

final as (
    select * from deployment_facts
)

select * from final
