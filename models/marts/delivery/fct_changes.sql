-- The published fact: int_change_facts (models/intermediate/delivery/), under an enforced contract. Goals and the
-- intermediate layer read int_change_facts; BI tools, the report and the semantic layer read this.
with

change_facts as (
    select * from {{ ref('int_change_facts') }}
),

final as (
    select * from change_facts
)

select * from final
